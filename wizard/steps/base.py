"""What every step controller has: its step found by kind, its evidence, ticks, notes and state.

A subclass names its ``kind``, the evidence kinds it ``records`` and the ``engines`` it calls;
``record`` refuses evidence the controller did not declare, so the declaration stays true.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, ClassVar

from ..playbook import Kind, Step
from ..session_records import ChecklistTick, Evidence, StepRecord, StepState

if TYPE_CHECKING:
    from ..store import SessionStore

_CONTROLLERS: dict[Kind, type[StepController]] = {}


def module_for(kind: Kind | str) -> str:
    """The controller module of a kind: ``wizard.steps.local_data`` for "local-data"."""
    return f"{__package__}.{Kind(kind).value.replace('-', '_')}"


class StepController:
    """One step of an open session, as the rules of its kind see it."""

    kind: ClassVar[Kind]
    records: ClassVar[tuple[str, ...]] = ()  # the evidence kinds this step records
    engines: ClassVar[tuple[str, ...]] = ()  # the engine modules it calls (none: operator work)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "kind" in cls.__dict__:
            _CONTROLLERS[cls.kind] = cls

    def __init__(self, store: SessionStore) -> None:
        self.store = store

    @property
    def step(self) -> Step:
        return self.store.playbook.by_kind(self.kind)

    @property
    def number(self) -> str:
        return self.step.number

    # ----- evidence ------------------------------------------------------------------------------

    def record(
        self, kind: str, summary: str, data: dict[str, Any] | None = None, *, ok: bool | None = None
    ) -> Evidence:
        """Save evidence of this step; only the kinds the controller declares in ``records``."""
        if kind not in self.records:
            raise ValueError(
                f"step {self.number} ({self.kind}) does not record {kind!r} evidence; "
                f"it records {', '.join(self.records) or 'none'}"
            )
        return self.store.add_evidence(self.number, kind, summary, data, ok=ok)

    def evidence(self, kind: str | None = None) -> list[Evidence]:
        return self.store.evidence(self.number, kind)

    def latest(self, kind: str) -> Evidence | None:
        return self.store.latest_evidence(self.number, kind)

    # ----- checklist, notes and state ------------------------------------------------------------

    def ticks(self) -> dict[str, ChecklistTick]:
        return self.store.checklist(self.number)

    def tick(self, item_id: str, ticked: bool = True) -> None:
        """Tick (or untick) one of the step's items; ``ticked_rules`` may tick others with it."""
        self.store.tick(self.number, item_id, ticked)
        self.ticked_rules(item_id, ticked)

    def ticked_rules(self, item_id: str, ticked: bool) -> None:
        """What else a tick means for this kind (nothing, unless a subclass says so)."""

    def set_note(self, text: str) -> None:
        self.store.set_note(self.number, text)

    def set_state(self, state: StepState, *, reason: str = "", override: str = "") -> StepRecord:
        return self.store.set_step_state(self.number, state, reason=reason, override=override)

    def open_here(self) -> None:
        """Remember this step as the one the operator is on, so a resumed session lands here."""
        self.store.set_current_step(self.number)

    # ----- done ----------------------------------------------------------------------------------

    def done_refusal(self) -> str:
        """Why the step should not be marked done yet ("" when nothing speaks against it)."""
        return ""


def controller_for(store: SessionStore, kind: Kind | str | Step) -> StepController:
    """The controller of a step kind (or of a step) for an open session."""
    key = Kind(kind.kind if isinstance(kind, Step) else kind)
    if key not in _CONTROLLERS:
        importlib.import_module(module_for(key))
    return _CONTROLLERS[key](store)
