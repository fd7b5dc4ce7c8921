"""The copy engine writing into the stand-in through the Exchange engine's CopyTarget adapter."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.servers import ews
from tests.servers.dovecot import DovecotServer, SeedMessage, make_message
from wizard.copy.connect import source_factory
from wizard.copy.engine import CopyEngine, CopySettings, MailboxJob
from wizard.copy.exchange_target import exchange_target_factory, settings_from_endpoint
from wizard.copy.folder_map import Role
from wizard.copy.ledger import CopyLedger
from wizard.copy.target import OutgoingMessage, Probe
from wizard.devservers.ews import EwsSandbox
from wizard.endpoint import Endpoint
from wizard.events import ignore
from wizard.profile import example_profile
from wizard.session import create_session
from wizard.store import SessionStore

from .conftest import delegate_settings, service_settings


@pytest.fixture
def store():  # type: ignore[no-untyped-def]
    s = create_session("Copy To Exchange", "copy.example", example_profile())
    yield s
    s.close()


def imap_to_exchange(dovecot: DovecotServer, sandbox: EwsSandbox, user) -> MailboxJob:  # type: ignore[no-untyped-def]
    """A job from ``user``'s Dovecot mailbox (over TLS, pinned) to anna's Exchange mailbox."""
    source = Endpoint(
        "imap", dovecot.host, dovecot.imaps_port, user.login, "tls", pin=dovecot.fingerprint
    )
    return MailboxJob(
        mailbox=ews.USER,
        source=source_factory(source, user.password),
        target=exchange_target_factory(service_settings(sandbox), ews.USER, ews.SERVICE_PASSWORD),
    )


def test_copy_target_protocol(ews_sandbox: EwsSandbox) -> None:
    connect = exchange_target_factory(delegate_settings(ews_sandbox), ews.USER, ews.PASSWORD)
    target = connect(ignore)
    try:
        layout = target.layout()
        assert layout.roles[Role.SENT] == ("Sent Items",)
        assert layout.roles[Role.TRASH] == ("Deleted Items",)
        key = target.ensure_folder(("Kunden", "Müller & Söhne"))
        assert key == "Kunden/Müller & Söhne"
        when = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
        messages = [
            OutgoingMessage(1, make_message(1), ("\\Seen",), when, ""),
            OutgoingMessage(2, make_message(2).replace(b"Message-ID", b"X-No-Id"), (), when, ""),
        ]
        results = target.append(key, messages)
        assert [r.ok for r in results] == [True, True]
        assert target.count(key) == 2
        ids = target.message_ids(key)
        assert sorted(bool(i) for i in ids) == [False, True]
        mid = next(i for i in ids if i)
        found = target.find(key, [Probe(mid, 0), Probe("", 0, internaldate=when)])
        assert found[0] == [results[0].target_id]
        assert set(found[1]) == {results[0].target_id, results[1].target_id}
        assert target.set_flags(key, [(results[1].target_id, ("\\Seen",))]) == 1
        stored = ews_sandbox.mailbox(ews.USER).items_in("Kunden/Müller & Söhne")
        assert all(item.is_read for item in stored)
    finally:
        target.close()


def test_settings_from_an_adhoc_endpoint(ews_sandbox_factory) -> None:
    sandbox = ews_sandbox_factory(tls=True)
    port = int(sandbox.url.split(":")[2].split("/")[0])
    endpoint = Endpoint("ews", "127.0.0.1", port, ews.USER, "tls", pin=sandbox.fingerprint or "")
    settings = settings_from_endpoint(endpoint)
    assert settings.ews_url == sandbox.url
    target = exchange_target_factory(settings, ews.USER, ews.PASSWORD)(ignore)
    assert target.count(target.ensure_folder(("Inbox",))) == 0
    target.close()


def test_copy_engine_imap_to_exchange(
    dovecot: DovecotServer, ews_sandbox: EwsSandbox, store: SessionStore
) -> None:
    user = dovecot.add_user(tree=True)
    internal = datetime(2023, 2, 3, 4, 5, 6, tzinfo=UTC)
    dovecot.seed(
        user.login,
        "INBOX",
        [SeedMessage(make_message(n), ("\\Seen",) if n % 2 else (), internal) for n in range(12)],
    )
    dovecot.seed(user.login, "Sent", [make_message(50)])
    dovecot.seed(
        user.login, "Kunden/Müller & Söhne", [SeedMessage(make_message(60), ("\\Flagged",))]
    )
    job = imap_to_exchange(dovecot, ews_sandbox, user)
    engine = CopyEngine(CopyLedger(store), [job], CopySettings(batch_messages=5))
    assert engine.budget.limit == 48 * 1024 * 1024
    result = engine.run()
    assert result.ok, result
    # Exchange's client takes memory IMAP's does not: a copy into it holds less message data.
    assert engine.budget.limit == 32 * 1024 * 1024
    box = ews_sandbox.mailbox(ews.USER)
    assert len(box.items_in("Inbox")) == 12
    assert len(box.items_in("Sent Items")) == 1
    assert "Sent" not in box.folder_paths()  # the mailbox's own Sent Items, no look-alike
    flagged = box.items_in("Kunden/Müller & Söhne")
    assert len(flagged) == 1 and flagged[0].flag_status == 2
    read = sorted(i.is_read for i in box.items_in("Inbox"))
    assert read.count(True) == 6
    source_bytes = {m.raw for m in dovecot.read(user.login, "INBOX")}
    assert {i.mime for i in box.items_in("Inbox")} == source_bytes


def test_a_throttled_exchange_write_reaches_the_activity_log(
    dovecot: DovecotServer, ews_sandbox: EwsSandbox, store: SessionStore
) -> None:
    from wizard.activity import event_logger, read_records
    from wizard.events import Event
    from wizard.retry import Waiting

    user = dovecot.add_user()
    dovecot.seed(user.login, "INBOX", [make_message(n) for n in range(8)])
    job = imap_to_exchange(dovecot, ews_sandbox, user)
    ews_sandbox.faults.server_busy(300, operation="CreateItem", times=2)
    events: list[Event] = []
    sink = event_logger(store, "copy", inner=events.append)
    result = CopyEngine(CopyLedger(store), [job], CopySettings(batch_messages=4), sink=sink).run()
    assert result.ok and result.copied == 8, result
    assert ews_sandbox.faults.count("busy") == 2
    box = ews_sandbox.mailbox(ews.USER)
    assert sorted(i.mime for i in box.items_in("Inbox")) == sorted(
        m.raw for m in dovecot.read(user.login, "INBOX")
    )  # each message once
    assert not [e for e in events if isinstance(e, Waiting)]  # one wait loop: the engine's
    records = read_records(store.path)
    throttles = [r for r in records if r.event == "throttle"]
    assert len(throttles) == 2
    assert all(r.mailbox == ews.USER and r.fields["seconds"] == 0.3 for r in throttles)
    retries = [r for r in records if r.event == "retry"]
    assert len(retries) == 2 and all("Exchange is busy" in r.message for r in retries)


def test_a_fresh_ledger_onto_a_complete_exchange_mailbox_stays_at_55(
    dovecot: DovecotServer, ews_sandbox: EwsSandbox, store: SessionStore
) -> None:
    from datetime import timedelta

    from tests.copy.corpus import message
    from wizard.copy.reconcile import FOUND_ON_TARGET

    user = dovecot.add_user()
    base = datetime(2023, 2, 3, 4, 5, 6, tzinfo=UTC)
    # Five without a Message-ID, each received at its own time; the rest with one.
    seeds = [
        SeedMessage(message(n, message_id=n >= 5), ("\\Seen",), base + timedelta(minutes=n))
        for n in range(55)
    ]
    dovecot.seed(user.login, "INBOX", seeds)
    job = imap_to_exchange(dovecot, ews_sandbox, user)
    first = CopyEngine(CopyLedger(store), [job], CopySettings(batch_messages=20)).run()
    assert first.ok and first.copied == 55, first
    other = create_session("Copy To Exchange Again", "copy.example", example_profile())
    try:
        again = CopyEngine(CopyLedger(other), [job], CopySettings(batch_messages=20)).run()
        assert again.ok and again.copied == 0, again
        rows = CopyLedger(other).messages(ews.USER)
        assert len(rows) == 55 and {r.reason for r in rows} == {FOUND_ON_TARGET}
    finally:
        other.close()
    box = ews_sandbox.mailbox(ews.USER)
    assert len(box.items_in("Inbox")) == 55
    assert {i.mime for i in box.items_in("Inbox")} == {s.raw for s in seeds}


def test_verification_waits_out_a_busy_exchange_instead_of_failing(
    dovecot: DovecotServer, ews_sandbox: EwsSandbox, store: SessionStore
) -> None:
    from wizard.copy.verify import verify_mailbox
    from wizard.retry import RetryPolicy

    user = dovecot.add_user()
    dovecot.seed(user.login, "INBOX", [make_message(n) for n in range(6)])
    job = imap_to_exchange(dovecot, ews_sandbox, user)
    assert CopyEngine(CopyLedger(store), [job]).run().ok
    ews_sandbox.faults.server_busy(200, operation="FindItem", times=1)
    check = verify_mailbox(job, CopyLedger(store), RetryPolicy(initial=0.01))
    assert ews_sandbox.faults.count("busy") == 1
    assert not check.error and check.ok, check
