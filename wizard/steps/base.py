"""What every step controller has: its step found by kind, its evidence, ticks, notes and state.

A subclass names its ``kind``, the evidence kinds it ``records`` and the ``engines`` it calls;
``record`` refuses evidence the controller did not declare, so the declaration stays true.

State follows the work: ``work_started`` turns a step that was not started into one in
progress; ``proofs`` (per kind) says which checklist items the session's evidence proves, and
``tick_proven`` ticks them; ``work_result`` (per kind) says what succeeded, and
``done_proposal`` proposes marking the step done once it did and nothing is left to tick.
Done is never set here: the operator accepts the proposal.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from ..playbook import Kind, Step
from ..session_records import ChecklistTick, Evidence, StepRecord, StepState

if TYPE_CHECKING:
    from ..store import SessionStore

_CONTROLLERS: dict[Kind, type[StepController]] = {}


def module_for(kind: Kind | str) -> str:
    """The controller module of a kind: ``wizard.steps.local_data`` for "local-data"."""
    return f"{__package__}.{Kind(kind).value.replace('-', '_')}"


@dataclass(frozen=True)
class Proof:
    """What in the session proves a checklist item, and since when ("": no time known)."""

    what: str
    at: str = ""  # ISO time, as the store writes them


@dataclass(frozen=True)
class DoneProposal:
    """What the step's work achieved and what still stands between it and done."""

    number: str
    result: str  # what succeeded, in the operator's words
    missing: tuple[str, ...] = ()  # checklist items still to tick (their texts)
    waiting: tuple[str, ...] = ()  # steps it depends on that are neither done nor skipped
    refusal: str = ""  # the kind's own reason against done

    @property
    def ready(self) -> bool:
        return not (self.missing or self.waiting or self.refusal)

    def describe(self) -> str:
        if self.ready:
            return f"{self.result} Mark step {self.number} done?"
        left = []
        if self.missing:
            left.append("still to tick: " + "; ".join(self.missing))
        if self.waiting:
            left.append("waiting for step " + ", ".join(self.waiting))
        if self.refusal:
            left.append(self.refusal)
        return f"{self.result} Before done: {'; '.join(left)}."


def proof_from(evidence: Evidence | None, what: str = "") -> Proof | None:
    """A proof resting on one piece of evidence (None when there is none, or it failed)."""
    if evidence is None or evidence.ok is False:
        return None
    return Proof(what or evidence.summary, evidence.created_at)


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
        evidence = self.store.add_evidence(self.number, kind, summary, data, ok=ok)
        self.work_started()  # evidence is work done on the step
        return evidence

    def evidence(self, kind: str | None = None) -> list[Evidence]:
        return self.store.evidence(self.number, kind)

    def latest(self, kind: str) -> Evidence | None:
        return self.store.latest_evidence(self.number, kind)

    # ----- checklist, notes and state ------------------------------------------------------------

    def ticks(self) -> dict[str, ChecklistTick]:
        return self.store.checklist(self.number)

    def tick(self, item_id: str, ticked: bool = True) -> None:
        """Tick (or untick) one of the step's items; ``ticked_rules`` may tick others with it.
        A tick is work on the step: one that was not started is in progress from now on."""
        self.store.tick(self.number, item_id, ticked)
        self.ticked_rules(item_id, ticked)
        if ticked:
            self.work_started()

    def ticked_rules(self, item_id: str, ticked: bool) -> None:
        """What else a tick means for this kind (nothing, unless a subclass says so)."""

    def set_note(self, text: str) -> None:
        self.store.set_note(self.number, text)

    def set_state(self, state: StepState, *, reason: str = "", override: str = "") -> StepRecord:
        return self.store.set_step_state(self.number, state, reason=reason, override=override)

    def open_here(self) -> None:
        """Remember this step as the one the operator is on, so a resumed session lands here."""
        self.store.set_current_step(self.number)

    def work_started(self) -> StepRecord | None:
        """The step's work began (a copy, a test, a check, a form first edited): a step not
        started is in progress now. None when its state stays as it was."""
        if self.store.step_record(self.number).state is not StepState.NOT_STARTED:
            return None
        return self.set_state(StepState.IN_PROGRESS)

    # ----- evidence that proves the checklist --------------------------------------------------

    def proofs(self) -> dict[str, Proof]:
        """Per checklist item id, what in the session proves it (none, unless a kind says so)."""
        return {}

    def setting_time(self, key: str) -> str:
        """When a setting was last written (its history entry), "" when never."""
        times = [h.at for h in self.store.history("") if h.action == "setting" and h.detail == key]
        return times[-1] if times else ""

    def tick_proven(self) -> list[str]:
        """Tick the items of the step's checklist that evidence proves; returns the ids ticked.
        An item the operator changed after its proof was made is theirs and is left alone."""
        proofs = self.proofs()
        ticks = self.ticks()
        ticked = []
        for item in self.store.step_text(self.number).checklist:
            proof = proofs.get(item.id)
            tick = ticks.get(item.id)
            if proof is None or (tick and tick.ticked):
                continue
            if tick is not None and not (proof.at and proof.at > tick.changed_at):
                continue  # unticked by the operator since the proof: their call
            self.store.tick(self.number, item.id, True)
            ticked.append(item.id)
        if ticked:
            self.work_started()  # evidence of work, even when a headless run recorded it
        return ticked

    # ----- done ----------------------------------------------------------------------------------

    def done_refusal(self) -> str:
        """Why the step should not be marked done yet ("" when nothing speaks against it)."""
        return ""

    def work_result(self) -> str:
        """What the step's work achieved, once it succeeded ("" until then; per kind)."""
        return ""

    def done_proposal(self) -> DoneProposal | None:
        """Propose done when the work succeeded, or every checklist item is ticked; None when
        the step is settled or there is nothing to propose yet."""
        store = self.store
        if store.step_record(self.number).state.settled:
            return None
        ticks = self.ticks()
        items = store.step_text(self.number).checklist
        missing = tuple(i.text for i in items if not (i.id in ticks and ticks[i.id].ticked))
        result = self.work_result()
        if not result:
            if missing or not items:
                return None
            result = "Every item of the checklist is ticked."
        return DoneProposal(
            self.number,
            result,
            missing,
            tuple(store.unmet_dependencies(self.number)),
            self.done_refusal(),
        )


def controller_for(store: SessionStore, kind: Kind | str | Step) -> StepController:
    """The controller of a step kind (or of a step) for an open session."""
    key = Kind(kind.kind if isinstance(kind, Step) else kind)
    if key not in _CONTROLLERS:
        importlib.import_module(module_for(key))
    return _CONTROLLERS[key](store)
