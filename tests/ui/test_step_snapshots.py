"""Every step's screen at the terminal sizes an operator has: 80x24 (a laptop's default terminal),
120x36 and 160x48, with a fixed session and clock. A change that cuts a number, pushes a button
off the screen or overflows the footer shows up as a changed snapshot here."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from textual.widgets import Input

import wizard.migration_plan
import wizard.store
from screens.app import OnboardApp
from wizard.copy.ledger import CopyLedger, MessageRecord, MessageState
from wizard.imap import ImapServerSettings, save_settings
from wizard.imap.probe import FolderReport, ProbeResult, save_result
from wizard.playbook import Kind, default_playbook
from wizard.profile import example_profile
from wizard.session import create_session
from wizard.store import SessionStore, StepState

SIZES = {"80x24": (80, 24), "120x36": (120, 36), "160x48": (160, 48)}
# Mailboxes of the size a customer has, so a table that cuts a number shows it.
MAILBOXES = {  # source login -> (target, display name, messages, bytes)
    "anna": ("anna@acme.example", "Anna Beispiel", 12_480, 3_456_789_012),
    "bert.mueller": ("bert.mueller@acme.example", "Bert Müller", 987, 123_456_789),
}
KINDS = [step.kind for step in default_playbook()]
NOW = "2026-11-20T09:00:00+00:00"


class FixedDate(date):
    @classmethod
    def today(cls) -> FixedDate:
        return cls(2026, 11, 20)


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(wizard.store, "now_iso", lambda: NOW)
    monkeypatch.setattr(wizard.migration_plan, "now_iso", lambda: NOW)
    # The date fields' defaults and examples are today's.
    monkeypatch.setattr("screens.steps.guided.date", FixedDate)
    monkeypatch.setattr("screens.steps.signoff.date", FixedDate)
    monkeypatch.setattr("screens.steps.confirm.ConfirmBody.today", lambda _self: FixedDate.today())
    yield


def measured(store: SessionStore) -> None:
    """Step 4's evidence: every source mailbox tested and measured, every target there."""
    save_settings(store, ImapServerSettings("imap.acme.example"))  # what step 3 entered
    for login, (_target, _name, messages, size) in MAILBOXES.items():
        inbox = FolderReport("INBOX", "/", (), "", "inbox", "name", True, messages, size)
        result = ProbeResult(
            login,
            "imap.acme.example",
            993,
            True,
            logged_in=True,
            folders=(inbox,),
            sizing_method="status",
        )
        save_result(store, result)
    targets = [
        {
            "mailbox": target,
            "state": "exists",
            "folder_count": 7,
            "message_count": 0,
            "size_bytes": 0,
            "quota_bytes": 50 * 1024**3,
        }
        for target, *_rest in MAILBOXES.values()
    ]
    number = store.playbook.number_of(Kind.CONNECTION_TEST)
    store.add_evidence(
        number, "exchange-mailboxes", "2 target mailboxes exist", {"targets": targets}, ok=True
    )


def copied(store: SessionStore) -> None:
    """The initial copy's ledger and evidence: every message of every mailbox copied."""
    entries = []
    for target, _name, messages, size in MAILBOXES.values():
        rows = [
            MessageRecord(target, "INBOX", 1, uid, MessageState.COPIED, size=size // messages)
            for uid in range(1, messages + 1)
        ]
        CopyLedger(store).record(rows)
        entries.append(
            {"mailbox": target, "state": "done", "messages_total": messages, "bytes_total": size}
        )
    summary = "initial copy: 2 of 2 mailboxes finished"
    store.add_evidence(
        store.playbook.number_of(Kind.COPY), "copy", summary, {"mailboxes": entries}, ok=True
    )


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
@pytest.mark.parametrize("kind", KINDS, ids=[str(k) for k in KINDS])
def test_every_step_at_every_size(
    snap_compare: Any, fixed_clock: None, kind: str, size: tuple[int, int]
) -> None:
    store = create_session("Acme Corp", "acme.example", example_profile(), name="acme")
    store.add_mailboxes([(login, m[0], m[1]) for login, m in MAILBOXES.items()])
    number = store.playbook.number_of(kind)
    numbers = store.playbook.numbers()
    if numbers.index(number) >= numbers.index(store.playbook.number_of(Kind.CONNECTION_TEST)):
        measured(store)  # the connection test has run: its tables have numbers
    if numbers.index(number) >= numbers.index(store.playbook.number_of(Kind.COPY)):
        copied(store)  # ... and so has the initial copy
    for step in store.playbook:  # the steps before this one are done, as in a real walk ...
        if step.number == number:
            break
        if step.kind != Kind.DNS_RECORDS:  # ... but the MX change: its time would start step 12's
            store.set_step_state(step.number, StepState.DONE)  # watch, asking real resolvers
    store.set_current_step(number)

    async def settled(pilot: Any) -> None:  # the planning step's Markdown renders in steps
        for _ in range(3):
            await pilot.pause()
            await pilot.wait_for_scheduled_animations()
        # A blinking cursor is drawn or not by the time the picture is taken: keep it still.
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False
        await pilot.pause()

    assert snap_compare(OnboardApp(store=store), terminal_size=size, run_before=settled)
