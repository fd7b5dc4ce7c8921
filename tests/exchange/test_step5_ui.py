"""Step 5 in the real app: the mailbox table from step 4's evidence, the customer's confirmation
and the cutover date (past days refused, estimated copy time beside it)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from textual.widgets import Checkbox, DataTable, Input, Static

from screens.app import OnboardApp
from screens.step_screen import StepScreen
from screens.steps.confirm import ConfirmBody
from tests.servers import ews
from tests.ui.pilot_helpers import settle, shown, type_text
from wizard.devservers.ews import EwsSandbox
from wizard.exchange.target_mailboxes import check_mailboxes, save_checks
from wizard.profile import example_profile
from wizard.session import create_session
from wizard.store import SessionStore

from .conftest import service_settings

SIZE = (160, 55)
TODAY = date(2026, 11, 25)


@pytest.fixture
def store(ews_sandbox: EwsSandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[SessionStore]:
    monkeypatch.setattr(ConfirmBody, "today", staticmethod(lambda: TODAY))
    s = create_session("Acme Corp", "acme.example", example_profile())
    s.add_mailboxes([("anna", ews.USER, "Anna"), ("bob", "bob@example.test", "Bob")])
    # What step 4 recorded: source sizes (the IMAP half) and the Exchange check (this half).
    s.add_evidence(
        "4",
        "imap-test",
        "anna ok",
        {"login": "anna", "messages": 1200, "bytes": 3_000_000_000},
        ok=True,
    )
    s.add_evidence(
        "4", "imap-test", "bob ok", {"login": "bob", "messages": 10, "bytes": 2_000_000}, ok=True
    )
    settings = service_settings(ews_sandbox)
    passwords = lambda _a: ews.SERVICE_PASSWORD  # noqa: E731
    save_checks(s, settings, check_mailboxes(settings, [ews.USER, "bob@example.test"], passwords))
    s.set_current_step("5")
    yield s
    if not s.closed:
        s.close()


async def open_step5(app: OnboardApp, pilot) -> StepScreen:  # noqa: ANN001
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, StepScreen) and screen.step.number == "5"
    return screen


async def test_cutover_date_refuses_the_past_and_shows_the_estimate(store: SessionStore) -> None:
    app = OnboardApp(store=store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_step5(app, pilot)
        estimate = screen.query_one("#cutover-estimate", Static)
        assert "Estimated copy: about 33 min" in shown(estimate)

        date_input = screen.query_one("#cutover-date", Input)
        date_input.focus()
        await type_text(pilot, "2026-11-24")
        await pilot.press("enter")
        await settle(pilot)
        status = shown(screen.query_one("#cutover-status", Static))
        assert "Not saved: the cutover date 2026-11-24 is in the past" in status
        assert store.evidence("5", "cutover-date") == []
        assert screen.query_one("#check-cutover", Checkbox).value is False

        date_input.value = "12/12/2026"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "is not a day like 2026-12-01" in shown(screen.query_one("#cutover-status", Static))

        date_input.value = "2026-12-12"
        await settle(pilot)
        assert "17 days until the cutover" in shown(estimate)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Cutover date 12 Dec 2026 saved." in shown(
            screen.query_one("#cutover-status", Static)
        )
        saved = store.latest_evidence("5", "cutover-date")
        assert saved is not None and saved.data["cutover_date"] == "2026-12-12"
        assert saved.data["estimate_seconds"] == pytest.approx(2000, rel=0.01)
        assert store.setting("cutover.date") == "2026-12-12"
        # The checklist item ticks itself, on screen and in the session.
        assert screen.query_one("#check-cutover", Checkbox).value is True
        assert store.checklist("5")["cutover"].ticked
        assert screen.query_one("#check-objects", Checkbox).value is False

        date_input.value = "2026-11-25"  # today is allowed, but the copy does not fit
        await settle(pilot)
        assert "the copy needs longer" in shown(estimate)


async def test_confirmation_needs_every_mailbox_on_exchange(
    store: SessionStore, ews_sandbox: EwsSandbox
) -> None:
    app = OnboardApp(store=store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_step5(app, pilot)
        table = screen.query_one("#review-table", DataTable)
        assert str(table.get_cell(ews.USER, "exists")) == "exists"
        assert str(table.get_cell(ews.USER, "folders")) == "7"
        assert str(table.get_cell(ews.USER, "size")) == "2.8 GiB"
        assert str(table.get_cell("bob@example.test", "exists")) == "missing"

        screen.query_one("#confirmed-by", Input).focus()
        await type_text(pilot, "Tom Jones")
        await pilot.press("ctrl+y")
        await settle(pilot)
        status = shown(screen.query_one("#confirm-status", Static))
        assert "Not confirmed: 1 mailboxes are not known to exist" in status
        assert "bob@example.test" in status
        assert store.evidence("5", "mailboxes-confirmed") == []
        assert screen.query_one("#check-objects", Checkbox).value is False

        # Bob's mailbox is created and step 4 checks again; now the customer can confirm.
        ews_sandbox.add_mailbox("bob@example.test")
        settings = service_settings(ews_sandbox)
        save_checks(
            store,
            settings,
            check_mailboxes(settings, ["bob@example.test"], lambda _a: ews.SERVICE_PASSWORD),
        )
        await pilot.press("ctrl+y")
        await settle(pilot)
        assert "Tom Jones confirmed 2 mailboxes." in shown(
            screen.query_one("#confirm-status", Static)
        )
        evidence = store.latest_evidence("5", "mailboxes-confirmed")
        assert evidence is not None and evidence.data["confirmed_by"] == "Tom Jones"
        assert [r["state"] for r in evidence.data["confirmed"]] == ["exists", "exists"]
        assert screen.query_one("#check-objects", Checkbox).value is True
        assert store.checklist("5")["objects"].ticked
    # Reopened, the step shows the tick it saved.
    reopened = SessionStore.open(store.path)
    app = OnboardApp(store=reopened)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_step5(app, pilot)
        assert screen.query_one("#check-objects", Checkbox).value is True
