"""What a session file holds, as plain records: step states, ticks, evidence, mailboxes, history.

These types cross from the store to engines, step controllers and screens; the errors say why a
session file could not be opened or used. Nothing here touches SQLite.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from .formatting import format_time


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


def when_short(stamp: str) -> str:
    """An ISO time stamp (as ``now_iso`` writes them) as the operator reads it: local time."""
    return format_time(stamp)  # the one time formatter of app and report


def default_actor() -> str:
    """Who is at the keyboard: ONBOARD_OPERATOR, else the login name."""
    name = os.environ.get("ONBOARD_OPERATOR", "").strip()
    if name:
        return name
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "operator"
