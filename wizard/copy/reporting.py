"""How one mailbox run tells what it does: progress (with rate and ETA), log lines, samples.

``RunReporter`` turns the run's counters into ``MailboxProgress`` events (at most every
``progress_interval`` seconds unless forced), ``CopyLog`` lines for the activity log, and
throughput samples in the ledger every ``sample_interval`` seconds. A sample that cannot be
written is logged, never a reason to stop the copy.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Sequence
from typing import Any, Protocol

from ..events import EventSink
from .events import CopyLog, MailboxProgress, MailboxState
from .job import CopySettings
from .ledger import CopyLedger
from .work import FolderWork

RATE_WINDOW = 10.0  # seconds of history the rate is measured over


class RunView(Protocol):
    """What the reporter reads of a run."""

    state: MailboxState
    current: str
    works: Sequence[FolderWork]
    copied: int
    copied_bytes: int
    run_id: int


class RunReporter:
    def __init__(
        self, mailbox: str, sink: EventSink, settings: CopySettings, ledger: CopyLedger
    ) -> None:
        self.mailbox = mailbox
        self.sink = sink
        self.settings = settings
        self.ledger = ledger
        self.rates: deque[tuple[float, int, int]] = deque(maxlen=64)
        self._last_emit = 0.0
        self._last_sample = 0.0
        self._lock = threading.Lock()

    def log(self, message: str, level: str = "info", event: str = "", **fields: Any) -> None:
        self.sink(
            CopyLog(
                subject=self.mailbox,
                level=level,
                message=message,
                at=time.time(),
                event=event,
                fields=fields,
            )
        )

    def emit(self, run: RunView, force: bool = False) -> None:
        now = time.monotonic()
        with self._lock:
            if not force and now - self._last_emit < self.settings.progress_interval:
                return
            self._last_emit = now
            self.rates.append((now, run.copied_bytes, run.copied))
            rate_b, rate_m = self._rate(now)
            works = list(run.works)
        total_bytes = sum(w.total_bytes for w in works)
        done_bytes = sum(w.done_bytes for w in works)
        eta = max(0, total_bytes - done_bytes) / rate_b if rate_b > 0 else None
        self.sink(
            MailboxProgress(
                subject=self.mailbox,
                done=sum(w.done for w in works),
                total=sum(w.total for w in works),
                bytes_done=done_bytes,
                bytes_total=total_bytes,
                detail=run.current,
                state=run.state,
                folder=run.current,
                rate_bytes=rate_b,
                rate_messages=rate_m,
                eta_seconds=None if run.state.finished else eta,
                failed=sum(w.failed for w in works),
                skipped=sum(w.skipped for w in works),
                copied_this_run=run.copied,
                folders=tuple(w.progress() for w in works),
            )
        )
        if (
            run.run_id
            and not self.settings.dry_run
            and now - self._last_sample >= self.settings.sample_interval
        ):
            self._last_sample = now
            self.sample(run)

    def sample(self, run: RunView) -> None:
        """Record the run's throughput so far; a failure is logged, the copy goes on."""
        try:
            self.ledger.add_sample(run.run_id, run.copied, run.copied_bytes)
        except Exception as exc:  # noqa: BLE001 - a lost sample only thins the rate graph
            self.log(f"could not record a throughput sample ({exc})", "warning")

    def _rate(self, now: float) -> tuple[float, float]:
        window = [s for s in self.rates if now - s[0] <= RATE_WINDOW]
        if len(window) < 2:
            return 0.0, 0.0
        span = window[-1][0] - window[0][0]
        if span <= 0:
            return 0.0, 0.0
        return (window[-1][1] - window[0][1]) / span, (window[-1][2] - window[0][2]) / span


__all__ = ["RunReporter", "RunView"]
