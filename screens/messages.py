"""Messages the App's long work posts to the App from its worker threads (``App.post_message``).

The App hands each one to the step bodies that listen through a ``Signal`` of the work that sent
it (screens/copy_service.py, screens/propagation_service.py). Progress comes in bursts: a newer
``CopyProgressed`` or ``PropagationRound`` still in the App's queue replaces an older one
(``can_replace``, as Toolong does with its scan progress), so a busy UI only draws the newest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from textual.message import Message

from wizard.copy.events import MailboxProgress


class CopyProgressed(Message):
    """The copy of session ``session`` moved on. ``latest`` is the newest progress of every
    mailbox, not just the one that moved, so a newer message loses nothing by replacing an
    older one."""

    def __init__(self, session: str, latest: Mapping[str, MailboxProgress]) -> None:
        super().__init__()
        self.session = session
        self.latest = latest

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, CopyProgressed) and message.session == self.session


class CopyFinished(Message):
    """A copy run of session ``session`` ended: finished, cancelled, or stopped by an error
    (``summary`` says which)."""

    def __init__(self, session: str, ok: bool, summary: str) -> None:
        super().__init__()
        self.session = session
        self.ok = ok
        self.summary = summary


@dataclass(frozen=True)
class PollResult:
    """One round of step 12's propagation watch: the matrix, or why it could not be built."""

    round: int
    at: float  # time.time() when the round finished
    matrix: Any = None
    error: str = ""


class PropagationRound(Message):
    """A round of the propagation watch finished; the newest round replaces an older one."""

    def __init__(self, result: PollResult) -> None:
        super().__init__()
        self.result = result

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, PropagationRound)
