"""The copy ledger: what was copied, skipped or failed, per source message, in the session file.

Identity is the source message (mailbox, source folder, UIDVALIDITY, UID), never the Message-ID:
two identical messages in one folder are two rows, and a message without a Message-ID is tracked
like any other. Rows are written per batch in one transaction, "in-flight" before a batch is sent
and "copied" only after the target confirmed it, so a process killed at any moment leaves rows
that a rerun looks up on the target before sending again. Several headless copies of different
mailboxes may write to the same session at once (SQLite WAL, busy timeout, shared process lock).
The tables are created by ``wizard.session_file._migrate_v2``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from ..redaction import redact_in_use
from ..store import SessionStore, now_iso


class MessageState(StrEnum):
    COPIED = "copied"
    SKIPPED = "skipped"
    FAILED = "failed"
    IN_FLIGHT = "in-flight"


class RunMode(StrEnum):
    INITIAL = "initial"
    DIFFERENTIAL = "differential"
    RETRY = "retry"


class RunState(StrEnum):
    RUNNING = "running"
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "failed"


@dataclass(frozen=True)
class MessageRecord:
    """One source message and what became of it; the unit the ledger reads and writes."""

    mailbox: str
    source_folder: str
    uidvalidity: int
    uid: int
    state: MessageState
    target_folder: str = ""
    target_id: str = ""
    message_id: str = ""
    size: int = 0
    sha256: str = ""  # of the raw bytes, for messages without a Message-ID (found by content)
    internaldate: str = ""
    flags: tuple[str, ...] = ()
    reason: str = ""
    attempts: int = 0
    created_at: str = ""
    updated_at: str = ""


class InFlight(NamedTuple):
    """One message of a batch about to be sent, as :meth:`CopyLedger.mark_in_flight` writes
    it: a plain tuple, 2-3 us a message cheaper than a whole ``MessageRecord`` taken apart."""

    uid: int
    message_id: str
    size: int
    sha256: str  # of the raw bytes, for messages without a Message-ID
    internaldate: str  # ISO 8601, "" when the source gave none
    flags: tuple[str, ...]


def _redacted(reasons: Iterable[str]) -> dict[str, str]:
    """Each distinct reason as the ledger writes it: without a secret this process holds."""
    return {text: redact_in_use(text) for text in set(reasons) if text}


class _NotAllThere(Exception):
    """A batch's outcome names a row the ledger does not hold."""


@dataclass(frozen=True)
class FolderMark:
    """Where a source folder stood at the last copy: its UIDVALIDITY and the highest UID seen."""

    mailbox: str
    source_folder: str
    uidvalidity: int
    last_seen_uid: int
    target_folder: str
    updated_at: str = ""


@dataclass(frozen=True)
class LedgerTotals:
    """Counts per state for a mailbox (or one folder of it)."""

    copied: int = 0
    skipped: int = 0
    failed: int = 0
    in_flight: int = 0
    copied_bytes: int = 0

    @property
    def settled(self) -> int:
        return self.copied + self.skipped


@dataclass(frozen=True)
class CopyRun:
    id: int
    mailbox: str
    mode: RunMode
    state: RunState
    started_at: str
    finished_at: str
    pid: int
    messages: int
    bytes: int
    failures: int


@dataclass(frozen=True)
class ThroughputSample:
    """Cumulative messages and bytes a run had copied at ``at`` (seconds since the epoch)."""

    at: float
    messages: int
    bytes: int


def dump_flags(flags: Iterable[str]) -> str:
    """Flags are kept as one space-separated string in a fixed order."""
    return " ".join(sorted(set(flags)))


def load_flags(text: str) -> tuple[str, ...]:
    return tuple(text.split()) if text else ()


_COLUMNS = (
    "mailbox, source_folder, uidvalidity, uid, target_folder, target_id, message_id, size, "
    "sha256, internaldate, flags, state, reason, attempts, created_at, updated_at"
)


def _row_to_record(row: object) -> MessageRecord:
    r = row  # sqlite3.Row
    return MessageRecord(
        mailbox=r["mailbox"],  # type: ignore[index]
        source_folder=r["source_folder"],  # type: ignore[index]
        uidvalidity=int(r["uidvalidity"]),  # type: ignore[index]
        uid=int(r["uid"]),  # type: ignore[index]
        state=MessageState(r["state"]),  # type: ignore[index]
        target_folder=r["target_folder"],  # type: ignore[index]
        target_id=r["target_id"],  # type: ignore[index]
        message_id=r["message_id"],  # type: ignore[index]
        size=int(r["size"]),  # type: ignore[index]
        sha256=r["sha256"],  # type: ignore[index]
        internaldate=r["internaldate"],  # type: ignore[index]
        flags=load_flags(r["flags"]),  # type: ignore[index]
        reason=r["reason"],  # type: ignore[index]
        attempts=int(r["attempts"]),  # type: ignore[index]
        created_at=r["created_at"],  # type: ignore[index]
        updated_at=r["updated_at"],  # type: ignore[index]
    )


class CopyLedger:
    """Reads and writes the ledger tables of one open session (thread-safe like the store)."""

    def __init__(self, store: SessionStore) -> None:
        self.store = store

    # ----- folders ---------------------------------------------------------------------------

    def folder(self, mailbox: str, source_folder: str) -> FolderMark | None:
        rows = self.store.query(
            "SELECT * FROM copy_folders WHERE mailbox = ? AND source_folder = ?",
            (mailbox, source_folder),
        )
        if not rows:
            return None
        r = rows[0]
        return FolderMark(
            r["mailbox"],
            r["source_folder"],
            int(r["uidvalidity"]),
            int(r["last_seen_uid"]),
            r["target_folder"],
            r["updated_at"],
        )

    def folders(self, mailbox: str) -> list[FolderMark]:
        rows = self.store.query(
            "SELECT * FROM copy_folders WHERE mailbox = ? ORDER BY source_folder", (mailbox,)
        )
        return [
            FolderMark(
                r["mailbox"],
                r["source_folder"],
                int(r["uidvalidity"]),
                int(r["last_seen_uid"]),
                r["target_folder"],
                r["updated_at"],
            )
            for r in rows
        ]

    def mark_folder(
        self,
        mailbox: str,
        source_folder: str,
        *,
        uidvalidity: int,
        last_seen_uid: int,
        target_folder: str,
    ) -> None:
        with self.store.transaction() as tx:
            tx.execute(
                "INSERT INTO copy_folders (mailbox, source_folder, uidvalidity, last_seen_uid, "
                "target_folder, updated_at) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (mailbox, source_folder) DO UPDATE SET "
                "uidvalidity = excluded.uidvalidity, last_seen_uid = excluded.last_seen_uid, "
                "target_folder = excluded.target_folder, updated_at = excluded.updated_at",
                (mailbox, source_folder, uidvalidity, last_seen_uid, target_folder, now_iso()),
            )

    # ----- messages --------------------------------------------------------------------------

    def messages(
        self,
        mailbox: str,
        source_folder: str | None = None,
        *,
        uidvalidity: int | None = None,
        states: Sequence[MessageState] | None = None,
    ) -> list[MessageRecord]:
        sql = f"SELECT {_COLUMNS} FROM copy_messages WHERE mailbox = ?"
        params: list[object] = [mailbox]
        if source_folder is not None:
            sql += " AND source_folder = ?"
            params.append(source_folder)
        if uidvalidity is not None:
            sql += " AND uidvalidity = ?"
            params.append(uidvalidity)
        if states:
            sql += f" AND state IN ({', '.join('?' for _ in states)})"
            params.extend(s.value for s in states)
        sql += " ORDER BY source_folder, uidvalidity, uid"
        return [_row_to_record(r) for r in self.store.query(sql, tuple(params))]

    def knows_folder(self, mailbox: str, source_folder: str) -> bool:
        """Whether any row of this source folder is in the ledger, of any UIDVALIDITY."""
        return bool(
            self.store.query(
                "SELECT 1 FROM copy_messages WHERE mailbox = ? AND source_folder = ? LIMIT 1",
                (mailbox, source_folder),
            )
        )

    def by_uid(
        self, mailbox: str, source_folder: str, uidvalidity: int
    ) -> dict[int, MessageRecord]:
        """Every row of one folder generation, keyed by source UID."""
        return {r.uid: r for r in self.messages(mailbox, source_folder, uidvalidity=uidvalidity)}

    def mark_in_flight(
        self,
        mailbox: str,
        source_folder: str,
        uidvalidity: int,
        target_folder: str,
        messages: Sequence[InFlight],
    ) -> None:
        """Before a batch of one folder generation goes to ``target_folder``: one transaction,
        each row's attempts counted up."""
        if not messages:
            return
        stamp = now_iso()
        state = MessageState.IN_FLIGHT.value
        with self.store.transaction() as tx:
            tx.executemany(
                f"INSERT INTO copy_messages ({_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?, '', 1, ?, ?) "
                "ON CONFLICT (mailbox, source_folder, uidvalidity, uid) DO UPDATE SET "
                "target_folder = excluded.target_folder, message_id = excluded.message_id, "
                "size = excluded.size, sha256 = excluded.sha256, "
                "internaldate = excluded.internaldate, flags = excluded.flags, "
                "state = excluded.state, reason = '', attempts = copy_messages.attempts + 1, "
                "updated_at = excluded.updated_at",
                [
                    (
                        mailbox,
                        source_folder,
                        uidvalidity,
                        m.uid,
                        target_folder,
                        m.message_id,
                        m.size,
                        m.sha256,
                        m.internaldate,
                        dump_flags(m.flags),
                        state,
                        stamp,
                        stamp,
                    )
                    for m in messages
                ],
            )

    def record(self, records: Sequence[MessageRecord]) -> None:
        """Write the outcome of a batch (copied, failed or skipped) in one transaction. A reason
        may quote a server's reply: no secret this process holds is written with it."""
        if not records:
            return
        stamp = now_iso()
        reasons = _redacted(r.reason for r in records)
        with self.store.transaction() as tx:
            tx.executemany(
                f"INSERT INTO copy_messages ({_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (mailbox, source_folder, uidvalidity, uid) DO UPDATE SET "
                "target_folder = excluded.target_folder, target_id = excluded.target_id, "
                "message_id = excluded.message_id, size = excluded.size, "
                "sha256 = CASE WHEN excluded.sha256 != '' THEN excluded.sha256 "
                "ELSE copy_messages.sha256 END, "
                "internaldate = excluded.internaldate, flags = excluded.flags, "
                "state = excluded.state, reason = excluded.reason, "
                "attempts = MAX(copy_messages.attempts, excluded.attempts), "
                "updated_at = excluded.updated_at",
                [
                    (
                        r.mailbox,
                        r.source_folder,
                        r.uidvalidity,
                        r.uid,
                        r.target_folder,
                        r.target_id,
                        r.message_id,
                        r.size,
                        r.sha256,
                        r.internaldate,
                        dump_flags(r.flags),
                        r.state.value,
                        reasons.get(r.reason, r.reason),
                        r.attempts,
                        stamp,
                        stamp,
                    )
                    for r in records
                ],
            )

    def confirm(
        self,
        mailbox: str,
        source_folder: str,
        uidvalidity: int,
        outcomes: Sequence[tuple[int, MessageState, str, str, int]],
    ) -> bool:
        """The outcome of a batch :meth:`mark_in_flight` wrote, as (uid, state, target id,
        reason, attempts): only what changed is written, in one transaction (a third of the cost
        of :meth:`record`). False, with nothing written, when a row is not in the ledger: the
        caller then writes whole rows with :meth:`record`."""
        if not outcomes:
            return True
        stamp = now_iso()
        reasons = _redacted(o[3] for o in outcomes)
        try:
            with self.store.transaction() as tx:
                cursor = tx.executemany(
                    "UPDATE copy_messages SET state = ?, target_id = ?, reason = ?, "
                    "attempts = MAX(attempts, ?), updated_at = ? "
                    "WHERE mailbox = ? AND source_folder = ? AND uidvalidity = ? AND uid = ?",
                    [
                        (
                            state.value,
                            target_id,
                            reasons.get(reason, reason),
                            attempts,
                            stamp,
                            mailbox,
                            source_folder,
                            uidvalidity,
                            uid,
                        )
                        for uid, state, target_id, reason, attempts in outcomes
                    ],
                )
                if cursor.rowcount != len(outcomes):
                    raise _NotAllThere
        except _NotAllThere:  # rolled back
            return False
        return True

    def update_flags(
        self, mailbox: str, source_folder: str, uidvalidity: int, flags: dict[int, tuple[str, ...]]
    ) -> None:
        """Remember the flags a copied message now has (after a differential flag sync)."""
        if not flags:
            return
        stamp = now_iso()
        with self.store.transaction() as tx:
            tx.executemany(
                "UPDATE copy_messages SET flags = ?, updated_at = ? WHERE mailbox = ? AND "
                "source_folder = ? AND uidvalidity = ? AND uid = ?",
                [
                    (dump_flags(f), stamp, mailbox, source_folder, uidvalidity, uid)
                    for uid, f in flags.items()
                ],
            )

    def move_generation(
        self,
        mailbox: str,
        source_folder: str,
        old_uidvalidity: int,
        moves: dict[int, tuple[int, int]],
    ) -> None:
        """After a UIDVALIDITY change: give re-matched rows their new (UIDVALIDITY, UID).

        ``moves`` maps an old UID to its new (uidvalidity, uid). Rows of the old generation that
        matched nothing are dropped: their message is gone from the source.
        """
        stamp = now_iso()
        with self.store.transaction() as tx:
            tx.executemany(
                "UPDATE copy_messages SET uidvalidity = ?, uid = ?, updated_at = ?, "
                "reason = 're-matched after a UIDVALIDITY change' "
                "WHERE mailbox = ? AND source_folder = ? AND uidvalidity = ? AND uid = ?",
                [
                    (new_validity, new_uid, stamp, mailbox, source_folder, old_uidvalidity, old)
                    for old, (new_validity, new_uid) in moves.items()
                ],
            )
            tx.execute(
                "DELETE FROM copy_messages WHERE mailbox = ? AND source_folder = ? AND "
                "uidvalidity = ?",
                (mailbox, source_folder, old_uidvalidity),
            )

    def totals(self, mailbox: str, source_folder: str | None = None) -> LedgerTotals:
        sql = (
            "SELECT state, COUNT(*) AS n, COALESCE(SUM(size), 0) AS b FROM copy_messages "
            "WHERE mailbox = ?"
        )
        params: list[object] = [mailbox]
        if source_folder is not None:
            sql += " AND source_folder = ?"
            params.append(source_folder)
        sql += " GROUP BY state"
        counts = {
            r["state"]: (int(r["n"]), int(r["b"])) for r in self.store.query(sql, tuple(params))
        }
        return LedgerTotals(
            copied=counts.get(MessageState.COPIED, (0, 0))[0],
            skipped=counts.get(MessageState.SKIPPED, (0, 0))[0],
            failed=counts.get(MessageState.FAILED, (0, 0))[0],
            in_flight=counts.get(MessageState.IN_FLIGHT, (0, 0))[0],
            copied_bytes=counts.get(MessageState.COPIED, (0, 0))[1],
        )

    def problems(self, mailbox: str | None = None) -> list[MessageRecord]:
        """Failed and skipped rows, for the failures panel and the verification."""
        sql = f"SELECT {_COLUMNS} FROM copy_messages WHERE state IN (?, ?)"
        params: list[object] = [MessageState.FAILED.value, MessageState.SKIPPED.value]
        if mailbox is not None:
            sql += " AND mailbox = ?"
            params.append(mailbox)
        sql += " ORDER BY mailbox, source_folder, uid"
        return [_row_to_record(r) for r in self.store.query(sql, tuple(params))]

    def mailboxes(self) -> list[str]:
        """Every mailbox the ledger knows about."""
        rows = self.store.query(
            "SELECT mailbox FROM copy_folders UNION SELECT mailbox FROM copy_messages "
            "ORDER BY mailbox"
        )
        return [r["mailbox"] for r in rows]

    # ----- runs and throughput ---------------------------------------------------------------

    def start_run(self, mailbox: str, mode: RunMode) -> int:
        with self.store.transaction() as tx:
            cursor = tx.execute(
                "INSERT INTO copy_runs (mailbox, mode, state, started_at, pid) "
                "VALUES (?, ?, ?, ?, ?)",
                (mailbox, mode.value, RunState.RUNNING.value, now_iso(), os.getpid()),
            )
            return int(cursor.lastrowid or 0)

    def finish_run(
        self, run_id: int, state: RunState, *, messages: int, bytes_copied: int, failures: int
    ) -> None:
        with self.store.transaction() as tx:
            tx.execute(
                "UPDATE copy_runs SET state = ?, finished_at = ?, messages = ?, bytes = ?, "
                "failures = ? WHERE id = ?",
                (state.value, now_iso(), messages, bytes_copied, failures, run_id),
            )

    def add_sample(
        self, run_id: int, messages: int, bytes_copied: int, at: float | None = None
    ) -> None:
        with self.store.transaction() as tx:
            tx.execute(
                "INSERT INTO copy_samples (run_id, at, messages, bytes) VALUES (?, ?, ?, ?)",
                (run_id, time.time() if at is None else at, messages, bytes_copied),
            )

    def runs(self, mailbox: str | None = None) -> list[CopyRun]:
        sql = "SELECT * FROM copy_runs"
        params: tuple[object, ...] = ()
        if mailbox is not None:
            sql += " WHERE mailbox = ?"
            params = (mailbox,)
        return [
            CopyRun(
                int(r["id"]),
                r["mailbox"],
                RunMode(r["mode"]),
                RunState(r["state"]),
                r["started_at"],
                r["finished_at"],
                int(r["pid"]),
                int(r["messages"]),
                int(r["bytes"]),
                int(r["failures"]),
            )
            for r in self.store.query(sql + " ORDER BY id", params)
        ]

    def samples(self, run_id: int) -> list[ThroughputSample]:
        rows = self.store.query(
            "SELECT at, messages, bytes FROM copy_samples WHERE run_id = ? ORDER BY at", (run_id,)
        )
        return [ThroughputSample(float(r["at"]), int(r["messages"]), int(r["bytes"])) for r in rows]


__all__ = [
    "CopyLedger",
    "CopyRun",
    "FolderMark",
    "InFlight",
    "LedgerTotals",
    "MessageRecord",
    "MessageState",
    "RunMode",
    "RunState",
    "ThroughputSample",
]
