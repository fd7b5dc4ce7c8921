"""Checking the session's target mailboxes, evidence, and the provisioning list exports."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import ews
from wizard.devservers.ews import EwsSandbox
from wizard.events import Done, Event, Started
from wizard.exchange.settings import save_settings
from wizard.exchange.target_mailboxes import (
    check_mailboxes,
    export_provisioning,
    latest_checks,
    provisioning_rows,
    save_checks,
    session_passwords,
)
from wizard.profile import example_profile
from wizard.secrets import SecretStore
from wizard.session import create_session
from wizard.store import SessionStore

from .conftest import service_settings


@pytest.fixture
def store() -> Iterator[SessionStore]:
    s = create_session("Müller & O'Brien GmbH", "acme.example", example_profile())
    s.add_mailboxes(
        [
            ("anna", ews.USER, "Anna Beispiel"),
            ("bob", "bob@example.test", "Bob O'Brien"),
            ("carl", "carl@example.test", ""),
        ]
    )
    yield s
    s.close()


def test_check_record_and_export_the_missing(
    store: SessionStore, ews_sandbox: EwsSandbox, tmp_path: Path
) -> None:
    settings = service_settings(ews_sandbox)
    save_settings(store, settings)
    SecretStore(store.name).set(settings.password_key(ews.USER), ews.SERVICE_PASSWORD)
    ews_sandbox.add_mailbox("carl@example.test")
    events: list[Event] = []
    addresses = [m.target_address for m in store.mailboxes()]
    checks = check_mailboxes(
        settings, addresses, session_passwords(store, settings), sink=events.append
    )
    assert [c.state for c in checks] == ["exists", "missing", "exists"]
    assert {e.subject for e in events if isinstance(e, Started)} == set(addresses)
    done = {e.subject: e.result.state for e in events if isinstance(e, Done)}
    assert done["bob@example.test"] == "missing"

    evidence = save_checks(store, settings, checks)
    assert evidence.ok is False
    assert "2 of 3 target mailboxes exist" in evidence.summary
    assert "missing: bob@example.test" in evidence.summary
    assert latest_checks(store)["bob@example.test"]["state"] == "missing"
    assert ews.SERVICE_PASSWORD not in str(evidence.data)

    rows = provisioning_rows(store)
    assert [r.address for r in rows] == ["bob@example.test"]
    csv_path, ps_path = export_provisioning(store, tmp_path)
    table = list(csv.DictReader(csv_path.open(encoding="utf-8")))
    assert table == [
        {
            "PrimarySmtpAddress": "bob@example.test",
            "DisplayName": "Bob O'Brien",
            "Alias": "bob",
            "SourceLogin": "bob",
        }
    ]
    script = ps_path.read_text(encoding="utf-8-sig")
    new_mailbox = [line for line in script.splitlines() if line.startswith("New-Mailbox")]
    assert len(new_mailbox) == 1
    assert "-Name 'Bob O''Brien'" in new_mailbox[0]
    assert "-PrimarySmtpAddress 'bob@example.test'" in new_mailbox[0]
    assert "Read-Host -AsSecureString" in new_mailbox[0]
    assert ews.SERVICE_PASSWORD not in script
    assert store.latest_evidence("4", "provisioning-list") is not None


def test_a_mailbox_without_password_is_an_error_row(store: SessionStore, ews_sandbox) -> None:
    settings = service_settings(ews_sandbox)
    checks = check_mailboxes(settings, [ews.USER], session_passwords(store, settings))
    assert checks[0].state == "error"
    assert checks[0].failure and "No password is stored" in checks[0].failure.message


def test_evidence_leaves_the_plan_readable(store: SessionStore, ews_sandbox, tmp_path) -> None:
    from wizard.migration_plan import build_plan

    settings = service_settings(ews_sandbox)
    checks = check_mailboxes(settings, [ews.USER], lambda _a: ews.SERVICE_PASSWORD)
    save_checks(store, settings, checks)
    export_provisioning(store, tmp_path)
    assert len(build_plan(store).mailboxes) == 3


def test_many_mailboxes_checked_in_parallel_with_one_service_account(ews_sandbox) -> None:
    settings = service_settings(ews_sandbox)
    addresses = [f"user{n:02d}@example.test" for n in range(24)]
    for address in addresses[::2]:
        ews_sandbox.add_mailbox(address)
    checks = check_mailboxes(settings, addresses, lambda _a: ews.SERVICE_PASSWORD, concurrency=6)
    assert [c.mailbox for c in checks] == addresses
    assert [c.state for c in checks] == ["exists", "missing"] * 12
    assert all(len(c.folders) == 7 for c in checks if c.exists)


def test_closing_one_account_leaves_the_shared_session_pool_to_the_others(
    ews_sandbox: EwsSandbox,
) -> None:
    """exchangelib shares one session pool per service account: closing it under another thread's
    feet corrupted its count, and that thread then waited for a session forever (a check of many
    mailboxes hung now and then)."""
    from wizard.exchange.connection import close_account, open_account

    settings = service_settings(ews_sandbox)
    ews_sandbox.add_mailbox("twin@example.test")
    first = open_account(settings, ews.USER, ews.SERVICE_PASSWORD, check=False)
    second = open_account(settings, "twin@example.test", ews.SERVICE_PASSWORD, check=False)
    assert first.protocol is second.protocol  # the pool the two share
    assert first.inbox.total_count is not None and second.inbox.total_count is not None
    sessions = first.protocol.session_pool_size
    assert sessions >= 1
    close_account(first)
    assert second.protocol.session_pool_size == sessions  # still there for the second account
    assert second.inbox.total_count is not None
    close_account(second)
    assert second.protocol.session_pool_size == 0  # the last one out closes the pool
