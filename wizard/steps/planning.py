"""Planning step: the migration plan built from what the session knows, and the cutover window.

Records "plan" evidence when the plan is exported; the cutover window is ``PlanningSettings``,
kept by ``wizard.migration_plan`` (which reads it). The planning step is also where the operator
asks whether a third-party filtering service stays in front of the mail: the session's variant.
A saved cutover window ticks "window"; the filtering variant switched on ticks "filtering" (the
question was asked). The call and the agreed scope are the operator's to tick; the exported plan
is the step's result.
"""

from __future__ import annotations

from pathlib import Path

from ..exports import write_private
from ..migration_plan import (
    PLANNING_SETTING,
    MigrationPlan,
    PlanningSettings,
    build_plan,
    load_planning,
    plan_markdown,
    save_planning,
)
from ..playbook import Kind
from ..session_records import Evidence
from .base import Proof, StepController, proof_from


class PlanningController(StepController):
    kind = Kind.PLANNING
    records = ("plan",)
    engines = ("wizard.migration_plan",)

    def settings(self) -> PlanningSettings:
        return load_planning(self.store)

    def save_window(self, window: str) -> None:
        save_planning(self.store, PlanningSettings(cutover_window=window.strip()))

    def plan(self) -> MigrationPlan:
        return build_plan(self.store)

    def markdown(self) -> str:
        return plan_markdown(self.plan())

    def export(self, directory: Path) -> tuple[Path, Evidence]:
        """Write the plan as Markdown into ``directory`` and record where."""
        path = directory / f"{self.store.name}-migration-plan.md"
        write_private(path, self.markdown())  # the customer's mailboxes and volumes: 0600
        evidence = self.record(
            "plan", f"Migration plan exported to {path}", {"path": str(path)}, ok=True
        )
        return path, evidence

    def set_third_party_filter(self, enabled: bool) -> None:
        """Switch the session's variant: a filtering service in front of the mail, or not."""
        self.store.set_third_party_filter(enabled)

    def proofs(self) -> dict[str, Proof]:
        found: dict[str, Proof] = {}
        window = self.settings().cutover_window
        if window:
            found["window"] = Proof(
                f"Cutover window: {window}", self.setting_time(PLANNING_SETTING)
            )
        if self.store.third_party_filter:  # only an answer "yes" shows the question was asked
            found["filtering"] = Proof("A third-party filtering service stays in front")
        return found

    def work_result(self) -> str:
        proof = proof_from(self.latest("plan"))
        return proof.what + "." if proof else ""
