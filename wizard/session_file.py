"""The session file on disk: its SQLite schema and migrations, opening checks and process lock.

A session file is marked by ``APPLICATION_ID`` and versioned by ``PRAGMA user_version``; engines
that need tables of their own add a migration to ``MIGRATIONS`` (append-only). A damaged or newer
file is refused and never written to.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import socket
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .formatting import now_iso
from .session_records import SessionDamaged, SessionLocked, SessionTooNew, default_actor

APPLICATION_ID = 0x0B0A_4D31  # marks a SQLite file as an onboard session


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


class ProcessLock:
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


def connect(path: Path, read_only: bool = False) -> sqlite3.Connection:
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


def check_file(path: Path, db: sqlite3.Connection) -> int:
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


def backup_before_migration(path: Path, db: sqlite3.Connection, version: int) -> None:
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    backup = path.with_name(f"{path.name}.v{version}.bak")
    if not backup.exists():
        shutil.copy2(path, backup)
        os.chmod(backup, 0o600)


def migrate(db: sqlite3.Connection, current: int) -> None:
    for version in range(current, schema_version()):
        db.execute("BEGIN IMMEDIATE")
        try:
            MIGRATIONS[version](db)
            db.execute(f"PRAGMA user_version = {version + 1}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
