"""Errors the copy engine tells apart: worth retrying after a pause, or not."""

from __future__ import annotations

from ..retry import Retryable


class CopyError(Exception):
    """Base class of copy errors; the message is for the operator."""


class TransientError(CopyError):
    """The connection dropped or the server is busy: reconnect, wait and try again."""


class NoAnswer(TransientError):
    """The server did not answer in time: what was sent may still be carried out there."""


class ServerHungUp(TransientError):
    """The server itself ended the connection (BYE) in the middle of a command: for a FETCH of
    bodies, Dovecot's answer to a message it cannot read."""


class ServerFailed(TransientError):
    """The server answered that it failed itself ([SERVERBUG]: a mail file or folder it cannot
    open, a lock it could not take): tried again a few times, never waited out like throttling."""


class Throttled(TransientError):
    """The server asked us to slow down; ``retry_after`` is its hint in seconds (0 = none)."""

    def __init__(self, message: str, retry_after: float = 0.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TargetFull(CopyError):
    """The target mailbox refused messages for its quota: nothing more fits until it is raised."""


class ConnectFailed(CopyError):
    """A server could not be reached or refused the login; retrying will not help soon."""


class FolderChanged(TransientError):
    """A source folder's UIDVALIDITY changed while it was being copied."""


def copy_retryable(exc: Exception) -> Retryable | None:
    """The copy engine's errors in the terms of the one retry policy (wizard.retry)."""
    if isinstance(exc, Throttled):
        return Retryable(str(exc), hint=exc.retry_after, throttled=True)
    if isinstance(exc, TransientError):
        return Retryable(str(exc), dropped=True, unanswered=isinstance(exc, NoAnswer))
    return None
