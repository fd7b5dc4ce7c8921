"""Verify-initial step: source and target compared after the initial copy, and webmail checks.

``wizard.copy.verify`` counts every folder on both sides and records "verification" evidence.
``VerificationController`` is shared with the final check after the differential copy. A
passing verification proves "verification"; the users' webmail checks and the customer's approval
are theirs to confirm, so the step proposes done only once the operator ticked those. It also
says what to do next about a result, in the operator's words, with the steps named by kind.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..copy.folder_map import PlanOptions
from ..copy.ledger import CopyLedger, RunMode
from ..copy.session_jobs import session_jobs
from ..copy.verify import EVIDENCE_KIND, Verification, latest_verification, verify
from ..formatting import plural
from ..playbook import Kind
from .base import Proof, StepController, proof_from


@dataclass(frozen=True)
class NextSteps:
    """What a verification asks of the operator, most pressing first."""

    lines: tuple[str, ...]
    copy_mailboxes: tuple[str, ...] = ()  # mailboxes a copy run now completes
    copy_mode: RunMode = RunMode.INITIAL  # the copy that run belongs to

    @property
    def can_copy(self) -> bool:
        return bool(self.copy_mailboxes)


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

    @property
    def final(self) -> bool:
        return self.kind is Kind.VERIFY_FINAL

    def next_steps(self, result: Verification) -> NextSteps:
        """What to do about ``result``: copy what is missing now (or in the differential copy),
        retry failures in the copy step, clean up duplicates, recheck what could not be checked."""
        playbook = self.store.playbook
        copy_step = playbook.number_of(Kind.DIFFERENTIAL if self.final else Kind.COPY)
        mode = RunMode.DIFFERENTIAL if self.final else RunMode.INITIAL
        if result.ok:
            after = "mark this step done" if not self.final else "mark this step done and sign off"
            return NextSteps(
                (f"Next: the customer's spot checks in webmail (o opens it), then {after}.",),
                copy_mode=mode,
            )
        bad = [m for m in result.mailboxes if not m.ok]
        new = sum(m.not_copied_count for m in bad)
        gone = sum(m.missing_count - m.not_copied_count for m in bad)
        folders = sum(len(m.missing_folders) for m in bad)
        lines: list[str] = []
        if (new or folders) and not CopyLedger(self.store).runs():
            lines.append(
                f"Nothing has been copied yet: start the copy in step "
                f"{playbook.number_of(Kind.COPY)}, or copy now (c)."
            )
            new = folders = 0
        if new and self.final:
            lines.append(
                f"{plural(new, 'message')} arrived after the differential copy: copy them now "
                "(c), then verify again."
            )
        elif new:
            differential = playbook.number_of(Kind.DIFFERENTIAL)
            lines.append(
                f"{plural(new, 'message')} arrived after the copy: run the differential copy "
                f"(step {differential}) or copy them now (c)."
            )
        if gone:
            lines.append(
                f"{plural(gone, 'message')} copied earlier "
                f"{'is' if gone == 1 else 'are'} no longer on the target (deleted or moved "
                "there?): ask the customer, or copy again now (c) to send them once more."
            )
        if folders:
            lines.append(
                f"{plural(folders, 'folder')} missing on the target: copy now (c) makes "
                f"{'it' if folders == 1 else 'them'} again."
            )
        failed = sum(m.failed for m in bad)
        if failed:
            lines.append(
                f"{plural(failed, 'message')} failed to copy: retry in step {copy_step} "
                "(r, retry failed only); its failures list says why."
            )
        duplicated = sum(m.duplicated_count for m in bad)
        if duplicated:
            lines.append(
                f"{plural(duplicated, 'extra copy', 'extra copies')} on the target: delete them "
                "in webmail (listed below by date, sender and subject)."
            )
        extra = sum(m.extra_count for m in bad)
        if extra:
            lines.append(
                f"{plural(extra, 'message')} only on the target (mail delivered to the new "
                "account, or moved there by a user): nothing to copy; go through them with the "
                "customer (listed below)."
            )
        unchecked = [m for m in bad if m.error]
        if unchecked:
            lines.append(
                f"{plural(len(unchecked), 'mailbox', 'mailboxes')} could not be checked "
                f"({unchecked[0].mailbox}: {unchecked[0].error}): fix that and verify again (v)."
            )
        copyable = tuple(m.mailbox for m in bad if m.missing_count or m.missing_folders)
        return NextSteps(tuple(lines), copy_mailboxes=copyable, copy_mode=mode)


class VerifyInitialController(VerificationController):
    kind = Kind.VERIFY_INITIAL
