"""A target mailbox that fills up during the copy: the copy of that mailbox stops at once with a
message that says so and what to do; once the quota is raised, the rerun sends the rest, each
message exactly once. For Dovecot (NO [OVERQUOTA]) and Exchange (ErrorQuotaExceeded)."""

from __future__ import annotations

import time
from collections import Counter

from tests.copy.corpus import WHEN, message
from tests.copy.one_run import copy_one
from tests.servers.dovecot import DovecotFactory, DovecotServer, SeedMessage
from wizard.copy.connect import source_factory, target_factory
from wizard.copy.events import MailboxState
from wizard.copy.exchange_target import exchange_target_factory, settings_from_endpoint
from wizard.copy.ledger import CopyLedger, MessageState
from wizard.devservers.ews import EWS_PATH, EwsSandbox
from wizard.endpoint import parse_endpoint
from wizard.profile import example_profile
from wizard.session import create_session

SIZE = 10_000


def seed(dovecot: DovecotServer) -> tuple[str, str, Counter[bytes]]:
    """A source mailbox of 40 messages of 10 KB in two folders (about 400 KB)."""
    user = dovecot.add_user()
    raws = [message(n, size=SIZE) for n in range(40)]
    dovecot.seed(user.login, "INBOX", [SeedMessage(r, (), WHEN) for r in raws[:30]])
    dovecot.seed(user.login, "Archiv", [SeedMessage(r, (), WHEN) for r in raws[30:]])
    return user.login, user.password, Counter(raws)


def source_of(dovecot: DovecotServer, login: str, password: str):  # type: ignore[no-untyped-def]
    endpoint = parse_endpoint(f"imap://{login}@127.0.0.1:{dovecot.imap_port}?tls=none")
    return source_factory(endpoint, password)


def copy_then_again(mailbox: str, source, target, between) -> tuple:  # type: ignore[no-untyped-def,type-arg]
    """Copy into a new session, run ``between`` (the quota raised), copy again into it; the
    two results with their log lines. Batches of 5, so the first stops part of the way."""
    store = create_session("Full", "full.example", example_profile())
    try:
        first = copy_one(mailbox, source, target, store=store, batch_messages=5)
        between()
        return first, copy_one(mailbox, source, target, store=store, batch_messages=5)
    finally:
        store.close()


def assert_stopped_full(result, logs: list[str]) -> None:  # type: ignore[no-untyped-def]
    assert result.state is MailboxState.FAILED
    assert result.error.startswith("the target mailbox is full"), result.error
    assert "Raise its quota" in result.error and "run the copy again" in result.error
    assert result.error.count("over its quota") == 1, result.error
    # It stopped at the first refused batch instead of trying every message one by one.
    assert result.failed <= 5, (result.failed, logs)
    assert result.copied + result.failed < 40


def test_a_full_imap_target_stops_the_mailbox_and_the_rerun_sends_the_rest(
    dovecot: DovecotServer, dovecot_factory: DovecotFactory
) -> None:
    login, password, seeded = seed(dovecot)
    target = dovecot_factory(quota="100K")
    dest = target.add_user()
    endpoint = parse_endpoint(f"imap://{dest.login}@127.0.0.1:{target.imap_port}?tls=none")
    (result, first_logs), (again, logs) = copy_then_again(
        dest.login,
        source_of(dovecot, login, password),
        target_factory(endpoint, dest.password),
        lambda: target.set_quota("10M"),  # the provider raised it
    )
    assert_stopped_full(result, first_logs)
    assert "[OVERQUOTA]" in result.error and "secs)" not in result.error
    assert 0 < result.copied < 40
    assert again.state is MailboxState.DONE, (again.error, logs)
    assert again.copied == 40 - result.copied
    # What the target refused was answered: nothing of it can still be on its way, no wait.
    assert not [line for line in logs if "on their way" in line], logs
    landed = Counter(
        m.raw for folder in ("INBOX", "Archiv") for m in target.read(dest.login, folder)
    )
    assert landed == seeded


def test_a_full_exchange_mailbox_stops_the_copy_and_the_rerun_sends_the_rest(
    dovecot: DovecotServer, ews_sandbox: EwsSandbox
) -> None:
    login, password, seeded = seed(dovecot)
    address = "full@example.test"
    ews_sandbox.add_mailbox(address, "pw-full", quota_bytes=100_000)
    endpoint = parse_endpoint(f"ews://{address}@127.0.0.1:{ews_sandbox.port}{EWS_PATH}?tls=none")
    settings = settings_from_endpoint(endpoint)
    (result, first_logs), (again, logs) = copy_then_again(
        address,
        source_of(dovecot, login, password),
        exchange_target_factory(settings, address, "pw-full"),
        lambda: setattr(ews_sandbox.mailbox(address), "quota_bytes", None),  # raised
    )
    assert_stopped_full(result, first_logs)
    assert "quota" in result.error
    assert 0 < result.copied < 40
    assert again.state is MailboxState.DONE, (again.error, logs)
    box = ews_sandbox.mailbox(address)
    landed = Counter(item.mime for folder in ("Inbox", "Archiv") for item in box.items_in(folder))
    assert landed == seeded


def test_a_message_too_large_for_the_imap_target_fails_alone_at_once(
    dovecot: DovecotServer, dovecot_factory: DovecotFactory
) -> None:
    """Dovecot refuses a message over its size limit with NO [LIMIT]: that message fails with a
    reason that says so, the others are copied, and nothing waits for the server to "recover"."""
    user = dovecot.add_user()
    raws = [message(n, size=50_000 if n == 3 else 5_000) for n in range(8)]
    dovecot.seed(user.login, "INBOX", [SeedMessage(r, (), WHEN) for r in raws])
    target = dovecot_factory(quota="10M", max_mail_size="20k")
    dest = target.add_user()
    endpoint = parse_endpoint(f"imap://{dest.login}@127.0.0.1:{target.imap_port}?tls=none")
    store = create_session("Too large", "large.example", example_profile())
    started = time.monotonic()
    try:
        result, logs = copy_one(
            dest.login,
            source_of(dovecot, user.login, user.password),
            target_factory(endpoint, dest.password),
            store=store,
        )
        assert time.monotonic() - started < 5, logs  # no back-off: the refusal is final
        problems = CopyLedger(store).problems(dest.login)
    finally:
        store.close()
    assert [(p.uid, p.state) for p in problems] == [(4, MessageState.FAILED)]
    assert problems[0].reason.startswith("too large for the target"), problems[0].reason
    assert "Mail size is larger" in problems[0].reason
    assert result.state is MailboxState.DONE, (result.error, logs)
    assert (result.copied, result.failed) == (7, 1)
    assert Counter(m.raw for m in target.read(dest.login, "INBOX")) == Counter(
        r for n, r in enumerate(raws) if n != 3
    )
    assert not [line for line in logs if "busy" in line], logs
