"""The session's copy as a service: started, steered and watched from any screen, run on a thread
the caller supplies.

``CopyService`` is Textual-free. ``start`` builds the run's jobs at once (so a missing password is
refused there and then) and hands the blocking run to ``background``: the App passes a thread
worker of its own (screens/copy_service.py), everything else a plain thread (``in_thread``). It
keeps the newest progress of every mailbox and a short throughput history for sparklines, logs
every event to the activity log and passes it on to the run's ``sink`` (called on engine threads).
The headless ``onboard copy`` runs the same ``CopyEngine`` on a thread of its own instead
(``wizard/copy/cli.py``: ``run_engine``) and records the same evidence.
"""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import replace

from ..activity import event_logger
from ..events import Done, Event, EventSink, ignore
from ..playbook import Kind
from ..store import SessionStore
from .engine import CopyEngine, CopyResult, CopySettings, MailboxJob
from .events import MailboxProgress, MailboxState
from .ledger import CopyLedger, MessageRecord, RunMode

JobBuilder = Callable[[Sequence[str]], list[MailboxJob]]
Background = Callable[[Callable[[], None]], object]  # runs the work off the caller's thread
HISTORY = 40  # throughput samples kept per mailbox for the sparkline
ALL = "*"  # the subject of the Done that ends a whole run


def in_thread(work: Callable[[], None]) -> threading.Thread:
    """Run ``work`` on a daemon thread of its own (tests, scripts: anything without an App)."""
    thread = threading.Thread(target=work, name="copy-service", daemon=True)
    thread.start()
    return thread


class CopyService:
    """Starts copies of a session's mailboxes and remembers where each one stands."""

    def __init__(
        self,
        store: SessionStore,
        jobs: JobBuilder,
        *,
        settings: CopySettings | None = None,
    ) -> None:
        self.store = store
        self.ledger = CopyLedger(store)
        self.build_jobs = jobs
        self.settings = settings or CopySettings()
        self.last_result: CopyResult | None = None
        self.mode: RunMode | None = None
        self.error = ""
        self._latest: dict[str, MailboxProgress] = {}
        self._history: dict[str, deque[float]] = {}
        self._lock = threading.Lock()  # engine threads write, the UI thread reads
        self._engine: CopyEngine | None = None
        self._finished = threading.Event()
        self._finished.set()
        self._sink: EventSink = ignore
        self._activity = event_logger(store, "copy")

    # ----- state (any thread) -----------------------------------------------------------------

    @property
    def running(self) -> bool:
        return not self._finished.is_set()

    @property
    def latest(self) -> dict[str, MailboxProgress]:
        """A copy of the newest progress of every mailbox this session copied since it opened."""
        with self._lock:
            return dict(self._latest)

    def history_of(self, mailbox: str) -> tuple[float, ...]:
        """The mailbox's recent throughput samples (bytes per second), oldest first."""
        with self._lock:
            return tuple(self._history.get(mailbox, ()))

    def paused(self, mailbox: str | None = None) -> bool:
        engine = self._engine
        if engine is None or not self.running:
            return False
        try:
            return engine.paused(mailbox)
        except KeyError:
            return False

    def failures(self, mailbox: str | None = None) -> list[MessageRecord]:
        return [r for r in self.ledger.problems(mailbox) if r.state.value == "failed"]

    def _event(self, event: Event) -> None:
        self._activity(event)
        if isinstance(event, MailboxProgress):
            with self._lock:
                self._latest[event.subject] = event
                if event.state is MailboxState.COPYING or event.rate_bytes:
                    history = self._history.setdefault(event.subject, deque(maxlen=HISTORY))
                    history.append(event.rate_bytes)
        self._sink(event)

    # ----- steering (any thread) --------------------------------------------------------------

    def start(
        self,
        mode: RunMode = RunMode.INITIAL,
        mailboxes: Sequence[str] = (),
        *,
        only_failed: bool = False,
        reconcile: bool = False,
        sink: EventSink = ignore,
        background: Background = in_thread,
    ) -> bool:
        """Start a copy through ``background``; False if one is running already.

        Building the jobs may raise ``CommandError`` or ``CopyError`` (a password or a setting is
        missing): nothing has started then. ``sink`` hears every event of the run, the last one a
        ``Done`` with subject ``ALL``. ``reconcile``: list each target folder first, so what a
        verification found gone from the target is sent again."""
        if self.running:
            return False
        jobs = self.build_jobs(mailboxes)
        settings = replace(
            self.settings,
            mode=mode,
            only_failed=only_failed,
            dry_run=False,
            reconcile=reconcile or self.settings.reconcile,
        )
        engine = CopyEngine(self.ledger, jobs, settings, sink=self._event)
        self._engine = engine
        self._sink = sink
        self.mode = mode
        self.error = ""
        with self._lock:
            for job in jobs:
                self._history.pop(job.mailbox, None)
        self._finished.clear()

        def work() -> None:
            try:
                self.last_result = engine.run()
                record_copy_evidence(self.store, self.last_result, mode)
            except Exception as exc:  # noqa: BLE001 - shown to the operator
                self.error = f"{type(exc).__name__}: {exc}"
            finally:
                self._finished.set()
            self._event(Done(subject=ALL, ok=not self.error, summary=self.error or "finished"))

        try:
            background(work)
        except BaseException:
            self._finished.set()  # nothing runs: the next start may go on
            raise
        return True

    def pause(self, mailbox: str | None = None) -> None:
        if self._engine is not None:
            with contextlib.suppress(KeyError):
                self._engine.pause(mailbox)

    def resume(self, mailbox: str | None = None) -> None:
        if self._engine is not None:
            with contextlib.suppress(KeyError):
                self._engine.resume(mailbox)

    def cancel(self, mailbox: str | None = None) -> None:
        if self._engine is not None:
            with contextlib.suppress(KeyError):
                self._engine.cancel(mailbox)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the running copy to end; True when nothing runs any more."""
        return self._finished.wait(timeout)

    def shutdown(self, timeout: float = 10.0) -> None:
        """Cancel and wait, for quitting: rows stay consistent and the next run goes on."""
        self.cancel()
        self.wait(timeout)


def copy_step(store: SessionStore, mode: RunMode) -> str:
    """The playbook step a copy belongs to: the initial copy's or the differential copy's."""
    return store.playbook.number_of(
        Kind.DIFFERENTIAL if mode is RunMode.DIFFERENTIAL else Kind.COPY
    )


def record_copy_evidence(store: SessionStore, result: CopyResult, mode: RunMode) -> None:
    """Save what a copy run did as evidence of the initial or differential copy (kind "copy")."""
    if not result.mailboxes:
        return
    done = sum(1 for m in result.mailboxes if m.state is MailboxState.DONE)
    summary = (
        f"{mode.value} copy: {done} of {len(result.mailboxes)} mailboxes finished, "
        f"{result.copied} messages copied, {result.failed} failed, "
        f"{sum(m.skipped for m in result.mailboxes)} skipped"
    )
    flag_changes = sum(m.flag_changes for m in result.mailboxes)
    if flag_changes:
        applied = sum(m.flags_applied for m in result.mailboxes)
        summary += f", {flag_changes} flag changes ({applied} applied on the target)"
    data = {
        "mode": mode.value,
        "mailboxes": [
            {
                "mailbox": m.mailbox,
                "state": m.state.value,
                "messages_total": m.messages_total,
                "bytes_total": m.bytes_total,
                "copied": m.copied,
                "already": m.already,
                "skipped": m.skipped,
                "failed": m.failed,
                "bytes_copied": m.bytes_copied,
                "flag_changes": m.flag_changes,
                "flags_applied": m.flags_applied,
                "seconds": round(m.seconds, 1),
                "error": m.error,
            }
            for m in result.mailboxes
        ],
    }
    store.add_evidence(copy_step(store, mode), "copy", summary, data, ok=result.ok)


__all__ = [
    "ALL",
    "Background",
    "CopyService",
    "JobBuilder",
    "copy_step",
    "in_thread",
    "record_copy_evidence",
]
