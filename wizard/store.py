"""One onboarding session = one SQLite file (WAL), with a schema version and a process lock.

The store holds the customer, domain, provider profile snapshot, each step's state with who and
when, checklist ticks, operator notes, evidence records that the engines append, the mailbox list,
free-form settings, and an audit history. Passwords never enter this file (see ``secrets.py``).
Engines that need tables of their own add a migration to ``MIGRATIONS``; nothing is changed by hand.
"""

from __future__ import annotations

import contextlib
import fcntl
import getpass
import json
import os
import shutil
import socket
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from .playbook import ChecklistItem, Playbook, StepText, default_playbook
from .profile import ProviderProfile, parse_profile

APPLICATION_ID = 0x0B0A_4D31  # marks a SQLite file as an onboard session


class SessionError(Exception):
    """Base class for problems opening or using a session file."""


class SessionDamaged(SessionError):
    """The file is not a readable onboard session; it is left exactly as it was."""


class SessionTooNew(SessionError):
    """The file was written by a newer onboard; it is left exactly as it was."""


class SessionLocked(SessionError):
    """Another onboard process holds the session."""

    def __init__(self, path: Path, holder: dict[str, Any] | None) -> None:
        self.path = path
        self.holder = holder or {}
        if holder:
            who = f"{holder.get('user', '?')}@{holder.get('host', '?')} (pid {holder.get('pid', '?')})"
            since = holder.get("since", "?")
            what = holder.get("what", "onboard")
            message = (
                f"session {path.stem} is open in another {what} by {who} since {since}; "
                "close it there first"
            )
        else:
            message = (
                f"session {path.stem} is in use by another onboard process (a headless copy or "
                "check); wait for it to finish"
            )
        super().__init__(message)


class SessionExists(SessionError):
    """A session file with that name exists already."""


class StepState(StrEnum):
    NOT_STARTED = "not-started"
    IN_PROGRESS = "in-progress"
    DONE = "done"
    SKIPPED = "skipped"
    BLOCKED = "blocked"

    @property
    def label(self) -> str:
        return self.value.replace("-", " ")

    @property
    def needs_reason(self) -> bool:
        return self in (StepState.SKIPPED, StepState.BLOCKED)

    @property
    def settled(self) -> bool:
        """Counts as finished for progress and dependency purposes."""
        return self in (StepState.DONE, StepState.SKIPPED)


@dataclass(frozen=True)
class StepRecord:
    number: str
    state: StepState = StepState.NOT_STARTED
    reason: str = ""
    actor: str = ""
    changed_at: str = ""
    override: str = ""


@dataclass(frozen=True)
class ChecklistTick:
    item_id: str
    ticked: bool
    actor: str
    changed_at: str


@dataclass(frozen=True)
class Evidence:
    id: int
    step: str
    kind: str
    created_at: str
    summary: str
    ok: bool | None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Mailbox:
    """One mailbox pair to migrate: the login on the old server and the address it gets."""

    id: int
    source_login: str
    target_address: str
    display_name: str = ""


@dataclass(frozen=True)
class HistoryEntry:
    at: str
    actor: str
    step: str
    action: str
    detail: str


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def default_actor() -> str:
    """Who is at the keyboard: ONBOARD_OPERATOR, else the login name."""
    name = os.environ.get("ONBOARD_OPERATOR", "").strip()
    if name:
        return name
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "operator"


def run_script(db: sqlite3.Connection, script: str) -> None:
    """Run ';'-separated DDL inside the caller's transaction (executescript would commit it)."""
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


def _migrate_v1(db: sqlite3.Connection) -> None:
    run_script(
        db,
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE steps (
            number TEXT PRIMARY KEY,
            state TEXT NOT NULL,
            reason TEXT NOT NULL DEFAULT '',
            actor TEXT NOT NULL DEFAULT '',
            changed_at TEXT NOT NULL DEFAULT '',
            override TEXT NOT NULL DEFAULT ''
        );
        CREATE TABLE checklist (
            step TEXT NOT NULL,
            item_id TEXT NOT NULL,
            ticked INTEGER NOT NULL,
            actor TEXT NOT NULL,
            changed_at TEXT NOT NULL,
            PRIMARY KEY (step, item_id)
        );
        CREATE TABLE notes (
            step TEXT PRIMARY KEY,
            text TEXT NOT NULL,
            actor TEXT NOT NULL,
            changed_at TEXT NOT NULL
        );
        CREATE TABLE evidence (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            step TEXT NOT NULL,
            kind TEXT NOT NULL,
            created_at TEXT NOT NULL,
            summary TEXT NOT NULL,
            ok INTEGER,
            data TEXT NOT NULL
        );
        CREATE INDEX evidence_by_step ON evidence (step, kind);
        CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE mailboxes (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            source_login TEXT NOT NULL,
            target_address TEXT NOT NULL UNIQUE COLLATE NOCASE,
            display_name TEXT NOT NULL DEFAULT '',
            position INTEGER NOT NULL
        );
        CREATE TABLE history (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            step TEXT NOT NULL,
            action TEXT NOT NULL,
            detail TEXT NOT NULL
        );
        """,
    )


def _migrate_v2(db: sqlite3.Connection) -> None:
    """The copy ledger (wizard/copy/ledger.py): folders, messages, runs and throughput samples."""
    run_script(
        db,
        """
        CREATE TABLE copy_folders (
            mailbox TEXT NOT NULL,
            source_folder TEXT NOT NULL,
            uidvalidity INTEGER NOT NULL,
            last_seen_uid INTEGER NOT NULL DEFAULT 0,
            target_folder TEXT NOT NULL DEFAULT '',
            updated_at TEXT NOT NULL,
            PRIMARY KEY (mailbox, source_folder)
        );
        CREATE TABLE copy_messages (
            mailbox TEXT NOT NULL,
            source_folder TEXT NOT NULL,
            uidvalidity INTEGER NOT NULL,
            uid INTEGER NOT NULL,
            target_folder TEXT NOT NULL DEFAULT '',
            target_id TEXT NOT NULL DEFAULT '',
            message_id TEXT NOT NULL DEFAULT '',
            size INTEGER NOT NULL DEFAULT 0,
            sha256 TEXT NOT NULL DEFAULT '',
            internaldate TEXT NOT NULL DEFAULT '',
            flags TEXT NOT NULL DEFAULT '',
            state TEXT NOT NULL,
            reason TEXT NOT NULL DEFAULT '',
            attempts INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (mailbox, source_folder, uidvalidity, uid)
        );
        CREATE INDEX copy_messages_by_state ON copy_messages (mailbox, state);
        CREATE INDEX copy_messages_by_message_id ON copy_messages (mailbox, message_id);
        CREATE TABLE copy_runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            mailbox TEXT NOT NULL,
            mode TEXT NOT NULL,
            state TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT NOT NULL DEFAULT '',
            pid INTEGER NOT NULL DEFAULT 0,
            messages INTEGER NOT NULL DEFAULT 0,
            bytes INTEGER NOT NULL DEFAULT 0,
            failures INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX copy_runs_by_mailbox ON copy_runs (mailbox, id);
        CREATE TABLE copy_samples (
            run_id INTEGER NOT NULL REFERENCES copy_runs (id) ON DELETE CASCADE,
            at REAL NOT NULL,
            messages INTEGER NOT NULL,
            bytes INTEGER NOT NULL
        );
        CREATE INDEX copy_samples_by_run ON copy_samples (run_id, at);
        """,
    )


# Append-only: MIGRATIONS[i] brings a file from schema version i to i + 1.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_migrate_v1, _migrate_v2]


def schema_version() -> int:
    return len(MIGRATIONS)


class _ProcessLock:
    """An advisory lock file beside the session; exclusive for the app, shared for headless runs."""

    def __init__(self, path: Path, exclusive: bool, what: str) -> None:
        self.path = path.with_name(path.name + ".lock")
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self._read_holder(fd)
            os.close(fd)
            raise SessionLocked(path, holder) from None
        self.fd = fd
        if exclusive:
            info = {
                "pid": os.getpid(),
                "user": default_actor(),
                "host": socket.gethostname(),
                "since": now_iso(),
                "what": what,
            }
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(info).encode(), 0)

    @staticmethod
    def _read_holder(fd: int) -> dict[str, Any] | None:
        try:
            raw = os.pread(fd, 4096, 0)
            return json.loads(raw) if raw else None
        except (OSError, ValueError):
            return None

    def release(self) -> None:
        if self.fd >= 0:
            with contextlib.suppress(OSError):
                os.ftruncate(self.fd, 0)
            os.close(self.fd)
            self.fd = -1


class SessionStore:
    """An open session file. Writes are atomic transactions; the object is thread-safe."""

    def __init__(self, path: Path, db: sqlite3.Connection, lock: _ProcessLock | None) -> None:
        self.path = path
        self._db = db
        self._lock = lock
        self._mutex = threading.RLock()
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
        lock = _ProcessLock(path, exclusive=True, what="onboard")
        db = cls._connect(path)
        try:
            with db:
                db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            cls._migrate(db, 0)
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
                "third_party_filter": "1" if third_party_filter else "0",
                "demo": "1" if demo else "0",
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
        from .session_file import check_before_open, check_tables

        path = Path(path)
        if not path.is_file():
            raise SessionError(f"no session file at {path}")
        check_before_open(path, writable=lock is not None)  # empty or read-only: never opened
        process_lock = None
        if lock is not None:
            process_lock = _ProcessLock(path, exclusive=(lock == "exclusive"), what=what)
        try:
            db = cls._connect(path, read_only=lock is None)
            try:
                version = cls._check(path, db)
                check_tables(path, db, version)
                if version < schema_version():
                    if lock is None:
                        raise SessionError(
                            f"session {path.stem} uses an older format; open it once in onboard "
                            "to upgrade it"
                        )
                    cls._backup_before_migration(path, db, version)
                    cls._migrate(db, version)
            except BaseException:
                db.close()
                raise
        except BaseException:
            if process_lock:
                process_lock.release()
            raise
        return cls(path, db, process_lock)

    @staticmethod
    def _connect(path: Path, read_only: bool = False) -> sqlite3.Connection:
        mode = "ro" if read_only else "rw"
        try:
            db = sqlite3.connect(
                f"file:{path}?mode={mode}",
                uri=True,
                timeout=10.0,
                check_same_thread=False,
                isolation_level=None,
            )
            db.execute("PRAGMA busy_timeout = 10000")
            if not read_only:
                db.execute("PRAGMA journal_mode = WAL")
                db.execute("PRAGMA synchronous = NORMAL")
            db.execute("PRAGMA foreign_keys = ON")
        except sqlite3.DatabaseError as exc:
            raise SessionDamaged(
                f"{path} is not a readable session file ({exc}); it was left untouched"
            ) from None
        return db

    @staticmethod
    def _check(path: Path, db: sqlite3.Connection) -> int:
        try:
            app_id = db.execute("PRAGMA application_id").fetchone()[0]
            version = db.execute("PRAGMA user_version").fetchone()[0]
            result = db.execute("PRAGMA quick_check").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise SessionDamaged(
                f"{path} is damaged or not a session file ({exc}); it was left untouched"
            ) from None
        if app_id != APPLICATION_ID:
            raise SessionDamaged(f"{path} is not an onboard session file; it was left untouched")
        if result != "ok":
            raise SessionDamaged(f"{path} is damaged ({result}); it was left untouched")
        if version > schema_version():
            raise SessionTooNew(
                f"{path} was written by a newer onboard (format {version}, this one reads up to "
                f"{schema_version()}); upgrade onboard to open it. The file was left untouched."
            )
        return int(version)

    @staticmethod
    def _backup_before_migration(path: Path, db: sqlite3.Connection, version: int) -> None:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        backup = path.with_name(f"{path.name}.v{version}.bak")
        if not backup.exists():
            shutil.copy2(path, backup)
            os.chmod(backup, 0o600)

    @staticmethod
    def _migrate(db: sqlite3.Connection, current: int) -> None:
        for version in range(current, schema_version()):
            db.execute("BEGIN IMMEDIATE")
            try:
                MIGRATIONS[version](db)
                db.execute(f"PRAGMA user_version = {version + 1}")
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._mutex:
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
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('updated_at', ?)", (now_iso(),)
            )
            self._db.execute("COMMIT")

    def transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """An atomic write transaction, for engines that keep tables of their own."""
        return self._tx()

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._mutex:
            if self._db is None:
                raise SessionError(f"session {self.path.stem} is closed")
            cursor = self._db.execute(sql, params)
            cursor.row_factory = sqlite3.Row  # type: ignore[assignment]
            return cursor.fetchall()

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
        return self._meta("demo") == "1"

    @property
    def created_at(self) -> str:
        return self._meta("created_at")

    @property
    def updated_at(self) -> str:
        return self._meta("updated_at")

    @property
    def third_party_filter(self) -> bool:
        return self._meta("third_party_filter") == "1"

    def set_third_party_filter(self, enabled: bool, actor: str | None = None) -> None:
        self._set_meta(
            "third_party_filter",
            "1" if enabled else "0",
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
        """Append what a check found; evidence is never edited, only added."""
        self.playbook.step(step)
        stamp = now_iso()
        payload = json.dumps(data or {}, sort_keys=True, default=str)
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
            self._log(tx, who, "3", "mailboxes added", f"{len(pairs)} mailbox(es)")
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
            self._log(tx, actor or default_actor(), "3", "mailbox edited", target)

    def remove_mailbox(self, mailbox_id: int, actor: str | None = None) -> None:
        with self._tx() as tx:
            tx.execute("DELETE FROM mailboxes WHERE id = ?", (mailbox_id,))
            self._log(tx, actor or default_actor(), "3", "mailbox removed", str(mailbox_id))

    # ----- history ---------------------------------------------------------------------

    def history(self, step: str | None = None) -> list[HistoryEntry]:
        if step is None:
            rows = self.query("SELECT * FROM history ORDER BY id")
        else:
            rows = self.query("SELECT * FROM history WHERE step = ? ORDER BY id", (step,))
        return [
            HistoryEntry(r["at"], r["actor"], r["step"], r["action"], r["detail"]) for r in rows
        ]
