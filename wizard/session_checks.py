"""A session file onboard cannot use as it is: empty, read-only, incomplete or gone. Each is found
before SQLite could write to the file, gets its own message and exit code, and the file is left
exactly as it was; `onboard delete --force` removes such a session after saying what it removes.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .session_file import MIGRATIONS
from .session_records import SessionDamaged, SessionError

if TYPE_CHECKING:
    from .store import SessionStore


class SessionEmpty(SessionDamaged):
    """The file has no bytes at all (a copy that failed, a full disk): nothing to open."""

    exit_code = 9


class SessionReadOnly(SessionError):
    """The file, or its folder, cannot be written by this user: onboard needs to save as it goes."""

    exit_code = 7


class SessionIncomplete(SessionDamaged):
    """The file is an onboard session, but parts of it (tables, columns) are missing."""

    exit_code = 8


class SessionVanished(SessionError):
    """The session file or its folder disappeared while onboard was working with it."""

    exit_code = 10


def check_before_open(path: Path, *, writable: bool) -> None:
    """Refuse a file SQLite should not open: empty (it would be rewritten as a new database), or
    not writable when onboard is to write (it would fail half-way through a change)."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise SessionVanished(f"the session file {path} is gone") from None
    if size == 0:
        raise SessionEmpty(
            f"{path} is empty (0 bytes), not a session; it was left untouched. Restore it from a "
            f"backup, or remove it with `onboard delete {path.stem} --force`"
        )
    if not writable:
        return
    for what, where in (("file", path), ("folder", path.parent)):
        if not os.access(where, os.W_OK):
            raise SessionReadOnly(
                f"the session {what} {where} is read-only for this user, and onboard saves every "
                f"change as it goes; make it writable (chmod u+w {where}) or open it as its owner. "
                "Nothing was changed."
            )


@functools.cache
def expected_columns(version: int) -> dict[str, frozenset[str]]:
    """Table -> columns of a session file of schema `version`, as its migrations make them."""
    db = sqlite3.connect(":memory:", isolation_level=None)
    try:
        for migrate in MIGRATIONS[:version]:
            migrate(db)
        return _columns(db)
    finally:
        db.close()


def _columns(db: sqlite3.Connection) -> dict[str, frozenset[str]]:
    tables = [
        row[0]
        for row in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return {t: frozenset(r[1] for r in db.execute(f'PRAGMA table_info("{t}")')) for t in tables}


def check_tables(path: Path, db: sqlite3.Connection, version: int) -> None:
    """Refuse a session file that lacks a table or a column its format has."""
    found = _columns(db)
    missing_tables = sorted(set(expected_columns(version)) - set(found))
    missing_columns = sorted(
        f"{table}.{column}"
        for table, columns in expected_columns(version).items()
        if table in found
        for column in columns - found[table]
    )
    missing = missing_tables + missing_columns
    if missing:
        shown = ", ".join(missing[:6]) + (" …" if len(missing) > 6 else "")
        raise SessionIncomplete(
            f"{path} is an onboard session with parts missing ({shown}); it was left untouched. "
            f"Restore it from a backup, or remove it with `onboard delete {path.stem} --force`"
        )


def session_vanished(store: SessionStore) -> bool:
    """Whether the open session's file (or its folder) was deleted or replaced meanwhile."""
    return not store.path.is_file()


def vanished_message(store: SessionStore, what: str) -> str:
    """What to tell the operator when the session disappeared during `what` (a copy ...)."""
    return (
        f"the session file {store.path} (or its folder) disappeared during the {what}: what was "
        "done is on the servers, but the session's record of it (the copy ledger, the evidence) "
        "went with the file. Restore the folder from a backup before going on; without it a "
        "new copy would not know which messages are already there"
    )


@dataclass(frozen=True)
class DamagedSession:
    """What `onboard delete --force` removes: the files, and the secret keys it could read."""

    path: Path
    files: tuple[Path, ...]
    secret_keys: tuple[str, ...]
    keys_complete: bool  # False: the file could not tell every key (some may stay in the keyring)


def inspect_damaged(path: Path) -> DamagedSession:
    """Read what can be read of a session that does not open, never writing to it."""
    files = tuple(sorted(p for p in path.parent.glob(path.name + "*") if p.is_file()))
    keys, complete = _readable_secret_keys(path)
    return DamagedSession(path, files, keys, complete)


def _readable_secret_keys(path: Path) -> tuple[tuple[str, ...], bool]:
    from .secrets import source_password_key, target_password_key

    keys: list[str] = []
    complete = True
    if not path.is_file() or path.stat().st_size == 0:
        return (), True  # an empty file never held a mailbox
    try:
        # immutable=1: SQLite opens no journal and writes nothing, not even a -shm file.
        db = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error:
        return (), False
    try:
        try:
            for login, target in db.execute("SELECT source_login, target_address FROM mailboxes"):
                keys += [
                    source_password_key(str(login)),
                    target_password_key(str(target)),
                    target_password_key(str(login)),
                ]
        except sqlite3.Error:
            complete = False
        try:
            row = db.execute("SELECT value FROM settings WHERE key = 'secrets.keys'").fetchone()
            if row:
                import json

                keys += [str(k) for k in json.loads(row[0]) or []]
        except (sqlite3.Error, ValueError, TypeError):
            complete = False
    finally:
        with contextlib.suppress(sqlite3.Error):
            db.close()
    return tuple(dict.fromkeys(keys)), complete


def remove_damaged(damaged: DamagedSession) -> None:
    """Delete the secrets listed and every file of the session (`inspect_damaged` said which)."""
    from .secrets import SecretStore

    secrets = SecretStore(damaged.path.stem)
    secrets.delete_all(list(damaged.secret_keys))
    for file in damaged.files:
        file.unlink(missing_ok=True)


__all__ = [
    "DamagedSession",
    "SessionEmpty",
    "SessionIncomplete",
    "SessionReadOnly",
    "SessionVanished",
    "check_before_open",
    "check_tables",
    "inspect_damaged",
    "remove_damaged",
    "session_vanished",
    "vanished_message",
]
