"""Events the copy engine emits, on top of the shared ones in ``wizard.events``.

Per mailbox the engine emits ``Started``, then ``MailboxProgress`` (a ``Progress`` with the copy's
own fields; a newer one for the same mailbox supersedes an older one), ``Failure`` for each message
that could not be copied (code "message") or for a mailbox that stopped (code "mailbox"),
``FlagsChanged`` in a differential copy, ``CopyLog`` lines for the action log, and ``Done``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ..events import Event, Progress


class MailboxState(StrEnum):
    QUEUED = "queued"
    CONNECTING = "connecting"
    SCANNING = "scanning"
    COPYING = "copying"
    PAUSED = "paused"
    RETRYING = "retrying"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (MailboxState.DONE, MailboxState.FAILED, MailboxState.CANCELLED)


@dataclass(frozen=True)
class FolderProgress:
    """Counts of one source folder in the current run (already-copied mail counts as done)."""

    folder: str
    target: str
    messages_done: int = 0
    messages_total: int = 0
    bytes_done: int = 0
    bytes_total: int = 0
    failed: int = 0
    skipped: int = 0


@dataclass(frozen=True)
class MailboxProgress(Progress):
    """Where one mailbox stands. ``done``/``total`` count messages, ``bytes_*`` their sizes."""

    state: MailboxState = MailboxState.QUEUED
    folder: str = ""  # the folder being copied now
    rate_bytes: float = 0.0  # bytes per second over the last few seconds
    rate_messages: float = 0.0
    eta_seconds: float | None = None
    failed: int = 0
    skipped: int = 0
    copied_this_run: int = 0
    folders: tuple[FolderProgress, ...] = ()

    @property
    def fraction(self) -> float:
        if self.bytes_total:
            return min(1.0, self.bytes_done / self.bytes_total)
        if self.total:
            return min(1.0, self.done / self.total)
        return 1.0 if self.state is MailboxState.DONE else 0.0


@dataclass(frozen=True)
class FlagsChanged(Event):
    """A copied message's flags changed on the source since it was copied (differential copy)."""

    folder: str = ""
    uid: int = 0
    message_id: str = ""
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    applied: bool = False


@dataclass(frozen=True)
class CopyLog(Event):
    """One line for the copy's action log (written to a file by whoever listens)."""

    level: str = "info"  # info, warning, error
    message: str = ""
    at: float = 0.0
    event: str = ""  # for the activity log: connect, folder, batch, retry, throttle, failure
    fields: dict[str, Any] = field(default_factory=dict)


__all__ = [
    "CopyLog",
    "FlagsChanged",
    "FolderProgress",
    "MailboxProgress",
    "MailboxState",
]
