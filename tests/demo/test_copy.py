"""The copy engine moves the demo company: to a real Dovecot (IMAP to IMAP) and, as
`onboard --demo` does, to the EWS stand-in as the provider's Exchange. Target counts must equal
source counts for every folder the copy plan includes."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.servers.dovecot import DovecotFactory
from wizard import cli
from wizard.copy.engine import CopyEngine, CopyResult
from wizard.copy.folder_map import PlanOptions
from wizard.copy.ledger import CopyLedger
from wizard.copy.session_jobs import session_jobs
from wizard.devservers.demo import DemoCompany, DemoServers, generate_company, open_demo_session
from wizard.devservers.demo.run import demo_state_dir
from wizard.devservers.ews.model import MailboxStore
from wizard.store import SessionStore


def run_copy(store: SessionStore) -> CopyResult:
    jobs = session_jobs(store, [], PlanOptions(), interactive=False)
    return CopyEngine(CopyLedger(store), jobs).run()


def expected_counts(result: CopyResult, company: DemoCompany) -> dict[str, int]:
    """Per mailbox: the generated messages of the folders the copy plan included."""
    out: dict[str, int] = {}
    for mailbox_result in result.mailboxes:
        mailbox = company.mailbox(mailbox_result.mailbox)
        assert mailbox_result.plan is not None
        included = {f.source for f in mailbox_result.plan.included}
        out[mailbox.address] = sum(len(f.messages) for f in mailbox.folders if f.name in included)
    return out


def test_demo_mail_copies_to_dovecot_byte_for_byte(
    demo_servers: DemoServers, dovecot_factory: DovecotFactory, tmp_path: Path
) -> None:
    target = dovecot_factory()
    company = demo_servers.company
    for mailbox in company.mailboxes:
        target.add_user(mailbox.address, mailbox.password)
    store = open_demo_session(demo_servers)
    try:
        store.set_setting(
            "copy.target",
            {"url": f"imaps://127.0.0.1:{target.imaps_port}", "pin": target.fingerprint},
        )
        result = run_copy(store)
    finally:
        store.close()
    assert result.ok, [(m.mailbox, m.state, m.error) for m in result.mailboxes]
    expected = expected_counts(result, company)
    for mailbox in company.mailboxes:
        copied = sum(
            len(target.read(mailbox.address, name)) for name in target.folders(mailbox.address)
        )
        assert copied == expected[mailbox.address], mailbox.address
    # Nested, non-ASCII folders arrive under their own names with the same bytes and flags.
    source = company.mailbox("juergen.weiss").folder("Buchhaltung/Rechnungen 2011").messages
    stored = target.read("juergen.weiss@demo-company.example", "Buchhaltung/Rechnungen 2011")
    assert [m.raw for m in stored] == [m.raw for m in source]
    assert [set(m.flags) for m in stored] == [set(m.flags) for m in source]
    # The demo started again (new ports, the same folders): the copy goes on, copying nothing twice.
    with DemoServers(company, state_dir=tmp_path / "again") as again:
        store = open_demo_session(again)
        try:
            second = run_copy(store)
        finally:
            store.close()
    assert second.ok and second.copied == 0
    assert sum(m.already for m in second.mailboxes) == sum(expected.values())


def test_onboard_demo_headless_to_the_end_of_the_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    """`onboard --demo` with the copy run headless instead of the app: every message of the
    demo company reaches the demo Exchange, and a second run copies nothing twice."""
    results: list[CopyResult] = []

    def headless_copy(*, store: SessionStore, **_: Any) -> int:
        results.append(run_copy(store))
        return 0 if results[-1].ok else 1

    monkeypatch.setattr(cli, "_run_app", headless_copy)
    assert cli.main(["--demo"]) == 0, [(m.mailbox, m.error) for m in results[0].mailboxes]
    first = results[0]
    company = generate_company()
    expected = expected_counts(first, company)
    assert sum(expected.values()) >= 300
    # The demo Exchange kept what it received (it is saved when the demo stops).
    exchange = MailboxStore()
    assert exchange.load(demo_state_dir() / "ews")
    for mailbox in company.mailboxes:
        items = exchange.mailbox(mailbox.address).items.values()
        assert len(items) == expected[mailbox.address], mailbox.address
        ids = Counter(i.internet_message_id for i in items if i.internet_message_id)
        assert max(ids.values()) == 1  # no duplicates
    # Resumed: the same session and the same Exchange, nothing copied again.
    assert cli.main(["--demo"]) == 0
    second = results[1]
    assert second.copied == 0
    assert sum(m.already for m in second.mailboxes) == sum(expected.values())
