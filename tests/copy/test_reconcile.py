"""Reconciliation against real Dovecots: a copy looks at what the target folder already holds
before it writes, so a new ledger, a target filled by another tool or a recreated target folder
never ends with a message twice (or missing)."""

from __future__ import annotations

import time

import pytest

from wizard.copy.ledger import CopyLedger, MessageState
from wizard.copy.reconcile import FOUND_ON_TARGET
from wizard.profile import example_profile
from wizard.session import create_session

from .corpus import WHEN, bodies, message
from .test_imap_to_imap import job_for, run

TARGET_SUB = "Projekte.2023"  # where the source's Projekte/2023 lands on the "." target


def fill(client, count: int, folder: str = "INBOX") -> None:  # type: ignore[no-untyped-def]
    """``count`` messages, every seventh without a Message-ID, every tenth with an identical twin."""
    if not client.folder_exists(folder):
        client.create_folder(folder)
    batch: list[dict[str, object]] = []
    n = 0
    while n < count:
        raw = message(50_000 + n, message_id=n % 7 != 0, size=(n * 37) % 3000)
        batch.append({"msg": raw, "flags": (b"\\Seen",), "date": WHEN})
        n += 1
        if n % 10 == 0 and n < count:
            batch.append(dict(batch[-1]))
            n += 1
        if len(batch) >= 50:
            client.multiappend(folder, batch)
            batch = []
    if batch:
        client.multiappend(folder, batch)


@pytest.fixture
def store():  # type: ignore[no-untyped-def]
    s = fresh_store("run")
    yield s
    s.close()


def fresh_store(name: str):  # type: ignore[no-untyped-def]
    return create_session(f"Reconcile {name} {time.monotonic_ns()}", "r.example", example_profile())


def test_a_fresh_ledger_onto_a_complete_target_copies_nothing(dovecots, users, store) -> None:  # type: ignore[no-untyped-def]
    src, dst = dovecots
    fill(src.client(users[0]), 600)
    job = job_for(dovecots, users)
    first, _ = run(store, job)
    assert first.ok and first.copied == 600, first.error
    assert sum(bodies(dst.client(users[1]), "INBOX").values()) == 600

    other = fresh_store("fresh")  # another laptop, a lost ledger
    try:
        started = time.monotonic()
        again, events = run(other, job)
        took = time.monotonic() - started
        assert again.ok and again.copied == 0 and again.already == 600, again.error
        rows = CopyLedger(other).messages(job.mailbox, "INBOX")
        assert len(rows) == 600
        assert {(r.state, r.reason) for r in rows} == {(MessageState.COPIED, FOUND_ON_TARGET)}
        assert all(r.target_id for r in rows)
        assert any("600 found on the target" in getattr(e, "message", "") for e in events)
        assert took < 20, f"reconciling 600 messages took {took:.1f} s"
    finally:
        other.close()
    assert bodies(dst.client(users[1]), "INBOX") == bodies(src.client(users[0]), "INBOX")


def test_a_target_filled_by_another_tool_is_not_duplicated(dovecots, users, store) -> None:  # type: ignore[no-untyped-def]
    src, dst = dovecots
    source = src.client(users[0])
    fill(source, 120)
    source.select_folder("INBOX", readonly=True)
    raws = [
        item[b"BODY[]"] for item in source.fetch(source.search("ALL"), ["BODY.PEEK[]"]).values()
    ]
    target = dst.client(users[1])
    for raw in raws[:70]:  # another tool copied the first 70, twins included
        target.append("INBOX", raw, flags=(b"\\Seen",), msg_time=WHEN)

    result, _ = run(store, job_for(dovecots, users))
    assert result.ok and result.copied == 50 and result.already == 70, result.error
    assert bodies(dst.client(users[1]), "INBOX") == bodies(src.client(users[0]), "INBOX")


def test_a_recreated_or_deleted_target_folder_is_refilled(dovecots, users, store) -> None:  # type: ignore[no-untyped-def]
    src, dst = dovecots
    fill(src.client(users[0]), 40, "Projekte/2023")
    job = job_for(dovecots, users)
    assert run(store, job)[0].copied == 40

    target = dst.client(users[1])
    target.delete_folder(TARGET_SUB)
    target.create_folder(TARGET_SUB)  # same name, new UIDVALIDITY, empty
    result, _ = run(store, job)
    assert result.ok and result.copied == 40, result.error
    expected = bodies(src.client(users[0]), "Projekte/2023")
    assert bodies(dst.client(users[1]), TARGET_SUB) == expected

    dst.client(users[1]).delete_folder(TARGET_SUB)  # gone altogether
    result, _ = run(store, job)
    assert result.ok and result.copied == 40, result.error
    assert bodies(dst.client(users[1]), TARGET_SUB) == expected

    assert run(store, job)[0].copied == 0  # unchanged since: the ledger is trusted again


def test_reconcile_on_request_sends_what_the_target_lost(dovecots, users, store) -> None:  # type: ignore[no-untyped-def]
    src, dst = dovecots
    fill(src.client(users[0]), 30)
    job = job_for(dovecots, users)
    assert run(store, job)[0].copied == 30
    target = dst.client(users[1])
    target.select_folder("INBOX")
    uids = target.search("ALL")[:5]
    target.delete_messages(uids)
    target.expunge()

    assert run(store, job)[0].copied == 0  # the ledger alone cannot know
    result, _ = run(store, job, reconcile=True)
    assert result.ok and result.copied == 5, result.error
    assert bodies(dst.client(users[1]), "INBOX") == bodies(src.client(users[0]), "INBOX")


def test_an_empty_target_folder_is_listed_from_list_status_and_its_appends_are_seen(  # type: ignore[no-untyped-def]
    dovecots, users
) -> None:
    from wizard.copy.connect import target_factory
    from wizard.copy.target import OutgoingMessage
    from wizard.endpoint import parse_endpoint

    _src, dst = dovecots
    target = target_factory(parse_endpoint(dst.url(users[1])), dst.password)(lambda _e: None)
    try:
        folder = target.ensure_folder(("Projekte", "2023"))
        assert target.identities(folder) == []  # there, empty
        assert target.identities("Nowhere") is None  # not there
        sent = [OutgoingMessage(n, message(70_000 + n), internaldate=WHEN) for n in range(3)]
        assert all(r.ok for r in target.append(folder, sent))
        listed = target.identities(folder)  # not the count LIST-STATUS gave before the APPEND
        assert listed is not None
        assert sorted(m.message_id for m in listed) == [
            f"<msg-{70_000 + n}@old.example>" for n in range(3)
        ]
    finally:
        target.close()
