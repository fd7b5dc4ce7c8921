"""Sign-off step: the figures both parties look at, the sign-off itself and the report export.

``wizard.signoff`` gathers the figures and records "signoff" evidence; exporting the completion
report records "report" evidence with where it was written. A sign-off that both parties call
complete proves "agreed" and "open-items" (it lists the open items they went through); that the
report reached the customer happens outside onboard, so the operator ticks it.
"""

from __future__ import annotations

from pathlib import Path

from ..playbook import Kind
from ..session_records import Evidence
from ..signoff import SignoffFigures, gather_figures, record_signoff
from .base import Proof, StepController, proof_from


class SignoffController(StepController):
    kind = Kind.SIGNOFF
    records = ("signoff", "report")
    engines = ("wizard.signoff", "wizard.report")

    def figures(self) -> SignoffFigures:
        return gather_figures(self.store)

    def last_signoff(self) -> Evidence | None:
        return self.latest("signoff")

    def sign_off(
        self, *, provider_name: str, customer_name: str, day: str, complete: bool
    ) -> Evidence:
        """Record who signed off for each party; raises ValueError saying what to fix."""
        evidence = record_signoff(
            self.store,
            provider_name=provider_name,
            customer_name=customer_name,
            day=day,
            complete=complete,
        )
        self.work_started()
        return evidence

    def report_exported(self, fmt: str, path: Path) -> None:
        """Record where the completion report was written (``wizard.report.export_report``)."""
        self.record(
            "report", f"Completion report ({fmt}) written to {path}", {"path": str(path)}, ok=True
        )

    def proofs(self) -> dict[str, Proof]:
        last = self.last_signoff()
        proof = proof_from(last) if last is not None and last.data.get("complete") else None
        return {"agreed": proof, "open-items": proof} if proof else {}

    def work_result(self) -> str:
        proof = self.proofs().get("agreed")
        return f"{proof.what}." if proof else ""
