"""The contract between step screens and the engine-specific part of a step.

A step screen shows the navigator, the step's text, owner, checklist, notes, evidence and the
state actions. What a particular step *does* (a connection test table, a DNS matrix, a copy
progress view) is a ``StepBody``: a widget registered for a step number or a step kind. Engines
add bodies without touching the navigator or the shared step screen.
"""

from __future__ import annotations

from textual.message import Message
from textual.widget import Widget

from wizard.playbook import Step
from wizard.store import SessionStore


class StepBody(Widget):
    """The working area of one step. Subclasses compose their own widgets.

    ``store`` is the open session; ``step`` the playbook entry. A body that records evidence
    posts ``StepBody.EvidenceAdded`` so the step screen refreshes its evidence list.
    """

    DEFAULT_CSS = """
    StepBody { height: auto; }
    """

    class EvidenceAdded(Message):
        """The body saved evidence in the session."""

    def __init__(self, store: SessionStore, step: Step, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.store = store
        self.step = step

    def done_refusal(self) -> str:
        """Why the step should not be marked done yet ("" when nothing speaks against it).

        The step screen then asks for a reason and records it as an override instead.
        """
        return ""

    async def variant_changed(self) -> None:
        """The session's filtering variant was toggled while this body is shown."""

    def checklist_ticked(self, item_id: str, ticked: bool) -> None:
        """The operator ticked (or unticked) one of the step's checklist items; it is saved."""


_BODIES: dict[str, type[StepBody]] = {}


def register_body(*keys: str):  # type: ignore[no-untyped-def]
    """Class decorator: show this body for these step numbers ("4") or kinds ("copy")."""

    def decorate(cls: type[StepBody]) -> type[StepBody]:
        for key in keys:
            _BODIES[key] = cls
        return cls

    return decorate


def body_for(step: Step) -> type[StepBody] | None:
    """The body registered for the step's number, else for its kind, else None."""
    return _BODIES.get(step.number) or _BODIES.get(step.kind)
