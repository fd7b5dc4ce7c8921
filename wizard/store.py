"""One onboarding session = one SQLite file (WAL), with a schema version and a process lock.

The store holds the customer, domain, provider profile snapshot, each step's state with who and
when, checklist ticks, operator notes, evidence records that the engines append, the mailbox list,
free-form settings, and an audit history. Passwords never enter this file (see ``secrets.py``).
The file's schema, migrations and lock are in ``session_file.py``; the records it returns in
``session_records.py`` (re-exported here).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .formatting import now_iso
from .playbook import ChecklistItem, Kind, Playbook, StepText, default_playbook
from .profile import ProviderProfile, parse_profile
from .redaction import redact_in_use
from .session_file import (
    APPLICATION_ID,
    MIGRATIONS,
    ProcessLock,
    backup_before_migration,
    check_file,
    connect,
    migrate,
    run_script,
    schema_version,
)
from .session_records import (
    ChecklistTick,
    Evidence,
    HistoryEntry,
    Mailbox,
    SessionDamaged,
    SessionError,
    SessionExists,
    SessionLocked,
    SessionTooNew,
    StepRecord,
    StepState,
    default_actor,
)

__all__ = [
    "APPLICATION_ID",
    "MIGRATIONS",
    "ChecklistTick",
    "Evidence",
    "HistoryEntry",
    "Mailbox",
    "SessionDamaged",
    "SessionError",
    "SessionExists",
    "SessionLocked",
    "SessionStore",
    "SessionTooNew",
    "StepRecord",
    "StepState",
    "default_actor",
    "now_iso",
    "run_script",
    "schema_version",
]


class _Reader:
    """One thread's own read-only connection, closed when the thread ends (its thread-local
    goes) or when the store closes."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def close(self) -> None:
        try:  # noqa: SIM105 - no module globals: this also runs as __del__ at interpreter exit
            self.db.close()
        except Exception:  # noqa: BLE001 - closed already, or its thread gone
            pass

    __del__ = close


def _rows(cursor: sqlite3.Cursor) -> list[sqlite3.Row]:
    cursor.row_factory = sqlite3.Row  # type: ignore[assignment]
    return cursor.fetchall()


class SessionStore:
    """An open session file. Writes are atomic transactions; the object is thread-safe.

    Writes go through one connection, one transaction at a time. A writable store reads outside
    a transaction through a read-only connection of the reading thread's own (the file is in WAL
    mode, so readers see the last committed state and never wait for a writer): the copy's
    mailbox threads read their ledger rows while another mailbox commits its batch.
    """

    def __init__(self, path: Path, db: sqlite3.Connection, lock: ProcessLock | None) -> None:
        self.path = path
        self._db = db
        self._lock = lock
        self._mutex = threading.RLock()
        self._local = threading.local()  # .reader, .depth (transactions open in this thread)
        self._readers: weakref.WeakSet[_Reader] = weakref.WeakSet()
        self._readers_lock = threading.Lock()
        self._lock_free_reads = lock is not None
        self.playbook: Playbook = default_playbook()
        self._profile: ProviderProfile | None = None

    # ----- opening and closing -------------------------------------------------------------

    @classmethod
    def create(
        cls,
        path: Path,
        *,
        customer: str,
        domain: str,
        profile: ProviderProfile,
        third_party_filter: bool = False,
        demo: bool = False,
        actor: str | None = None,
    ) -> SessionStore:
        """Create a new session file (mode 0600) and open it with the exclusive lock."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            raise SessionExists(f"a session file already exists at {path}") from None
        os.close(fd)
        lock = ProcessLock(path, exclusive=True, what="onboard")
        db = connect(path)
        try:
            with db:
                db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            migrate(db, 0)
        except BaseException:
            db.close()
            lock.release()
            path.unlink(missing_ok=True)
            raise
        store = cls(path, db, lock)
        stamp = now_iso()
        who = actor or default_actor()
        with store._tx() as tx:
            for key, value in {
                "customer": customer,
                "domain": domain.strip().lower().rstrip("."),
                "third_party_filter": json.dumps(third_party_filter),
                "demo": json.dumps(demo),
                "profile_toml": profile.toml_text,
                "profile_source": profile.source,
                "created_at": stamp,
                "updated_at": stamp,
                "current_step": store.playbook.steps[0].number,
            }.items():
                tx.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (key, value))
            for step in store.playbook:
                tx.execute(
                    "INSERT INTO steps (number, state) VALUES (?, ?)",
                    (step.number, StepState.NOT_STARTED.value),
                )
            store._log(tx, who, "", "created", f"session for {customer} ({domain})")
        return store

    @classmethod
    def open(
        cls, path: Path, *, lock: str | None = "exclusive", what: str = "onboard"
    ) -> SessionStore:
        """Open an existing session.

        ``lock`` is "exclusive" for the interactive app, "shared" for headless commands that may
        run side by side, or None for read-only look-ups (listing, reports).
        A damaged or newer file is refused and never written to.
        """
        # Lazily: session_file builds on this module's errors and migrations.
        from .session_checks import check_before_open, check_tables

        path = Path(path)
        if not path.is_file():
            raise SessionError(f"no session file at {path}")
        check_before_open(path, writable=lock is not None)  # empty or read-only: never opened
        process_lock = None
        if lock is not None:
            process_lock = ProcessLock(path, exclusive=(lock == "exclusive"), what=what)
        try:
            db = connect(path, read_only=lock is None)
            try:
                version = check_file(path, db)
                check_tables(path, db, version)
                if version < schema_version():
                    if lock is None:
                        raise SessionError(
                            f"session {path.stem} uses an older format; open it once in onboard "
                            "to upgrade it"
                        )
                    backup_before_migration(path, db, version)
                    migrate(db, version)
            except BaseException:
                db.close()
                raise
        except BaseException:
            if process_lock:
                process_lock.release()
            raise
        return cls(path, db, process_lock)

    def close(self) -> None:
        with self._mutex:
            with self._readers_lock:
                for reader in list(self._readers):
                    reader.close()
                self._readers.clear()
            if self._db is not None:
                with contextlib.suppress(sqlite3.Error):
                    self._db.close()
                self._db = None  # type: ignore[assignment]
            if self._lock is not None:
                self._lock.release()
                self._lock = None

    @property
    def closed(self) -> bool:
        return self._db is None

    def __enter__(self) -> SessionStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._mutex:
            if self._db is None:
                raise SessionError(f"session {self.path.stem} is closed")
            self._db.execute("BEGIN IMMEDIATE")
            self._local.depth = getattr(self._local, "depth", 0) + 1
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            finally:
                self._local.depth -= 1
            self._db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('updated_at', ?)", (now_iso(),)
            )
            self._db.execute("COMMIT")

    def transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """An atomic write transaction, for engines that keep tables of their own."""
        return self._tx()

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        reader = self._reader()
        if reader is None:  # in this thread's transaction (it sees its own writes), or read-only
            with self._mutex:
                if self._db is None:
                    raise SessionError(f"session {self.path.stem} is closed")
                return _rows(self._db.execute(sql, params))
        try:
            return _rows(reader.db.execute(sql, params))
        except sqlite3.ProgrammingError:  # closed by close() in another thread meanwhile
            if self.closed:
                raise SessionError(f"session {self.path.stem} is closed") from None
            raise

    def _reader(self) -> _Reader | None:
        """This thread's read connection; None inside its transaction or on a read-only store
        (one connection, no writer to wait for)."""
        if not self._lock_free_reads or getattr(self._local, "depth", 0):
            return None
        reader = getattr(self._local, "reader", None)
        if reader is None or reader not in self._readers:  # none yet, or the store was closed
            if self._db is None:
                raise SessionError(f"session {self.path.stem} is closed")
            try:  # not under the write mutex: another thread's transaction may hold it
                reader = _Reader(connect(self.path, read_only=True))
            except SessionError:  # the file went (deleted, moved): read as before it did
                self._lock_free_reads = False
                return None
            with self._readers_lock:
                if self._db is None:
                    reader.close()
                    raise SessionError(f"session {self.path.stem} is closed")
                self._readers.add(reader)
            self._local.reader = reader
        return reader

    @staticmethod
    def _log(tx: sqlite3.Connection, actor: str, step: str, action: str, detail: str) -> None:
        tx.execute(
            "INSERT INTO history (at, actor, step, action, detail) VALUES (?, ?, ?, ?, ?)",
            (now_iso(), actor, step, action, detail),
        )

    # ----- session facts -----------------------------------------------------------------

    def _meta(self, key: str, default: str = "") -> str:
        rows = self.query("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0]["value"] if rows else default

    def _meta_flag(self, key: str) -> bool:
        """A yes/no fact: JSON true/false, as older versions' one/zero also read."""
        try:
            return bool(json.loads(self._meta(key) or "false"))
        except ValueError:
            return False

    def _set_meta(self, key: str, value: str, actor: str | None, detail: str) -> None:
        with self._tx() as tx:
            tx.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
            if detail:
                self._log(tx, actor or default_actor(), "", f"set {key}", detail)

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def customer(self) -> str:
        return self._meta("customer")

    @property
    def domain(self) -> str:
        return self._meta("domain")

    @property
    def demo(self) -> bool:
        return self._meta_flag("demo")

    @property
    def created_at(self) -> str:
        return self._meta("created_at")

    @property
    def updated_at(self) -> str:
        return self._meta("updated_at")

    @property
    def third_party_filter(self) -> bool:
        return self._meta_flag("third_party_filter")

    def set_third_party_filter(self, enabled: bool, actor: str | None = None) -> None:
        self._set_meta(
            "third_party_filter",
            json.dumps(enabled),
            actor,
            "third-party filtering " + ("kept in front of the mail" if enabled else "not used"),
        )

    @property
    def profile(self) -> ProviderProfile:
        if self._profile is None:
            self._profile = parse_profile(
                self._meta("profile_toml"), self._meta("profile_source") or "session profile"
            )
        return self._profile

    def set_profile(self, profile: ProviderProfile, actor: str | None = None) -> None:
        with self._tx() as tx:
            tx.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('profile_toml', ?)",
                (profile.toml_text,),
            )
            tx.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('profile_source', ?)",
                (profile.source,),
            )
            self._log(tx, actor or default_actor(), "", "set profile", profile.name)
        self._profile = profile

    @property
    def current_step(self) -> str:
        number = self._meta("current_step")
        return number if number in self.playbook else self.playbook.steps[0].number

    def set_current_step(self, number: str) -> None:
        self.playbook.step(number)  # refuses unknown steps
        with self._tx() as tx:
            tx.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('current_step', ?)", (number,)
            )

    # ----- steps -----------------------------------------------------------------------

    def step_record(self, number: str) -> StepRecord:
        self.playbook.step(number)
        rows = self.query("SELECT * FROM steps WHERE number = ?", (number,))
        if not rows:
            return StepRecord(number)
        row = rows[0]
        return StepRecord(
            number=row["number"],
            state=StepState(row["state"]),
            reason=row["reason"],
            actor=row["actor"],
            changed_at=row["changed_at"],
            override=row["override"],
        )

    def step_records(self) -> dict[str, StepRecord]:
        return {s.number: self.step_record(s.number) for s in self.playbook}

    def fill(self, text: str) -> str:
        """Put the session's provider name and domain into a playbook text."""
        return text.replace("{provider}", self.profile.name).replace("{domain}", self.domain)

    def step_text(self, number: str) -> StepText:
        """The step's text and checklist for this session's filtering variant, filled in."""
        variant = self.playbook.step(number).variant(self.third_party_filter)
        return StepText(
            text=self.fill(variant.text),
            checklist=tuple(
                ChecklistItem(id=item.id, text=self.fill(item.text)) for item in variant.checklist
            ),
        )

    def unmet_dependencies(self, number: str) -> list[str]:
        """Dependencies of a step that are neither done nor skipped."""
        records = self.step_records()
        return [d for d in self.playbook.step(number).depends if not records[d].state.settled]

    def set_step_state(
        self,
        number: str,
        state: StepState,
        *,
        reason: str = "",
        override: str = "",
        actor: str | None = None,
    ) -> StepRecord:
        """Record a step's new state. Skip and block need a reason."""
        self.playbook.step(number)
        reason = reason.strip()
        if state.needs_reason and not reason:
            raise ValueError(f"step {number}: a reason is needed to mark it {state.label}")
        who = actor or default_actor()
        stamp = now_iso()
        with self._tx() as tx:
            tx.execute(
                "UPDATE steps SET state = ?, reason = ?, actor = ?, changed_at = ?, override = ? "
                "WHERE number = ?",
                (state.value, reason, who, stamp, override.strip(), number),
            )
            detail = state.label + (f": {reason}" if reason else "")
            if override:
                detail += f" (override: {override.strip()})"
            self._log(tx, who, number, "state", detail)
        return self.step_record(number)

    def progress(self) -> tuple[int, int]:
        """(steps done or skipped, all steps)."""
        records = self.step_records().values()
        return sum(1 for r in records if r.state.settled), len(self.playbook)

    # ----- checklist and notes -----------------------------------------------------------

    def checklist(self, number: str) -> dict[str, ChecklistTick]:
        rows = self.query("SELECT * FROM checklist WHERE step = ?", (number,))
        return {
            r["item_id"]: ChecklistTick(
                r["item_id"], bool(r["ticked"]), r["actor"], r["changed_at"]
            )
            for r in rows
        }

    def tick(
        self, number: str, item_id: str, ticked: bool = True, actor: str | None = None
    ) -> None:
        self.playbook.step(number)
        who = actor or default_actor()
        with self._tx() as tx:
            tx.execute(
                "INSERT OR REPLACE INTO checklist (step, item_id, ticked, actor, changed_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (number, item_id, int(ticked), who, now_iso()),
            )
            self._log(tx, who, number, "ticked" if ticked else "unticked", item_id)

    def note(self, number: str) -> str:
        rows = self.query("SELECT text FROM notes WHERE step = ?", (number,))
        return rows[0]["text"] if rows else ""

    def note_meta(self, number: str) -> tuple[str, str]:
        """(who, when) of the last note edit, or empty strings."""
        rows = self.query("SELECT actor, changed_at FROM notes WHERE step = ?", (number,))
        return (rows[0]["actor"], rows[0]["changed_at"]) if rows else ("", "")

    def set_note(self, number: str, text: str, actor: str | None = None) -> None:
        self.playbook.step(number)
        if text == self.note(number):
            return
        who = actor or default_actor()
        with self._tx() as tx:
            tx.execute(
                "INSERT OR REPLACE INTO notes (step, text, actor, changed_at) VALUES (?, ?, ?, ?)",
                (number, text, who, now_iso()),
            )
            self._log(tx, who, number, "note", f"{len(text)} characters")

    def notes(self) -> dict[str, str]:
        return {r["step"]: r["text"] for r in self.query("SELECT step, text FROM notes")}

    # ----- evidence -------------------------------------------------------------------------

    def add_evidence(
        self,
        step: str,
        kind: str,
        summary: str,
        data: dict[str, Any] | None = None,
        *,
        ok: bool | None = None,
    ) -> Evidence:
        """Append what a check found; evidence is never edited, only added. Checks quote what
        servers answered, so no secret this process holds is written (plain or encoded)."""
        self.playbook.step(step)
        stamp = now_iso()
        summary = redact_in_use(summary)
        payload = json.dumps(redact_in_use(data or {}), sort_keys=True, default=str)
        with self._tx() as tx:
            cursor = tx.execute(
                "INSERT INTO evidence (step, kind, created_at, summary, ok, data) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (step, kind, stamp, summary, None if ok is None else int(ok), payload),
            )
            evidence_id = int(cursor.lastrowid or 0)
        return Evidence(evidence_id, step, kind, stamp, summary, ok, json.loads(payload))

    def evidence(self, step: str | None = None, kind: str | None = None) -> list[Evidence]:
        sql = "SELECT * FROM evidence WHERE 1 = 1"
        params: list[Any] = []
        if step is not None:
            sql += " AND step = ?"
            params.append(step)
        if kind is not None:
            sql += " AND kind = ?"
            params.append(kind)
        rows = self.query(sql + " ORDER BY id", tuple(params))
        return [
            Evidence(
                r["id"],
                r["step"],
                r["kind"],
                r["created_at"],
                r["summary"],
                None if r["ok"] is None else bool(r["ok"]),
                json.loads(r["data"]),
            )
            for r in rows
        ]

    def latest_evidence(self, step: str, kind: str) -> Evidence | None:
        found = self.evidence(step, kind)
        return found[-1] if found else None

    # ----- settings (JSON values that engines keep in the session) ----------------------------

    def setting(self, key: str, default: Any = None) -> Any:
        rows = self.query("SELECT value FROM settings WHERE key = ?", (key,))
        return json.loads(rows[0]["value"]) if rows else default

    def set_setting(self, key: str, value: Any, actor: str | None = None) -> None:
        with self._tx() as tx:
            tx.execute(
                "INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)",
                (key, json.dumps(value, sort_keys=True)),
            )
            self._log(tx, actor or default_actor(), "", "setting", key)

    # ----- mailboxes ----------------------------------------------------------------------

    @property
    def _mailbox_step(self) -> str:
        """The mailbox list is collected in the IMAP-settings step; its history goes there."""
        return self.playbook.number_of(Kind.IMAP_SETTINGS)

    def mailboxes(self) -> list[Mailbox]:
        rows = self.query("SELECT * FROM mailboxes ORDER BY position, id")
        return [
            Mailbox(r["id"], r["source_login"], r["target_address"], r["display_name"])
            for r in rows
        ]

    def add_mailboxes(
        self, pairs: list[tuple[str, str, str]], actor: str | None = None
    ) -> list[Mailbox]:
        """Add (source login, target address, display name) rows in one transaction: all or none."""
        who = actor or default_actor()
        added: list[int] = []
        with self._tx() as tx:
            start = tx.execute("SELECT COALESCE(MAX(position), 0) FROM mailboxes").fetchone()[0]
            for offset, (login, target, display) in enumerate(pairs, start=1):
                try:
                    cursor = tx.execute(
                        "INSERT INTO mailboxes (source_login, target_address, display_name, "
                        "position) VALUES (?, ?, ?, ?)",
                        (login.strip(), target.strip(), display.strip(), start + offset),
                    )
                except sqlite3.IntegrityError:
                    raise ValueError(
                        f"target address {target} is already in the mailbox list"
                    ) from None
                added.append(int(cursor.lastrowid or 0))
            self._log(tx, who, self._mailbox_step, "mailboxes added", f"{len(pairs)} mailbox(es)")
        return [m for m in self.mailboxes() if m.id in added]

    def update_mailbox(
        self, mailbox_id: int, login: str, target: str, display: str = "", actor: str | None = None
    ) -> None:
        with self._tx() as tx:
            try:
                tx.execute(
                    "UPDATE mailboxes SET source_login = ?, target_address = ?, display_name = ? "
                    "WHERE id = ?",
                    (login.strip(), target.strip(), display.strip(), mailbox_id),
                )
            except sqlite3.IntegrityError:
                raise ValueError(
                    f"target address {target} is already in the mailbox list"
                ) from None
            self._log(tx, actor or default_actor(), self._mailbox_step, "mailbox edited", target)

    def remove_mailbox(self, mailbox_id: int, actor: str | None = None) -> None:
        with self._tx() as tx:
            tx.execute("DELETE FROM mailboxes WHERE id = ?", (mailbox_id,))
            self._log(
                tx, actor or default_actor(), self._mailbox_step, "mailbox removed", str(mailbox_id)
            )

    # ----- history ---------------------------------------------------------------------

    def history(self, step: str | None = None) -> list[HistoryEntry]:
        if step is None:
            rows = self.query("SELECT * FROM history ORDER BY id")
        else:
            rows = self.query("SELECT * FROM history WHERE step = ? ORDER BY id", (step,))
        return [
            HistoryEntry(r["at"], r["actor"], r["step"], r["action"], r["detail"]) for r in rows
        ]
