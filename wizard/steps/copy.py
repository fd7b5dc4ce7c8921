"""Copy step: the initial copy of every mailbox, run by the copy engine, owned by the App.

The engine records "copy" evidence when a run ends (``wizard.copy.service.record_copy_evidence``);
the differential copy is the same step in ``RunMode.DIFFERENTIAL``. Where each mailbox stands
comes from the running copy when it is this step's, else from this step's evidence and the
ledger, so a session opened again counts what earlier runs copied. Every mailbox done proves
"copied"; a ledger without failed or skipped messages leaves nothing to review ("failures").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from ..copy.events import MailboxProgress, MailboxState
from ..copy.ledger import CopyLedger, RunMode
from ..copy.service import CopyService
from ..formatting import UNKNOWN, format_bytes, format_duration, plural
from ..playbook import Kind
from ..session_records import when_short
from .base import Proof, StepController


@dataclass(frozen=True)
class MailboxStanding:
    """Where one mailbox stands in this step: live, from this step's last run, or not run."""

    mailbox: str
    state: str  # as shown: a MailboxState value, or "not started" / "N copied earlier"
    finished: bool  # done in this step
    done: int  # messages copied or settled
    total: int | None  # None: this step has not counted the mailbox yet
    bytes_done: int
    bytes_total: int | None
    failed: int
    live: MailboxProgress | None = None  # the running (or just finished) copy's progress


@dataclass(frozen=True)
class CopyTotals:
    """The header of a copy step: every mailbox's standing added up."""

    mailboxes: int
    finished: int
    done: int
    total: int
    bytes_done: int
    bytes_total: int
    earlier: int  # messages copied before, of mailboxes this step has not counted yet
    failed: int
    rate: float  # bytes per second of the mailboxes copying now (0: none)

    def describe(self) -> str:
        parts = [f"{self.finished}/{self.mailboxes} mailboxes done"]
        if self.total or not self.earlier:
            parts.append(f"{self.done}/{self.total} messages")
            parts.append(f"{format_bytes(self.bytes_done)}/{format_bytes(self.bytes_total)}")
        if self.earlier:
            parts.append(f"{plural(self.earlier, 'message')} copied earlier")
        if self.rate:
            remaining = max(0, self.bytes_total - self.bytes_done)
            parts.append(f"{format_bytes(self.rate)}/s")
            parts.append(f"ETA {format_duration(remaining / self.rate) if remaining else UNKNOWN}")
        parts.append(f"{self.failed} failed")
        return " · ".join(parts)


def copy_totals(standings: list[MailboxStanding]) -> CopyTotals:
    counted = [s for s in standings if s.total is not None]
    return CopyTotals(
        mailboxes=len(standings),
        finished=sum(1 for s in standings if s.finished),
        done=sum(s.done for s in counted),
        total=sum(s.total or 0 for s in counted),
        bytes_done=sum(s.bytes_done for s in counted),
        bytes_total=sum(s.bytes_total or 0 for s in counted),
        earlier=sum(s.done for s in standings if s.total is None),
        failed=sum(s.failed for s in standings),
        rate=sum(
            s.live.rate_bytes for s in standings if s.live is not None and not s.live.state.finished
        ),
    )


class CopyController(StepController):
    kind = Kind.COPY
    records = ("copy",)
    engines = ("wizard.copy.service", "wizard.copy.engine")
    mode: ClassVar[RunMode] = RunMode.INITIAL

    def live(self, service: CopyService) -> dict[str, MailboxProgress]:
        """The copy's progress, when the copy it last ran was this step's (else nothing: the
        other copy step's run is not this one's)."""
        return service.latest if service.mode is self.mode else {}

    def last_runs(self) -> dict[str, dict[str, Any]]:
        """Per mailbox, what this step's newest run that copied it recorded."""
        found: dict[str, dict[str, Any]] = {}
        for evidence in self.evidence("copy"):
            for entry in evidence.data.get("mailboxes", []):
                found[str(entry.get("mailbox", ""))] = {**entry, "at": evidence.created_at}
        return found

    def standings(self, live: Mapping[str, MailboxProgress]) -> list[MailboxStanding]:
        """Every mailbox of the session (and any other the live copy has), in list order."""
        ledger = CopyLedger(self.store)
        names = [m.target_address for m in self.store.mailboxes()]
        names += [n for n in live if n not in names]
        # Read only while some mailbox has no live progress: a running copy redraws often.
        runs = self.last_runs() if any(n not in live for n in names) else {}
        found = []
        for name in names:
            progress = live.get(name)
            if progress is not None:
                found.append(
                    MailboxStanding(
                        name,
                        progress.state.value,
                        progress.state is MailboxState.DONE,
                        progress.done,
                        progress.total,
                        progress.bytes_done,
                        progress.bytes_total,
                        progress.failed,
                        progress,
                    )
                )
                continue
            totals = ledger.totals(name)
            run = runs.get(name)
            if run is not None:
                state = str(run.get("state", ""))
                total = int(run.get("messages_total", 0))
                found.append(
                    MailboxStanding(
                        name,
                        state,
                        state == MailboxState.DONE.value,
                        min(totals.settled, total) if total else totals.settled,
                        max(total, totals.settled) if state == MailboxState.DONE else total,
                        totals.copied_bytes,
                        max(int(run.get("bytes_total", 0)), totals.copied_bytes),
                        totals.failed,
                    )
                )
                continue
            state = f"{totals.copied} copied earlier" if totals.copied else "not started"
            found.append(
                MailboxStanding(
                    name,
                    state,
                    False,
                    totals.copied,
                    None,
                    totals.copied_bytes,
                    None,
                    totals.failed,
                )
            )
        return found

    def totals(self, live: Mapping[str, MailboxProgress]) -> CopyTotals:
        return copy_totals(self.standings(live))

    def status(self, service: CopyService) -> str:
        """What the copy is doing, for this step: its own run, or the previous one with its time."""
        verb = "differential copy" if self.mode is RunMode.DIFFERENTIAL else "copy"
        ours = service.mode is self.mode
        if service.running:
            if ours:
                return "Copying. You may leave this step: the copy goes on in the background."
            other = self.store.playbook.number_of(
                Kind.COPY if self.mode is RunMode.DIFFERENTIAL else Kind.DIFFERENTIAL
            )
            return f"The copy of step {other} is running; start this one once it has finished."
        if ours and service.error:
            return f"The copy stopped: {service.error}"
        if ours and service.last_result is not None:
            return "Finished. Review failed and skipped messages, then verify."
        previous = self.latest("copy")
        if previous is not None:
            return (
                f"Previous run, {when_short(previous.created_at)}: {previous.summary}. "
                f"Press s to run the {verb} again; it copies only what is not there yet."
            )
        return "Press s to start; a copy that was interrupted goes on where it stopped."

    # ----- evidence and done --------------------------------------------------------------------

    def proofs(self) -> dict[str, Proof]:
        latest = self.latest("copy")
        standings = self.standings({})
        if latest is None or not standings:
            return {}
        found: dict[str, Proof] = {}
        if all(s.finished for s in standings):
            found["copied"] = Proof(f"{self._finished_text(standings)}", latest.created_at)
            if not CopyLedger(self.store).problems():
                found["failures"] = Proof("No failed or skipped messages", latest.created_at)
        return found

    def _finished_text(self, standings: list[MailboxStanding]) -> str:
        verb = "differential" if self.mode is RunMode.DIFFERENTIAL else "initial"
        copied = sum(s.done for s in standings)
        return (
            f"The {verb} copy finished for all {plural(len(standings), 'mailbox')} "
            f"({plural(copied, 'message')})"
        )

    def work_result(self) -> str:
        proof = self.proofs().get("copied")
        return f"{proof.what}." if proof else ""
