"""How session facts read on screen: filled-in step texts, owner badges, state icons, times."""

from __future__ import annotations

from typing import TYPE_CHECKING

from wizard.formatting import format_time
from wizard.playbook import Owner, Step, StepText
from wizard.session_records import StepState

if TYPE_CHECKING:
    from wizard.store import SessionStore

# Distinct colours per owner, readable on dark and light themes.
OWNER_STYLE: dict[Owner, str] = {
    Owner.CUSTOMER: "bold #ffffff on #8a4fbf",
    Owner.PROVIDER: "bold #ffffff on #2f6fb0",
    Owner.EVERYONE: "bold #000000 on #d9a21b",
}

STATE_ICON: dict[StepState, str] = {
    StepState.NOT_STARTED: "○",
    StepState.IN_PROGRESS: "◐",
    StepState.DONE: "✔",
    StepState.SKIPPED: "↷",
    StepState.BLOCKED: "✖",
}

STATE_STYLE: dict[StepState, str] = {
    StepState.NOT_STARTED: "dim",
    StepState.IN_PROGRESS: "bold #d9a21b",
    StepState.DONE: "bold #3fae5a",
    StepState.SKIPPED: "#8a8a8a",
    StepState.BLOCKED: "bold #d9534f",
}


def step_text(step: Step, store: SessionStore) -> StepText:
    """The step's text and checklist for the session's filtering variant, filled in."""
    return store.step_text(step.number)


def owner_badge(owner: Owner) -> str:
    return f" {owner.value} "


def when(stamp: str) -> str:
    """A time from the store as the operator reads it (``1 Dec 2026, 14:05``, local time)."""
    return format_time(stamp)
