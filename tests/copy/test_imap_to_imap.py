"""IMAP to IMAP between two real Dovecots: exact bytes, flags, dates, folders, resumability."""

from __future__ import annotations

import hashlib
from collections import Counter

import pytest

from wizard.copy.connect import source_factory, target_factory
from wizard.copy.engine import CopyEngine, CopySettings, MailboxJob
from wizard.copy.events import FlagsChanged, MailboxProgress, MailboxState
from wizard.copy.folder_map import PlanOptions
from wizard.copy.ledger import CopyLedger, MessageState, RunMode
from wizard.copy.verify import latest_verification, verify
from wizard.endpoint import parse_endpoint
from wizard.profile import example_profile
from wizard.session import create_session
from wizard.store import SessionStore

from .corpus import DEEP, NESTED, WHEN, all_flags, bodies, message, populate, snapshot

# Source folder -> where the target (separator ".", its own special-use names) should hold it.
EXPECTED = {
    "INBOX": "INBOX",
    "Sent": "Sent Items",
    "Drafts": "Drafts",
    NESTED: "Kunden.Müller & Söhne",
    DEEP: "Projekte.2024.Q1",
}


@pytest.fixture
def store() -> SessionStore:
    s = create_session("Copy Test", "copytest.example", example_profile())
    yield s
    s.close()


def job_for(dovecots, users, options: PlanOptions | None = None) -> MailboxJob:  # type: ignore[no-untyped-def]
    src, dst = dovecots
    return MailboxJob(
        mailbox=f"{users[1]}@new.example",
        source=source_factory(parse_endpoint(src.url(users[0])), src.password),
        target=target_factory(parse_endpoint(dst.url(users[1])), dst.password),
        options=options or PlanOptions(size_limit=60_000),
    )


def run(store: SessionStore, job: MailboxJob, **settings: object):  # type: ignore[no-untyped-def]
    events: list[object] = []
    engine = CopyEngine(
        CopyLedger(store), [job], CopySettings(batch_messages=5, **settings), sink=events.append
    )
    result = engine.run()
    return result.mailboxes[0], events


def test_copy_is_exact_and_leaves_the_source_alone(dovecots, users, store) -> None:
    src, dst = dovecots
    source = src.client(users[0])
    counts = populate(source, oversize=80_000)
    before = {f: snapshot(source, f) for f in EXPECTED}
    flags_before = all_flags(source)

    result, events = run(store, job_for(dovecots, users))

    assert result.state is MailboxState.DONE, result.error
    assert result.failed == 0
    assert result.skipped == 1  # the 80 KB message is over the 60 KB limit
    assert result.copied == sum(counts.values()) - 1
    target = dst.client(users[1])
    for folder, target_folder in EXPECTED.items():
        expected = before[folder]
        if folder == "INBOX":  # the oversize message stays behind
            expected = Counter({k: v for k, v in expected.items() if k[0] not in _large(source)})
        assert snapshot(target, target_folder) == expected, folder
    # identical twins both arrived
    assert max(bodies(target, "INBOX").values()) == 2
    # special-use folders are the target's own
    listed = {name: flags for flags, _d, name in target.list_folders()}
    assert b"\\Sent" in listed["Sent Items"]
    assert "Sent" not in listed
    # nothing changed on the source, not even \Seen
    assert all_flags(source) == flags_before
    # the skipped message is in the ledger with its reason
    skipped = CopyLedger(store).problems(result.mailbox)
    assert [(r.state, r.source_folder) for r in skipped] == [(MessageState.SKIPPED, "INBOX")]
    assert "limit" in skipped[0].reason
    # progress reached the end
    last = [e for e in events if isinstance(e, MailboxProgress)][-1]
    assert last.state is MailboxState.DONE and last.done == last.total == sum(counts.values())

    again, _ = run(store, job_for(dovecots, users))
    assert again.copied == 0 and again.already == result.copied
    assert sum(bodies(target, "INBOX").values()) == counts["INBOX"] - 1


def _large(client) -> set[str]:  # type: ignore[no-untyped-def]
    return {hashlib.sha256(raw).hexdigest() for raw in _raw(client, "INBOX") if len(raw) > 60_000}


def _raw(client, folder: str) -> list[bytes]:  # type: ignore[no-untyped-def]
    client.select_folder(folder, readonly=True)
    return [
        item[b"BODY[]"] for item in client.fetch(client.search("ALL"), ["BODY.PEEK[]"]).values()
    ]


def test_differential_copies_only_new_mail_and_reports_flag_changes(dovecots, users, store) -> None:
    src, dst = dovecots
    source = src.client(users[0])
    populate(source)
    first, _ = run(store, job_for(dovecots, users))
    assert first.failed == 0

    source.append("INBOX", message(1000), flags=(b"\\Seen",))
    source.create_folder("Neu")
    source.append("Neu", message(1001))
    source.append("Neu", message(1002, message_id=False))
    source.select_folder("Sent")
    sent_uids = source.search("ALL")
    source.add_flags(sent_uids[:1], [b"\\Flagged"])

    second, events = run(store, job_for(dovecots, users), mode=RunMode.DIFFERENTIAL)
    assert second.copied == 3
    assert second.already == first.copied
    changes = [e for e in events if isinstance(e, FlagsChanged)]
    assert len(changes) == 1 and "\\Flagged" in changes[0].after and changes[0].applied
    target = dst.client(users[1])
    assert target.folder_status("Neu", ["MESSAGES"])[b"MESSAGES"] == 2
    target.select_folder("Sent Items", readonly=True)
    flagged = target.search(["FLAGGED"])
    assert len(flagged) == 1


def test_verify_lists_what_is_missing(dovecots, users, store) -> None:
    src, dst = dovecots
    populate(src.client(users[0]))
    run(store, job_for(dovecots, users))
    job = job_for(dovecots, users)
    good = verify(store, [job], step="10")
    assert good.ok, good
    target = dst.client(users[1])
    target.select_folder("INBOX")
    uids = target.search(["HEADER", "Message-ID", "<msg-2@old.example>"])
    target.delete_messages(uids)
    target.expunge()
    bad = verify(store, [job], step="10")
    assert not bad.ok
    inbox = next(f for f in bad.mailboxes[0].folders if f.source_folder == "INBOX")
    assert inbox.missing == ("<msg-2@old.example>",)
    assert inbox.target_count == inbox.source_count - 1
    saved = latest_verification(store, "10")
    assert saved is not None and saved.mailboxes[0].folders == bad.mailboxes[0].folders


def test_interrupted_batches_are_looked_up_not_duplicated(dovecots, users, store) -> None:
    """Rows left in flight by a killed run: found on the target, or sent again if absent."""
    src, dst = dovecots
    populate(src.client(users[0]))
    first, _ = run(store, job_for(dovecots, users))
    ledger = CopyLedger(store)
    mailbox = first.mailbox
    # As if killed after APPEND but before the ledger heard back: every INBOX row in flight.
    with store.transaction() as tx:
        tx.execute(
            "UPDATE copy_messages SET state = 'in-flight', target_id = '' WHERE mailbox = ? AND "
            "source_folder = 'INBOX'",
            (mailbox,),
        )
    # ...and as if killed before APPEND: two messages (one without Message-ID) never arrived.
    target = dst.client(users[1])
    target.select_folder("INBOX")
    gone = target.search(["HEADER", "Message-ID", "<msg-1@old.example>"])
    gone += [
        u
        for u, item in target.fetch(target.search("ALL"), ["BODY.PEEK[]"]).items()
        if b"Message 3\r" in item[b"BODY[]"]
    ]
    assert len(gone) == 2
    target.delete_messages(gone)
    target.expunge()
    before = bodies(target, "INBOX")

    second, _ = run(store, job_for(dovecots, users))
    assert second.failed == 0
    assert second.copied == 2
    after = bodies(target, "INBOX")
    assert sum(after.values()) == sum(before.values()) + 2
    assert after == bodies(src.client(users[0]), "INBOX")
    assert ledger.totals(mailbox).in_flight == 0


def test_changed_uidvalidity_is_rematched(dovecots, users, store) -> None:
    src, dst = dovecots
    source = src.client(users[0])
    populate(source)
    first, _ = run(store, job_for(dovecots, users))
    # Recreate a folder with the same messages: a new UIDVALIDITY, new UIDs.
    source.select_folder(NESTED, readonly=True)
    raws = [
        item[b"BODY[]"] for item in source.fetch(source.search("ALL"), ["BODY.PEEK[]"]).values()
    ]
    source.close_folder()
    source.delete_folder(NESTED)
    source.create_folder(NESTED)
    for raw in raws:
        source.append(NESTED, raw)
    second, events = run(store, job_for(dovecots, users))
    assert second.copied == 0
    target = dst.client(users[1])
    assert sum(bodies(target, EXPECTED[NESTED]).values()) == len(raws)


def test_a_failing_throughput_sample_cannot_leave_the_run_marked_running(
    dovecots, users, store, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from wizard.copy.ledger import RunState

    populate(dovecots[0].client(users[0]))

    def broken_sample(*_args: object, **_kw: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(CopyLedger, "add_sample", broken_sample)
    result, events = run(store, job_for(dovecots, users), sample_interval=0.0)
    assert result.state is MailboxState.DONE and result.copied > 0, result.error
    (copy_run,) = CopyLedger(store).runs(result.mailbox)
    assert copy_run.state is RunState.DONE and copy_run.finished_at
    assert copy_run.messages == result.copied
    assert any("throughput sample" in getattr(e, "message", "") for e in events)


def test_messages_without_a_readable_date_are_copied_and_named(dovecots, users, store) -> None:
    """A source that sends an INTERNALDATE no parser reads (the listing then has none): the
    message is copied all the same, and the log names it and says what date it gets."""
    import dataclasses

    from wizard.copy.events import CopyLog

    src, dst = dovecots
    source = src.client(users[0])
    for n in range(4):
        source.append("INBOX", message(800 + n), msg_time=WHEN)
    job = job_for(dovecots, users, PlanOptions())
    real_factory = job.source

    def unreadable_dates():  # type: ignore[no-untyped-def]
        real = real_factory()
        listed, listed_ahead = real.list_messages, real.list_ahead

        def undated(out):  # type: ignore[no-untyped-def]
            return [
                dataclasses.replace(m, internaldate=None) if m.uid in (2, 4) else m for m in out
            ]

        def list_messages(folder: str, **kwargs):  # type: ignore[no-untyped-def]
            return undated(listed(folder, **kwargs))

        def list_ahead(folders):  # type: ignore[no-untyped-def]
            return {name: (st, undated(out)) for name, (st, out) in listed_ahead(folders).items()}

        real.list_messages = list_messages  # type: ignore[method-assign]
        real.list_ahead = list_ahead  # type: ignore[method-assign]
        return real

    result, events = run(store, dataclasses.replace(job, source=unreadable_dates))

    assert result.state is MailboxState.DONE and result.copied == 4
    warnings = [e for e in events if isinstance(e, CopyLog) and e.event == "undated"]
    assert len(warnings) == 1 and warnings[0].level == "warning"
    assert "INBOX: 2 message(s) without a readable received date" in warnings[0].message
    assert "UID 2, 4" in warnings[0].message and "day of the copy" in warnings[0].message
    assert len(bodies(dst.client(users[1]), "INBOX")) == 4
