"""Mail that still reaches the old server while the MX change propagates: delivered on a fixed
schedule after the change began, the same after a restart, and picked up by the differential copy."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from tests.servers.dovecot import DovecotFactory
from wizard.copy.engine import CopyEngine, CopySettings
from wizard.copy.folder_map import PlanOptions
from wizard.copy.ledger import CopyLedger, RunMode
from wizard.copy.session_jobs import session_jobs
from wizard.devservers.demo import (
    DemoCompany,
    DemoImapServer,
    DemoServers,
    DnsChange,
    PropagationPlan,
    begin_dns_change,
    open_demo_session,
)
from wizard.devservers.demo.corpus import late_message
from wizard.devservers.demo.servers import LateMailFeed
from wizard.imap import ImapServerSettings, Security, connect, examine, fetch_messages, list_uids
from wizard.imap.connection import close

PLAN = PropagationPlan(late_mail=(10.0, 20.0, 30.0))


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def inbox(server: DemoImapServer, company: DemoCompany, login: str) -> list[tuple[int, bytes]]:
    mailbox = company.mailbox(login)
    settings = ImapServerSettings(
        host=server.host, port=server.port, security=Security.IMPLICIT_TLS, pin=server.fingerprint
    )
    client = connect(settings, mailbox.login, mailbox.password)
    try:
        examine(client, "INBOX")
        return [(m.uid, m.raw) for m in fetch_messages(client, list_uids(client))]
    finally:
        close(client)


def test_late_mail_arrives_on_schedule_and_again_after_a_restart(
    demo_imap: DemoImapServer, demo_company: DemoCompany
) -> None:
    clock = FakeClock()
    change = DnsChange(clock=clock)
    feed = LateMailFeed(demo_imap, demo_company, PLAN, change)
    logins = sorted({late.login for late in feed.schedule})
    before = {login: inbox(demo_imap, demo_company, login) for login in logins}
    assert feed.poll() == 0  # nothing before the change begins
    change.begin()
    clock.now += 15
    assert feed.poll() == 1
    first = feed.schedule[0]
    arrived = datetime.fromtimestamp(change.started_at + first.offset, UTC)
    expected = late_message(demo_company, first, arrived)
    after = inbox(demo_imap, demo_company, first.login)
    assert len(after) == len(before[first.login]) + 1
    assert after[-1][1] == expected.raw and after[-1][0] > before[first.login][-1][0]
    clock.now += 100
    assert feed.poll() == 2 and feed.poll() == 0
    final = {login: inbox(demo_imap, demo_company, login) for login in logins}
    assert sum(len(final[x]) - len(before[x]) for x in logins) == 3

    # Started again with the same change time: the same messages under the same UIDs.
    with DemoImapServer(demo_company, certificate=demo_imap.certificate) as again:
        replay = LateMailFeed(again, demo_company, PLAN, DnsChange(change.started_at, clock=clock))
        assert replay.poll() == 3
        assert {login: inbox(again, demo_company, login) for login in logins} == final


def test_the_differential_copy_picks_up_the_late_mail(
    demo_company: DemoCompany, dovecot_factory: DovecotFactory, tmp_path: Path
) -> None:
    target = dovecot_factory()
    for mailbox in demo_company.mailboxes:
        target.add_user(mailbox.address, mailbox.password)
    plan = PropagationPlan().scaled(0.005)  # the late mail arrives within half a second
    with DemoServers(demo_company, state_dir=tmp_path / "demo", plan=plan) as servers:
        store = open_demo_session(servers)
        try:
            store.set_setting(
                "copy.target",
                {"url": f"imaps://127.0.0.1:{target.imaps_port}", "pin": target.fingerprint},
            )

            def copy(mode: RunMode):
                jobs = session_jobs(store, [], PlanOptions(), interactive=False)
                return CopyEngine(CopyLedger(store), jobs, CopySettings(mode=mode)).run()

            initial = copy(RunMode.INITIAL)
            assert initial.ok and initial.copied == demo_company.message_count
            begin_dns_change(store, servers)
            feed = servers.late_mail
            deadline = time.monotonic() + 10
            while len(feed.delivered) < len(feed.schedule):
                assert time.monotonic() < deadline, "the late mail never arrived"
                feed.poll()
                time.sleep(0.02)
            differential = copy(RunMode.DIFFERENTIAL)
        finally:
            store.close()
    assert differential.ok
    assert differential.copied == len(plan.late_mail)
    per_mailbox = {m.mailbox: m.copied for m in differential.mailboxes}
    for late in feed.schedule:
        address = demo_company.mailbox(late.login).address
        assert per_mailbox[address] >= 1
        assert len(target.read(address, "INBOX")) > len(
            demo_company.mailbox(late.login).folder("INBOX").messages
        )
