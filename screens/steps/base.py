"""The contract between step screens and the engine-specific part of a step.

A step screen shows the navigator, the step's text, owner, checklist, notes, evidence and the
state actions. What a particular step *does* (a connection test table, a DNS matrix, a copy
progress view) is a ``StepBody``: a widget registered for a step kind. A body is a view: the
step's rules, the evidence it records and its settings are its controller's
(``wizard.steps.<kind>``), which the body calls. Engines add bodies without touching the
navigator or the shared step screen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.message import Message
from textual.widget import Widget

from wizard.playbook import Kind, Step
from wizard.steps import StepController, controller_for

if TYPE_CHECKING:
    from wizard.store import SessionStore


class StepBody(Widget):
    """The working area of one step. Subclasses compose their own widgets.

    ``store`` is the open session (read it; write through ``controller``); ``step`` the playbook
    entry. A body that records evidence posts ``StepBody.EvidenceAdded`` so the step screen
    refreshes its evidence list.
    """

    DEFAULT_CSS = """
    StepBody { height: auto; }
    """
    # What the step opens with focused: a selector of the body's main control. Empty: its
    # primary button, else its first control (a form body names its first field).
    MAIN_CONTROL: ClassVar[str] = ""

    class EvidenceAdded(Message):
        """The body saved evidence in the session."""

    class WorkStarted(Message):
        """The step's work began here (a copy, a test, a check): the screen tells the
        controller, whose rules say what that does to the step's state."""

    def __init__(self, store: SessionStore, step: Step, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.store = store
        self.step = step
        self.controller: StepController = controller_for(store, step)

    def done_refusal(self) -> str:
        """Why the step should not be marked done yet ("" when nothing speaks against it).

        The step screen then asks for a reason and records it as an override instead.
        """
        return ""

    async def variant_changed(self) -> None:
        """The session's filtering variant was toggled while this body is shown."""

    def checklist_ticked(self, item_id: str, ticked: bool) -> None:
        """The operator ticked (or unticked) one of the step's checklist items; it is saved."""


_BODIES: dict[Kind, type[StepBody]] = {}


def register_body(*kinds: Kind):  # type: ignore[no-untyped-def]
    """Class decorator: show this body for the steps of these kinds (``Kind.COPY`` ...)."""

    def decorate(cls: type[StepBody]) -> type[StepBody]:
        for kind in kinds:
            _BODIES[Kind(kind)] = cls  # refuses a kind the playbook does not know
        return cls

    return decorate


def reveal(anchor: Widget | None, result: Widget) -> None:
    """Scroll the step so a check's ``result`` is in view with ``anchor`` (the buttons that ran
    the check, just above it) still on screen; after the next refresh, once the result's new
    size is known. The operator reads the answer where they pressed, not below the fold.
    Without an anchor: the focused widget, when it is in the result's body."""
    near: Widget = result if anchor is None else anchor
    focused = result.screen.focused
    if anchor is None and focused is not None:
        body = next((a for a in result.ancestors if isinstance(a, StepBody)), None)
        if body is not None and body in focused.ancestors:
            near = focused

    def scroll() -> None:
        if result.is_mounted and near.is_mounted:
            result.scroll_visible(animate=False)
            near.scroll_visible(animate=False)

    near.call_after_refresh(scroll)


def body_for(step: Step) -> type[StepBody] | None:
    """The body registered for the step's kind, or None."""
    return _BODIES.get(step.kind)
