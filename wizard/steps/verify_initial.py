"""Verify-initial step: source and target compared after the initial copy, and webmail checks.

``wizard.copy.verify`` counts every folder on both sides and records "verification" evidence.
``VerificationController`` is shared with the final check after the differential copy. A
passing verification proves "verification"; the users' webmail checks and the customer's approval
are theirs to confirm, so the step proposes done only once the operator ticked those.
"""

from __future__ import annotations

from ..copy.folder_map import PlanOptions
from ..copy.session_jobs import session_jobs
from ..copy.verify import EVIDENCE_KIND, Verification, latest_verification, verify
from ..playbook import Kind
from .base import Proof, StepController, proof_from


class VerificationController(StepController):
    """Compare source and target for every mailbox of the session."""

    records = (EVIDENCE_KIND,)
    engines = ("wizard.copy.verify",)

    def latest_verification(self) -> Verification | None:
        return latest_verification(self.store, self.number)

    def verify(self) -> Verification:
        """Count both sides (slow: run it off the UI thread) and record the result.

        Raises CommandError or CopyError when the session cannot reach a side.
        """
        jobs = session_jobs(self.store, (), PlanOptions(), interactive=False)
        return verify(self.store, jobs, step=self.number)

    def proofs(self) -> dict[str, Proof]:
        proof = proof_from(self.latest(EVIDENCE_KIND))
        return {"verification": proof} if proof else {}

    def work_result(self) -> str:
        latest = self.latest(EVIDENCE_KIND)
        return f"Verified: {latest.summary.rstrip('.')}." if latest and latest.ok else ""


class VerifyInitialController(VerificationController):
    kind = Kind.VERIFY_INITIAL
