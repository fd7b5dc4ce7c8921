"""The copy engine: schedules several mailboxes at once, each a resumable ``MailboxRun``.

``CopyEngine.run`` starts one ``MailboxRun`` per job (``concurrency`` at a time) and returns a
``CopyResult``; the runs share one memory budget. The parts, one idea each:

- ``job.py``: what to copy (``MailboxJob``) and how (``CopySettings``)
- ``mailbox_run.py``: one mailbox's run (connect, plan, scan against the ledger, repair)
- ``pipeline.py``: its fetch/upload pipeline, rows written "in flight" then "copied"
- ``rematch.py``: re-matching in-flight rows on the target and rows of a changed UIDVALIDITY
- ``reporting.py``: progress, log lines and throughput samples
- ``wizard/retry.py``: the one retry and back-off policy, shared with the Exchange engine

The engine is UI-free: it reports through an ``EventSink`` (called from worker threads, so the sink
must be thread-safe) and is steered through ``pause``/``resume``/``cancel``.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from ..events import Done, EventSink, ignore
from .events import MailboxProgress, MailboxState
from .job import CopySettings, MailboxJob
from .ledger import CopyLedger
from .mailbox_run import MailboxControl, MailboxRun
from .memory import ByteBudget, return_big_buffers_to_the_os
from .outcome import CopyResult, FolderResult, MailboxResult


class CopyEngine:
    """Copies the given mailboxes; ``run`` blocks until all are finished or cancelled."""

    def __init__(
        self,
        ledger: CopyLedger,
        jobs: Sequence[MailboxJob],
        settings: CopySettings | None = None,
        sink: EventSink = ignore,
    ) -> None:
        self.ledger = ledger
        self.jobs = list(jobs)
        self.settings = settings or CopySettings()
        self.sink = sink
        self.budget = ByteBudget(self.settings.memory_budget)
        self.all = MailboxControl()
        self._controls = {job.mailbox: MailboxControl() for job in self.jobs}

    # ----- steering (any thread) ------------------------------------------------------------

    def pause(self, mailbox: str | None = None) -> None:
        self._control(mailbox).running.clear()

    def resume(self, mailbox: str | None = None) -> None:
        self._control(mailbox).running.set()

    def cancel(self, mailbox: str | None = None) -> None:
        control = self._control(mailbox)
        control.cancelled.set()
        control.running.set()

    def paused(self, mailbox: str | None = None) -> bool:
        return not self._control(mailbox).running.is_set()

    def _control(self, mailbox: str | None) -> MailboxControl:
        return self.all if mailbox is None else self._controls[mailbox]

    # ----- running --------------------------------------------------------------------------

    def run(self) -> CopyResult:
        return_big_buffers_to_the_os()
        for job in self.jobs:
            self.sink(
                MailboxProgress(subject=job.mailbox, state=MailboxState.QUEUED, detail="queued")
            )
        workers = max(1, min(self.settings.concurrency, len(self.jobs) or 1))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="copy") as pool:
            futures = [pool.submit(self._run_one, job) for job in self.jobs]
            results = tuple(f.result() for f in futures)
        return CopyResult(results)

    def _run_one(self, job: MailboxJob) -> MailboxResult:
        control = self._controls[job.mailbox]
        if control.cancelled.is_set() or self.all.cancelled.is_set():
            result = MailboxResult(job.mailbox, MailboxState.CANCELLED, error="cancelled")
            self.sink(Done(subject=job.mailbox, ok=False, summary="cancelled", result=result))
            return result
        return MailboxRun(self, job, control).run()


__all__ = [
    "ByteBudget",
    "CopyEngine",
    "CopyResult",
    "CopySettings",
    "FolderResult",
    "MailboxJob",
    "MailboxResult",
]
