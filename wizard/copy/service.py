"""The copy as a long-lived service of the app: started, steered and watched from any screen.

A ``CopyService`` belongs to the application (not to a step screen), so leaving step 9 does not
stop a copy. It runs one ``CopyEngine`` at a time in a thread of its own, keeps the newest
progress of every mailbox and a short throughput history for sparklines, and fans events out to
listeners (screens subscribe while they are shown). Listeners are called from engine threads.
"""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import replace

from ..activity import event_logger
from ..events import Done, Event, EventSink, Listeners
from ..store import SessionStore
from .engine import CopyEngine, CopyResult, CopySettings, MailboxJob
from .events import MailboxProgress, MailboxState
from .ledger import CopyLedger, MessageRecord, RunMode

JobBuilder = Callable[[Sequence[str]], list[MailboxJob]]
HISTORY = 40  # throughput samples kept per mailbox for the sparkline


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
        self.latest: dict[str, MailboxProgress] = {}
        self.history: dict[str, deque[float]] = {}
        self.last_result: CopyResult | None = None
        self.mode: RunMode | None = None
        self.error = ""
        self._engine: CopyEngine | None = None
        self._thread: threading.Thread | None = None
        self._listeners: Listeners[Event] = Listeners()
        self._activity = event_logger(store, "copy")

    # ----- state ------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

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

    # ----- listening --------------------------------------------------------------------------

    def subscribe(self, listener: EventSink) -> Callable[[], None]:
        return self._listeners.subscribe(listener)

    def _event(self, event: Event) -> None:
        self._activity(event)
        if isinstance(event, MailboxProgress):
            self.latest[event.subject] = event
            if event.state is MailboxState.COPYING or event.rate_bytes:
                self.history.setdefault(event.subject, deque(maxlen=HISTORY)).append(
                    event.rate_bytes
                )
        self._listeners.publish(event)

    # ----- steering ---------------------------------------------------------------------------

    def start(
        self,
        mode: RunMode = RunMode.INITIAL,
        mailboxes: Sequence[str] = (),
        *,
        only_failed: bool = False,
    ) -> bool:
        """Start a copy in the background; False if one is running already."""
        if self.running:
            return False
        jobs = self.build_jobs(mailboxes)
        settings = replace(self.settings, mode=mode, only_failed=only_failed, dry_run=False)
        engine = CopyEngine(self.ledger, jobs, settings, sink=self._event)
        self._engine = engine
        self.mode = mode
        self.error = ""
        for job in jobs:
            self.history.pop(job.mailbox, None)

        def work() -> None:
            try:
                self.last_result = engine.run()
                record_copy_evidence(self.store, self.last_result, mode)
            except Exception as exc:  # noqa: BLE001 - shown to the operator
                self.error = f"{type(exc).__name__}: {exc}"
            self._event(Done(subject="*", ok=not self.error, summary=self.error or "finished"))

        self._thread = threading.Thread(target=work, name="copy-service", daemon=True)
        self._thread.start()
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
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return not self.running

    def shutdown(self, timeout: float = 10.0) -> None:
        """Cancel and wait, for quitting: rows stay consistent and the next run goes on."""
        self.cancel()
        self.wait(timeout)


def copy_step(mode: RunMode) -> str:
    """The playbook step a copy belongs to: 9 (initial copy) or 14 (differential copy)."""
    return "14" if mode is RunMode.DIFFERENTIAL else "9"


def record_copy_evidence(store: SessionStore, result: CopyResult, mode: RunMode) -> None:
    """Save what a copy run did as evidence of step 9 or 14 (kind "copy")."""
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
    store.add_evidence(copy_step(mode), "copy", summary, data, ok=result.ok)


__all__ = ["CopyService", "JobBuilder", "copy_step", "record_copy_evidence"]
