"""The copy ledger in the session file: per-batch writes, attempts, runs, samples, two writers."""

from __future__ import annotations

from wizard.copy.imaputil import parse_appenduid, parse_message_id, parse_uid_set
from wizard.copy.ledger import (
    CopyLedger,
    InFlight,
    MessageRecord,
    MessageState,
    RunMode,
    RunState,
)
from wizard.profile import example_profile
from wizard.session import create_session
from wizard.store import SessionStore


def record(uid: int, state: MessageState, **extra: object) -> MessageRecord:
    return MessageRecord(
        mailbox="a@new.example",
        source_folder="INBOX",
        uidvalidity=7,
        uid=uid,
        state=state,
        target_folder="INBOX",
        message_id=f"<{uid}@x>",
        size=100 + uid,
        **extra,  # type: ignore[arg-type]
    )


def in_flight(ledger: CopyLedger, *uids: int, sha256: dict[int, str] | None = None) -> None:
    """Mark messages of INBOX (UIDVALIDITY 7) in flight, as the copy does before a batch;
    ``sha256`` gives the content hash of those sent without a Message-ID."""
    ledger.mark_in_flight(
        "a@new.example",
        "INBOX",
        7,
        "INBOX",
        [
            InFlight(uid, f"<{uid}@x>", 100 + uid, (sha256 or {}).get(uid, ""), "", ("\\Seen",))
            for uid in uids
        ],
    )


def test_in_flight_then_outcome_counts_attempts_and_keeps_the_hash() -> None:
    store = create_session("Ledger", "ledger.example", example_profile())
    ledger = CopyLedger(store)
    in_flight(ledger, 1, 2, sha256={1: "ab"})
    assert ledger.totals("a@new.example").in_flight == 2
    ledger.record([record(1, MessageState.COPIED, target_id="7:1", attempts=1)])
    ledger.record([record(2, MessageState.FAILED, reason="refused", attempts=1)])
    in_flight(ledger, 2)
    rows = ledger.by_uid("a@new.example", "INBOX", 7)
    assert rows[1].state is MessageState.COPIED and rows[1].sha256 == "ab"  # kept from in-flight
    assert rows[2].state is MessageState.IN_FLIGHT and rows[2].attempts == 2
    totals = ledger.totals("a@new.example")
    assert (totals.copied, totals.in_flight, totals.copied_bytes) == (1, 1, 101)
    run = ledger.start_run("a@new.example", RunMode.INITIAL)
    ledger.add_sample(run, 1, 101, at=1000.0)
    ledger.add_sample(run, 5, 900, at=1002.0)
    ledger.finish_run(run, RunState.DONE, messages=5, bytes_copied=900, failures=0)
    assert [s.messages for s in ledger.samples(run)] == [1, 5]
    assert ledger.runs("a@new.example")[0].state is RunState.DONE
    store.close()


def test_two_shared_writers_on_one_session() -> None:
    store = create_session("Shared", "shared.example", example_profile())
    store.close()
    first = SessionStore.open(store.path, lock="shared")
    second = SessionStore.open(store.path, lock="shared")
    a, b = CopyLedger(first), CopyLedger(second)
    for uid in range(50):
        a.record([record(uid, MessageState.COPIED)])
        b.record([MessageRecord("b@new.example", "INBOX", 3, uid, MessageState.COPIED)])
    assert a.totals("b@new.example").copied == 50 and b.totals("a@new.example").copied == 50
    first.close()
    second.close()


def test_wire_helpers() -> None:
    assert parse_uid_set("5:7,9") == [5, 6, 7, 9]
    assert parse_appenduid(b"[APPENDUID 38505 3955:3957] APPEND completed") == (
        38505,
        [3955, 3956, 3957],
    )
    assert parse_appenduid(b"APPEND completed") is None
    header = b"Subject: x\r\nMessage-ID:\r\n <folded@id.example>\r\nTo: y\r\n\r\n"
    assert parse_message_id(header) == "<folded@id.example>"
    assert parse_message_id(b"Subject: none\r\n\r\n") == ""


def test_a_reason_quoting_a_held_password_is_written_without_it() -> None:
    """A target's refusal may quote the login it was sent: the ledger row keeps the reason, not
    the password (plain or as base64)."""
    import base64

    from wizard.secrets import remember_in_use

    store = create_session("Acme", "acme.example", example_profile())
    secret = "Ledger-Echo-77"
    remember_in_use(secret)  # as the copy's login did
    echoed = base64.b64encode(f"\0anna\0{secret}".encode()).decode()
    CopyLedger(store).record(
        [record(1, MessageState.FAILED, reason=f"server said: bad login {secret} / {echoed}")]
    )
    (stored,) = CopyLedger(store).problems()
    assert stored.reason.startswith("server said: bad login [redacted]")
    assert secret not in stored.reason and echoed not in stored.reason
    path = store.path
    store.close()
    for file in (path, path.with_name(path.name + "-wal")):  # the file and its write-ahead log
        raw = file.read_bytes() if file.exists() else b""
        assert secret.encode() not in raw and echoed.encode() not in raw


def test_a_confirmed_batch_reads_back_as_whole_rows_and_an_unknown_row_writes_nothing() -> None:
    """The copy confirms a batch by its outcomes only: the rows then read as if written whole
    (hash and identity kept from the in-flight mark, attempts counted, the reason redacted);
    an outcome naming a row never marked leaves every row as it was, for a whole-row write."""
    from wizard.secrets import remember_in_use

    store = create_session("Confirm", "confirm.example", example_profile())
    ledger = CopyLedger(store)
    remember_in_use("Confirm-Secret-9")
    in_flight(ledger, 1, 2, sha256={1: "ab"})
    refused = "refused: login Confirm-Secret-9 is over quota"
    outcomes = [(1, MessageState.COPIED, "7:11", "", 1), (2, MessageState.FAILED, "", refused, 1)]
    assert ledger.confirm("a@new.example", "INBOX", 7, outcomes)
    rows = ledger.by_uid("a@new.example", "INBOX", 7)
    assert (rows[1].state, rows[1].target_id, rows[1].sha256) == (MessageState.COPIED, "7:11", "ab")
    assert (rows[1].message_id, rows[1].size, rows[1].attempts) == ("<1@x>", 101, 1)
    assert rows[2].state is MessageState.FAILED and "Confirm-Secret-9" not in rows[2].reason
    assert ledger.totals("a@new.example").copied == 1

    in_flight(ledger, 2)
    assert not ledger.confirm(
        "a@new.example",
        "INBOX",
        7,
        [(2, MessageState.COPIED, "7:12", "", 2), (3, MessageState.COPIED, "7:13", "", 1)],
    )
    rows = ledger.by_uid("a@new.example", "INBOX", 7)
    assert rows[2].state is MessageState.IN_FLIGHT and 3 not in rows  # rolled back whole
    store.close()
