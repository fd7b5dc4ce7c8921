"""One copy per mailbox at a time, across processes and machines that share the session file.

Before a mailbox run writes anything it takes the mailbox's hold: a row in the session's
``copy_holds`` table (host, pid, user, since when, a heartbeat), written in one immediate
transaction so two copies cannot both take it. A second copy of the same mailbox is refused with
who holds it; other mailboxes of the session are not held by it and may run. A holder that was
killed does not block forever: on the same host a dead pid frees the hold at once, anywhere else
a heartbeat older than ``STALE_AFTER`` seconds does. The table is made on first use (it holds
nothing that outlives a run, so it needs no schema version of its own).
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from ..store import SessionStore, default_actor, now_iso
from .errors import CopyError

HEARTBEAT_SECONDS = 5.0  # how often a running copy says it is alive
STALE_AFTER = 60.0  # a hold whose heartbeat is older than this belongs to a copy that is gone

_TABLE = (
    "CREATE TABLE IF NOT EXISTS copy_holds (mailbox TEXT PRIMARY KEY COLLATE NOCASE, "
    "token TEXT NOT NULL, host TEXT NOT NULL, pid INTEGER NOT NULL, user TEXT NOT NULL, "
    "since TEXT NOT NULL, heartbeat REAL NOT NULL)"
)


@dataclass(frozen=True)
class MailboxHolder:
    """Who holds a mailbox: the copy that runs it now."""

    mailbox: str
    host: str
    pid: int
    user: str
    since: str  # ISO time the hold was taken
    heartbeat: float  # seconds since the epoch of its last sign of life

    def describe(self) -> str:
        return f"{self.user}@{self.host} (pid {self.pid}) since {self.since}"


class MailboxHeld(CopyError):
    """Another copy holds this mailbox."""

    def __init__(self, holder: MailboxHolder) -> None:
        self.holder = holder
        super().__init__(
            f"{holder.mailbox} is being copied by another onboard copy, {holder.describe()}; "
            "wait for it to finish (or stop it there), then run this copy again"
        )


def _alive(holder: MailboxHolder, now: float, host: str) -> bool:
    if now - holder.heartbeat > STALE_AFTER:
        return False
    if holder.host != host:
        return True
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a process of another user: alive
        return True
    return True


class MailboxHold:
    """The hold of one mailbox by this process; a heartbeat thread keeps it fresh until
    ``release``. ``on_lost`` is called (once) if another copy took it over meanwhile."""

    def __init__(
        self,
        store: SessionStore,
        holder: MailboxHolder,
        token: str,
        on_lost: Callable[[], None],
        replaced: MailboxHolder | None = None,
    ) -> None:
        self.store = store
        self.holder = holder
        self.token = token
        self.on_lost = on_lost
        # The hold this one took over: a copy that was killed or went silent, whose last sends
        # may still be on their way to the target (its heartbeat says when it was last alive).
        self.replaced = replaced
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._beat, name=f"hold-{holder.mailbox}", daemon=True
        )
        self._thread.start()

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            try:
                with self.store.transaction() as tx:
                    still = tx.execute(
                        "UPDATE copy_holds SET heartbeat = ? WHERE mailbox = ? AND token = ?",
                        (time.time(), self.holder.mailbox, self.token),
                    ).rowcount
            except Exception:  # noqa: BLE001 - a busy file now and then; the next beat tries again
                continue
            if not still:
                self.on_lost()
                return

    def release(self) -> None:
        self._stop.set()
        self._thread.join(timeout=HEARTBEAT_SECONDS + 1)
        with contextlib.suppress(Exception), self.store.transaction() as tx:
            tx.execute(
                "DELETE FROM copy_holds WHERE mailbox = ? AND token = ?",
                (self.holder.mailbox, self.token),
            )


def take_hold(
    store: SessionStore, mailbox: str, *, on_lost: Callable[[], None] = lambda: None
) -> MailboxHold:
    """Hold ``mailbox`` for this process; MailboxHeld says who has it when another copy does."""
    host = socket.gethostname()
    token = uuid.uuid4().hex
    me = MailboxHolder(mailbox, host, os.getpid(), default_actor(), now_iso(), time.time())
    other: MailboxHolder | None = None
    with store.transaction() as tx:
        tx.execute(_TABLE)
        row = tx.execute(
            "SELECT mailbox, host, pid, user, since, heartbeat FROM copy_holds WHERE mailbox = ?",
            (mailbox,),
        ).fetchone()
        if row is not None:
            other = MailboxHolder(
                str(row[0]), str(row[1]), int(row[2]), str(row[3]), str(row[4]), float(row[5])
            )
            if _alive(other, me.heartbeat, host):
                raise MailboxHeld(other)
        tx.execute(
            "INSERT OR REPLACE INTO copy_holds (mailbox, token, host, pid, user, since, heartbeat)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (mailbox, token, me.host, me.pid, me.user, me.since, me.heartbeat),
        )
    return MailboxHold(store, me, token, on_lost, replaced=other)


def holders(store: SessionStore) -> list[MailboxHolder]:
    """Every hold recorded in the session (live or left by a copy that was killed)."""
    with store.transaction() as tx:
        tx.execute(_TABLE)
        rows = tx.execute(
            "SELECT mailbox, host, pid, user, since, heartbeat FROM copy_holds ORDER BY mailbox"
        ).fetchall()
    return [
        MailboxHolder(str(r[0]), str(r[1]), int(r[2]), str(r[3]), str(r[4]), float(r[5]))
        for r in rows
    ]


__all__ = ["MailboxHeld", "MailboxHold", "MailboxHolder", "holders", "take_hold"]
