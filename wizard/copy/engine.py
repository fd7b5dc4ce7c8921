"""The copy engine: several mailboxes at once, each pipelined, resumable from the ledger.

Per mailbox: connect, plan the folders, list every included folder (read-only), decide from the
ledger what is missing, look up on the target whatever an earlier run left "in flight", then copy.
A fetch thread reads batches sized by bytes (BODY.PEEK[]) while the mailbox thread writes the
previous batch to the target. Bytes held in memory are bounded by one budget shared by every
mailbox, so RSS stays flat even with 40 MB messages. Rows are written per batch: "in-flight"
before the batch is sent, "copied" after the target confirmed it, so a kill at any moment is
repaired by the next run without duplicates. Dropped connections and throttling are retried with
back-off; a message the target refuses is recorded as failed and the mailbox goes on.

The engine is UI-free: it reports through an ``EventSink`` (called from worker threads, so the sink
must be thread-safe) and is steered through ``pause``/``resume``/``cancel``.
"""

from __future__ import annotations

import contextlib
import hashlib
import queue
import random
import threading
import time
import traceback
from collections import defaultdict, deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypeVar

from ..events import Done, EventSink, Failure, Started, ignore
from .errors import ConnectFailed, CopyError, Throttled, TransientError
from .events import CopyLog, FlagsChanged, FolderProgress, MailboxProgress, MailboxState
from .ledger import CopyLedger, MessageRecord, MessageState, RunMode, RunState
from .memory import return_big_buffers_to_the_os
from .plan import FolderPlan, MailboxPlan, PlanOptions, plan_mailbox
from .source import CopySource, FolderStatus, SourceMessage
from .targets import CopyTarget, OutgoingMessage, Probe, WriteResult

MiB = 1024 * 1024
T = TypeVar("T")


@dataclass(frozen=True)
class MailboxJob:
    """One mailbox pair to copy. The factories open a new logged-in connection each call."""

    mailbox: str  # the ledger's key: the target address
    source: Callable[[], CopySource]
    target: Callable[[], CopyTarget]
    options: PlanOptions = field(default_factory=PlanOptions)
    label: str = ""  # how the operator knows the source (its login)


@dataclass(frozen=True)
class CopySettings:
    mode: RunMode = RunMode.INITIAL
    concurrency: int = 4  # mailboxes at once
    batch_bytes: int = 4 * MiB
    batch_messages: int = 64
    memory_budget: int = 32 * MiB  # message bytes held at once, over all mailboxes
    retries: int = 6
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    progress_interval: float = 0.25
    sample_interval: float = 2.0
    dry_run: bool = False
    only_failed: bool = False
    max_failed_batches: int = 3  # batches in a row that exhaust their retries stop the mailbox


@dataclass(frozen=True)
class FolderResult:
    folder: str
    target: str
    source_count: int
    copied: int  # in this run
    already: int  # copied in an earlier run
    skipped: int
    failed: int
    bytes_copied: int
    excluded: str = ""


@dataclass(frozen=True)
class MailboxResult:
    mailbox: str
    state: MailboxState
    messages_total: int = 0
    bytes_total: int = 0
    copied: int = 0
    already: int = 0
    skipped: int = 0
    failed: int = 0
    bytes_copied: int = 0
    flag_changes: int = 0
    seconds: float = 0.0
    error: str = ""
    unreachable: bool = False  # a server could not be reached or refused the login
    folders: tuple[FolderResult, ...] = ()
    plan: MailboxPlan | None = None

    @property
    def ok(self) -> bool:
        return self.state is MailboxState.DONE and self.failed == 0


@dataclass(frozen=True)
class CopyResult:
    mailboxes: tuple[MailboxResult, ...]

    @property
    def ok(self) -> bool:
        return all(m.ok for m in self.mailboxes)

    @property
    def copied(self) -> int:
        return sum(m.copied for m in self.mailboxes)

    @property
    def failed(self) -> int:
        return sum(m.failed for m in self.mailboxes)


class ByteBudget:
    """Bytes of message data in memory at once; one oversize message may always go alone."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self.used = 0
        self.peak = 0
        self._cond = threading.Condition()

    def acquire(self, amount: int, stop: Callable[[], bool]) -> bool:
        with self._cond:
            while self.used > 0 and self.used + amount > self.limit:
                if stop():
                    return False
                self._cond.wait(0.2)
            self.used += amount
            self.peak = max(self.peak, self.used)
            return True

    def release(self, amount: int) -> None:
        with self._cond:
            self.used = max(0, self.used - amount)
            self._cond.notify_all()


class _Control:
    """Pause and cancel switches of one mailbox (or of all of them)."""

    def __init__(self) -> None:
        self.running = threading.Event()
        self.running.set()
        self.cancelled = threading.Event()


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
        self._all = _Control()
        self._controls = {job.mailbox: _Control() for job in self.jobs}

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

    def _control(self, mailbox: str | None) -> _Control:
        return self._all if mailbox is None else self._controls[mailbox]

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
        if control.cancelled.is_set() or self._all.cancelled.is_set():
            result = MailboxResult(job.mailbox, MailboxState.CANCELLED, error="cancelled")
            self.sink(Done(subject=job.mailbox, ok=False, summary="cancelled", result=result))
            return result
        return _MailboxCopy(self, job, control).run()


@dataclass
class _Todo:
    message: SourceMessage
    lookup: bool = False  # an earlier attempt may have landed: look on the target first
    attempts: int = 0


@dataclass
class _FolderWork:
    plan: FolderPlan
    status: FolderStatus
    todo: list[_Todo] = field(default_factory=list)
    total: int = 0
    total_bytes: int = 0
    done: int = 0
    done_bytes: int = 0
    already: int = 0
    copied: int = 0
    copied_bytes: int = 0
    skipped: int = 0
    failed: int = 0
    last_uid: int = 0

    def progress(self) -> FolderProgress:
        return FolderProgress(
            folder=self.plan.source,
            target=self.plan.target,
            messages_done=self.done,
            messages_total=self.total,
            bytes_done=self.done_bytes,
            bytes_total=self.total_bytes,
            failed=self.failed,
            skipped=self.skipped,
        )


@dataclass
class _Batch:
    work: _FolderWork
    items: list[tuple[_Todo, bytes]]
    reserved: int


_END = object()


class _MailboxCopy:
    """One mailbox's run: scan, repair, then the fetch/upload pipeline."""

    def __init__(self, engine: CopyEngine, job: MailboxJob, control: _Control) -> None:
        self.engine = engine
        self.job = job
        self.mailbox = job.mailbox
        self.control = control
        self.settings = engine.settings
        self.ledger = engine.ledger
        self.sink = engine.sink
        self.state = MailboxState.CONNECTING
        self.works: list[_FolderWork] = []
        self.current = ""
        self.started = time.monotonic()
        self.rates: deque[tuple[float, int, int]] = deque(maxlen=64)
        self.copied = 0
        self.copied_bytes = 0
        self.flag_changes = 0
        self.run_id = 0
        self._last_emit = 0.0
        self._last_sample = 0.0
        self._lock = threading.Lock()
        self.source: CopySource | None = None
        self.target: CopyTarget | None = None
        self.plan: MailboxPlan | None = None
        self._folders_made: dict[tuple[str, ...], str] = {}

    # ----- helpers --------------------------------------------------------------------------

    def stopped(self) -> bool:
        return self.control.cancelled.is_set() or self.engine._all.cancelled.is_set()

    def wait_running(self) -> bool:
        """Block while paused; False once cancelled."""
        was = self.state
        while not (self.control.running.is_set() and self.engine._all.running.is_set()):
            if self.stopped():
                return False
            if self.state is not MailboxState.PAUSED:
                self.state = MailboxState.PAUSED
                self.emit(force=True)
                self.log("paused")
            time.sleep(0.1)
        if self.state is MailboxState.PAUSED:
            self.state = was if was is not MailboxState.PAUSED else MailboxState.COPYING
            self.log("resumed")
            self.emit(force=True)
        return not self.stopped()

    def sleep(self, seconds: float) -> bool:
        """Sleep unless cancelled; False once cancelled."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if self.stopped():
                return False
            time.sleep(min(0.1, max(0.0, end - time.monotonic())))
        return True

    def backoff(self, attempt: int, exc: Exception) -> float:
        delay = min(self.settings.backoff_max, self.settings.backoff_initial * 2 ** (attempt - 1))
        delay *= random.uniform(0.8, 1.2)
        if isinstance(exc, Throttled) and exc.retry_after:
            delay = max(delay, exc.retry_after)
        if isinstance(exc, Throttled):
            self.log(f"throttled: waiting {delay:.0f}s", "warning", "throttle", seconds=delay)
        return delay

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

    def emit(self, force: bool = False) -> None:
        now = time.monotonic()
        with self._lock:
            if not force and now - self._last_emit < self.settings.progress_interval:
                return
            self._last_emit = now
            self.rates.append((now, self.copied_bytes, self.copied))
            rate_b, rate_m = self._rate(now)
            works = list(self.works)
        total = sum(w.total for w in works)
        total_bytes = sum(w.total_bytes for w in works)
        done = sum(w.done for w in works)
        done_bytes = sum(w.done_bytes for w in works)
        remaining = max(0, total_bytes - done_bytes)
        eta = remaining / rate_b if rate_b > 0 else None
        if self.state.finished:
            eta = None
        self.sink(
            MailboxProgress(
                subject=self.mailbox,
                done=done,
                total=total,
                bytes_done=done_bytes,
                bytes_total=total_bytes,
                detail=self.current,
                state=self.state,
                folder=self.current,
                rate_bytes=rate_b,
                rate_messages=rate_m,
                eta_seconds=eta,
                failed=sum(w.failed for w in works),
                skipped=sum(w.skipped for w in works),
                copied_this_run=self.copied,
                folders=tuple(w.progress() for w in works),
            )
        )
        if (
            self.run_id
            and not self.settings.dry_run
            and now - self._last_sample >= self.settings.sample_interval
        ):
            self._last_sample = now
            with contextlib.suppress(Exception):
                self.ledger.add_sample(self.run_id, self.copied, self.copied_bytes)

    def _rate(self, now: float) -> tuple[float, float]:
        window = [s for s in self.rates if now - s[0] <= 10.0]
        if len(window) < 2:
            return 0.0, 0.0
        span = window[-1][0] - window[0][0]
        if span <= 0:
            return 0.0, 0.0
        return (window[-1][1] - window[0][1]) / span, (window[-1][2] - window[0][2]) / span

    def connect(self, which: str, *, first: bool = False) -> CopySource | CopyTarget:
        """Open a connection. The first one of a run gives up sooner: a server that is down
        at the start is more likely misconfigured than busy."""
        factory: Callable[[], CopySource | CopyTarget] = (
            self.job.source if which == "source" else self.job.target
        )
        retries = min(2, self.settings.retries) if first else self.settings.retries
        attempt = 0
        while True:
            try:
                connection = factory()
                self.log(f"connected to the {which}", event="connect", side=which)
                return connection
            except TransientError as exc:
                attempt += 1
                if attempt > retries or self.stopped():
                    raise ConnectFailed(f"{which}: {exc}") from exc
                self.log(
                    f"could not connect to the {which} ({exc}); retrying",
                    "warning",
                    "retry",
                    side=which,
                    attempt=attempt,
                )
                if not self.sleep(self.backoff(attempt, exc)):
                    raise ConnectFailed(f"{which}: cancelled while reconnecting") from exc

    def reconnect_target(self) -> CopyTarget:
        if self.target is not None:
            with contextlib.suppress(Exception):
                self.target.close()
        self.target = self.connect("target")  # type: ignore[assignment]
        self._folders_made.clear()
        return self.target

    # ----- the run --------------------------------------------------------------------------

    def run(self) -> MailboxResult:
        self.sink(Started(subject=self.mailbox, detail=self.job.label))
        mode = RunMode.RETRY if self.settings.only_failed else self.settings.mode
        if not self.settings.dry_run:
            self.run_id = self.ledger.start_run(self.mailbox, mode)
        error = ""
        unreachable = False
        try:
            self.emit(force=True)
            self.source = self.connect("source", first=True)  # type: ignore[assignment]
            self.target = self.connect("target", first=True)  # type: ignore[assignment]
            self.state = MailboxState.SCANNING
            self.emit(force=True)
            self.scan()
            if not self.settings.dry_run and not self.stopped():
                self.repair()
                self.state = MailboxState.COPYING
                self.emit(force=True)
                self.pipeline()
            if self.stopped():
                self.state = MailboxState.CANCELLED
            else:
                self.state = MailboxState.DONE
        except ConnectFailed as exc:
            error = str(exc)
            unreachable = True
            self.state = MailboxState.FAILED
        except CopyError as exc:
            error = str(exc)
            self.state = MailboxState.FAILED
        except Exception as exc:  # noqa: BLE001 - one mailbox's bug must not stop the others
            error = f"{type(exc).__name__}: {exc}"
            self.state = MailboxState.FAILED
            self.log(traceback.format_exc(), "error")
        finally:
            for conn in (self.source, self.target):
                if conn is not None:
                    with contextlib.suppress(Exception):
                        conn.close()
        result = replace(self.result(error), unreachable=unreachable)
        if self.run_id:
            run_state = {
                MailboxState.DONE: RunState.DONE,
                MailboxState.CANCELLED: RunState.CANCELLED,
            }.get(self.state, RunState.FAILED)
            with contextlib.suppress(Exception):
                self.ledger.add_sample(self.run_id, self.copied, self.copied_bytes)
                self.ledger.finish_run(
                    self.run_id,
                    run_state,
                    messages=self.copied,
                    bytes_copied=self.copied_bytes,
                    failures=result.failed,
                )
        if error:
            self.log(f"stopped: {error}", "error", "failure")
            self.sink(Failure(subject=self.mailbox, reason=error, code="mailbox"))
        self.emit(force=True)
        summary = (
            f"{result.copied} copied, {result.already} already there, {result.skipped} skipped, "
            f"{result.failed} failed"
        )
        if self.settings.dry_run:
            summary = f"dry run: {result.messages_total - result.already - result.skipped} to copy"
        self.log(f"{self.state.value}: {summary}")
        self.sink(Done(subject=self.mailbox, ok=result.ok, summary=summary, result=result))
        return result

    def result(self, error: str) -> MailboxResult:
        folders = tuple(
            FolderResult(
                folder=w.plan.source,
                target=w.plan.target,
                source_count=w.total,
                copied=w.copied,
                already=w.already,
                skipped=w.skipped,
                failed=w.failed,
                bytes_copied=w.copied_bytes,
            )
            for w in self.works
        )
        if self.plan is not None:
            folders += tuple(
                FolderResult(f.source, f.target, 0, 0, 0, 0, 0, 0, excluded=f.excluded)
                for f in self.plan.excluded
            )
        return MailboxResult(
            mailbox=self.mailbox,
            state=self.state,
            messages_total=sum(w.total for w in self.works),
            bytes_total=sum(w.total_bytes for w in self.works),
            copied=self.copied,
            already=sum(w.already for w in self.works),
            skipped=sum(w.skipped for w in self.works),
            failed=sum(w.failed for w in self.works),
            bytes_copied=self.copied_bytes,
            flag_changes=self.flag_changes,
            seconds=time.monotonic() - self.started,
            error=error,
            folders=folders,
            plan=self.plan,
        )

    # ----- scanning -------------------------------------------------------------------------

    def retrying(self, what: str, step: Callable[[], T], reconnect: Callable[[], object]) -> T:
        """Run ``step``; after a dropped connection reconnect with back-off and run it again."""
        attempt = 0
        while True:
            try:
                return step()
            except TransientError as exc:
                attempt += 1
                if attempt > self.settings.retries or self.stopped():
                    raise CopyError(f"{what} kept failing: {exc}") from exc
                self.log(f"{what}: {exc}; retrying", "warning")
                if not self.sleep(self.backoff(attempt, exc)):
                    raise CopyError("cancelled") from exc
                with contextlib.suppress(TransientError):
                    reconnect()

    def reconnect_source(self) -> CopySource:
        if self.source is not None:
            with contextlib.suppress(Exception):
                self.source.close()
        self.source = self.connect("source")  # type: ignore[assignment]
        return self.source

    def scan(self) -> None:
        layout = self.retrying(
            "reading the target's folders",
            lambda: self.target.layout(),  # type: ignore[union-attr]
            self.reconnect_target,
        )
        folders = self.retrying(
            "listing the source's folders",
            lambda: self.source.folders(),  # type: ignore[union-attr]
            self.reconnect_source,
        )
        self.plan = plan_mailbox(self.mailbox, folders, layout, self.job.options)
        for excluded in self.plan.excluded:
            self.log(f"folder {excluded.source!r} left out: {excluded.excluded}")
        for folder in self.plan.included:
            if self.stopped():
                return
            self.current = folder.source
            self.emit()
            self.retrying(
                f"listing {folder.source}",
                lambda folder=folder: self.scan_folder(folder),  # type: ignore[misc]
                self.reconnect_source,
            )

    def scan_folder(self, folder: FolderPlan) -> None:
        source = self.source
        assert source is not None and self.plan is not None
        status = source.examine(folder.source)
        listing = source.list_messages(folder.source)
        work = _FolderWork(plan=folder, status=status)
        work.last_uid = max((m.uid for m in listing), default=0)
        if not self.settings.dry_run:
            self.rematch_if_needed(folder, status, listing)
        rows = self.ledger.by_uid(self.mailbox, folder.source, status.uidvalidity)
        skipped: list[MessageRecord] = []
        flag_changes: list[tuple[MessageRecord, SourceMessage]] = []
        for msg in listing:
            row = rows.get(msg.uid)
            state = row.state if row else None
            if self.settings.only_failed and state in (
                MessageState.COPIED,
                MessageState.SKIPPED,
                None,
            ):
                continue
            oversize = self.plan.oversize_reason(msg.size)
            work.total += 1
            work.total_bytes += msg.size
            if row is not None and state is MessageState.COPIED:
                work.done += 1
                work.done_bytes += msg.size
                work.already += 1
                if self.settings.mode is RunMode.DIFFERENTIAL and row.flags != msg.flags:
                    flag_changes.append((row, msg))
            elif oversize:
                work.done += 1
                work.done_bytes += msg.size
                work.skipped += 1
                if state is not MessageState.SKIPPED:
                    skipped.append(
                        self.record_for(folder, status, msg, MessageState.SKIPPED, oversize)
                    )
                    self.log(f"{folder.source} UID {msg.uid}: skipped, {oversize}", "warning")
            else:
                looked = (
                    row is not None
                    and row.attempts > 0
                    and state
                    in (
                        MessageState.IN_FLIGHT,
                        MessageState.FAILED,
                    )
                )
                work.todo.append(_Todo(msg, lookup=looked, attempts=row.attempts if row else 0))
        self.works.append(work)
        if self.settings.dry_run:
            return
        self.ledger.record(skipped)
        self.ledger.mark_folder(
            self.mailbox,
            folder.source,
            uidvalidity=status.uidvalidity,
            last_seen_uid=work.last_uid,
            target_folder=folder.target,
        )
        if flag_changes:
            self.sync_flags(work, flag_changes)

    def record_for(
        self,
        folder: FolderPlan,
        status: FolderStatus,
        msg: SourceMessage,
        state: MessageState,
        reason: str = "",
        *,
        target_id: str = "",
        sha256: str = "",
        attempts: int = 0,
    ) -> MessageRecord:
        return MessageRecord(
            mailbox=self.mailbox,
            source_folder=folder.source,
            uidvalidity=status.uidvalidity,
            uid=msg.uid,
            state=state,
            target_folder=folder.target,
            target_id=target_id,
            message_id=msg.message_id,
            size=msg.size,
            sha256=sha256,
            internaldate=_iso(msg.internaldate),
            flags=msg.flags,
            reason=reason,
            attempts=attempts,
        )

    def rematch_if_needed(
        self, folder: FolderPlan, status: FolderStatus, listing: list[SourceMessage]
    ) -> None:
        """The folder's UIDVALIDITY changed: pair old rows with today's messages, copy no twins."""
        rows = self.ledger.store.query(
            "SELECT DISTINCT uidvalidity FROM copy_messages WHERE mailbox = ? AND "
            "source_folder = ? AND uidvalidity != ?",
            (self.mailbox, folder.source, status.uidvalidity),
        )
        for row in rows:
            old_validity = int(row["uidvalidity"])
            old = self.ledger.messages(self.mailbox, folder.source, uidvalidity=old_validity)
            taken = {
                r.uid
                for r in self.ledger.messages(
                    self.mailbox, folder.source, uidvalidity=status.uidvalidity
                )
            }
            by_id: dict[tuple[str, int], deque[MessageRecord]] = defaultdict(deque)
            by_hash: dict[str, deque[MessageRecord]] = defaultdict(deque)
            for r in sorted(old, key=lambda r: (r.state is not MessageState.COPIED, r.uid)):
                if r.message_id:
                    by_id[(r.message_id, r.size)].append(r)
                elif r.sha256:
                    by_hash[r.sha256].append(r)
            moves: dict[int, tuple[int, int]] = {}
            unmatched: list[SourceMessage] = []
            for msg in listing:
                if msg.uid in taken:
                    continue
                queue_ = by_id.get((msg.message_id, msg.size)) if msg.message_id else None
                if queue_:
                    moves[queue_.popleft().uid] = (status.uidvalidity, msg.uid)
                elif not msg.message_id:
                    unmatched.append(msg)
            sizes = {r.size for q in by_hash.values() for r in q}
            candidates = [m for m in unmatched if m.size in sizes]
            for chunk in _chunks(candidates, self.settings.batch_messages):
                bodies = self.source.fetch([m.uid for m in chunk])  # type: ignore[union-attr]
                for msg in chunk:
                    raw = bodies.get(msg.uid)
                    if raw is None:
                        continue
                    queue_ = by_hash.get(hashlib.sha256(raw).hexdigest())
                    if queue_:
                        moves[queue_.popleft().uid] = (status.uidvalidity, msg.uid)
            self.ledger.move_generation(self.mailbox, folder.source, old_validity, moves)
            self.log(
                f"{folder.source}: UIDVALIDITY changed ({old_validity} → {status.uidvalidity}); "
                f"{len(moves)} of {len(old)} earlier messages re-matched by Message-ID or content",
                "warning",
            )

    def sync_flags(
        self, work: _FolderWork, changes: list[tuple[MessageRecord, SourceMessage]]
    ) -> None:
        target = self.target
        assert target is not None
        applied = 0
        if target.supports_flags:
            wanted = [(row.target_id, msg.flags) for row, msg in changes if row.target_id]
            try:
                applied = target.set_flags(work.plan.target, wanted)
            except TransientError as exc:
                self.log(f"{work.plan.source}: flag changes not applied ({exc})", "warning")
        for row, msg in changes:
            self.sink(
                FlagsChanged(
                    subject=self.mailbox,
                    folder=work.plan.source,
                    uid=msg.uid,
                    message_id=msg.message_id,
                    before=row.flags,
                    after=msg.flags,
                    applied=applied > 0 and bool(row.target_id),
                )
            )
        self.flag_changes += len(changes)
        if applied:
            self.ledger.update_flags(
                self.mailbox,
                work.plan.source,
                work.status.uidvalidity,
                {msg.uid: msg.flags for row, msg in changes if row.target_id},
            )
        self.log(
            f"{work.plan.source}: {len(changes)} copied messages changed flags on the source; "
            f"{applied} applied on the target"
        )

    # ----- repairing an interrupted run -------------------------------------------------------

    def repair(self) -> None:
        """Look up on the target whatever an earlier run may have sent without confirmation."""
        for work in self.works:
            pending = [t for t in work.todo if t.lookup]
            if not pending or self.stopped():
                continue
            rows = self.ledger.by_uid(self.mailbox, work.plan.source, work.status.uidvalidity)
            found = self.retrying(
                "looking up interrupted messages on the target",
                lambda work=work, rows=rows, pending=pending: self.find_on_target(  # type: ignore[misc]
                    work, [(t, rows[t.message.uid].sha256) for t in pending]
                ),
                self.reconnect_target,
            )
            if found:
                landed = {t.message.uid for t, _ in found}
                work.todo = [t for t in work.todo if t.message.uid not in landed]
                self.confirm_found(work, found)
                self.log(
                    f"{work.plan.source}: {len(found)} messages of an interrupted run were already "
                    "on the target"
                )

    def find_on_target(
        self, work: _FolderWork, items: Sequence[tuple[_Todo, str]]
    ) -> list[tuple[_Todo, str]]:
        """Which of these (todo, sha256) are already in the target folder: [(todo, target id)].

        Copies the ledger already gives to other messages are not handed out twice, so identical
        duplicates in one folder are each found at most once.
        """
        target = self.target
        assert target is not None
        probes = [
            Probe(t.message.message_id, t.message.size, sha, t.message.internaldate)
            for t, sha in items
        ]
        matches = target.find(work.plan.target, probes)
        claimed: set[str] = set()
        unknown_claims: dict[tuple[str, int, str], int] = defaultdict(int)
        for row in self.ledger.messages(self.mailbox, states=[MessageState.COPIED]):
            if row.target_folder != work.plan.target:
                continue
            if row.target_id:
                claimed.add(row.target_id)
            else:
                unknown_claims[_key(row.message_id, row.size, row.sha256)] += 1
        found: list[tuple[_Todo, str]] = []
        for (todo, sha), ids in zip(items, matches, strict=True):
            free = [i for i in ids if i not in claimed]
            key = _key(todo.message.message_id, todo.message.size, sha)
            while free and unknown_claims.get(key, 0) > 0:
                free.pop(0)
                unknown_claims[key] -= 1
            if free:
                claimed.add(free[0])
                found.append((todo, free[0]))
        return found

    def confirm_found(self, work: _FolderWork, found: Sequence[tuple[_Todo, str]]) -> None:
        records = []
        for todo, target_id in found:
            records.append(
                self.record_for(
                    work.plan,
                    work.status,
                    todo.message,
                    MessageState.COPIED,
                    "found on the target after an interrupted attempt",
                    target_id=target_id,
                    attempts=todo.attempts,
                )
            )
            work.done += 1
            work.done_bytes += todo.message.size
            work.already += 1
        self.ledger.record(records)
        self.emit()

    # ----- the pipeline ---------------------------------------------------------------------

    def pipeline(self) -> None:
        works = [w for w in self.works if w.todo]
        if not works:
            return
        batches: queue.Queue[object] = queue.Queue(maxsize=4)
        fetcher = threading.Thread(
            target=self.fetch_loop,
            args=(works, batches),
            name=f"fetch-{self.mailbox}",
            daemon=True,
        )
        fetcher.start()
        failed_in_row = 0
        try:
            while True:
                item = batches.get()
                if item is _END:
                    break
                if isinstance(item, BaseException):
                    raise item
                assert isinstance(item, _Batch)
                try:
                    if self.stopped() or not self.wait_running():
                        continue
                    ok = self.upload(item)
                    failed_in_row = 0 if ok else failed_in_row + 1
                finally:
                    self.engine.budget.release(item.reserved)
                if failed_in_row >= self.settings.max_failed_batches:
                    raise CopyError(
                        f"the target ({self.target.host if self.target else '?'}) kept failing; "
                        "run the copy again later to go on from here"
                    )
        finally:
            self._abort_fetch = True
            self._drain(batches, fetcher)

    def _drain(self, batches: queue.Queue[object], fetcher: threading.Thread) -> None:
        """Stop the fetch thread and give back the memory of batches never sent."""
        while fetcher.is_alive() or not batches.empty():
            try:
                item = batches.get(timeout=0.1)
            except queue.Empty:
                continue
            if isinstance(item, _Batch):
                self.engine.budget.release(item.reserved)

    _abort_fetch = False

    def fetch_loop(self, works: list[_FolderWork], batches: queue.Queue[object]) -> None:
        try:
            for work in works:
                if self.stopped() or self._abort_fetch:
                    break
                self.fetch_folder(work, batches)
            batches.put(_END)
        except BaseException as exc:  # noqa: BLE001 - handed to the mailbox thread
            batches.put(exc)

    def fetch_folder(self, work: _FolderWork, batches: queue.Queue[object]) -> None:
        self.current = work.plan.source
        self.retrying(
            f"opening {work.plan.source}", lambda: self.reexamine(work), self.reconnect_source
        )
        for group in self.batch_groups(work.todo):
            if self._abort_fetch or not self.wait_running():
                return
            reserved = sum(t.message.size for t in group)
            if not self.engine.budget.acquire(
                reserved, lambda: self.stopped() or self._abort_fetch
            ):
                return
            try:
                bodies = self.fetch_with_retry(work, [t.message.uid for t in group])
            except BaseException:
                self.engine.budget.release(reserved)
                raise
            items = [(t, bodies[t.message.uid]) for t in group if t.message.uid in bodies]
            gone = [t for t in group if t.message.uid not in bodies]
            for todo in gone:  # expunged on the source since the listing
                work.total -= 1
                work.total_bytes -= todo.message.size
            while True:
                try:
                    batches.put(_Batch(work, items, reserved), timeout=0.2)
                    break
                except queue.Full:
                    if self._abort_fetch or self.stopped():
                        self.engine.budget.release(reserved)
                        return

    def batch_groups(self, todo: list[_Todo]) -> Iterator[list[_Todo]]:
        group: list[_Todo] = []
        size = 0
        for item in todo:
            if group and (
                size + item.message.size > self.settings.batch_bytes
                or len(group) >= self.settings.batch_messages
            ):
                yield group
                group, size = [], 0
            group.append(item)
            size += item.message.size
        if group:
            yield group

    def reexamine(self, work: _FolderWork) -> None:
        assert self.source is not None
        status = self.source.examine(work.plan.source)
        if status.uidvalidity != work.status.uidvalidity:
            raise CopyError(
                f"folder {work.plan.source!r} changed its UIDVALIDITY during the copy; run the "
                "copy again to re-match it"
            )

    def fetch_with_retry(self, work: _FolderWork, uids: list[int]) -> dict[int, bytes]:
        attempt = 0
        while True:
            try:
                assert self.source is not None
                return self.source.fetch(uids)
            except TransientError as exc:
                attempt += 1
                if attempt > self.settings.retries or self.stopped():
                    raise CopyError(f"the source kept failing: {exc}") from exc
                self.log(f"source: {exc}; retrying", "warning", "retry", side="source")
                if not self.sleep(self.backoff(attempt, exc)):
                    raise CopyError("cancelled") from exc
                self.reconnect_source()
                self.reexamine(work)

    def ensure_folder(self, work: _FolderWork) -> str:
        path = work.plan.target_path
        if path not in self._folders_made:
            assert self.target is not None
            self._folders_made[path] = self.target.ensure_folder(path)
            self.log(
                f"target folder {work.plan.target!r} ready",
                event="folder",
                folder=work.plan.target,
            )
        return self._folders_made[path]

    def upload(self, batch: _Batch) -> bool:
        """Send one batch; False when its retries ran out (its messages are recorded failed)."""
        work = batch.work
        self.current = work.plan.source
        hashes = {t.message.uid: hashlib.sha256(raw).hexdigest() for t, raw in batch.items}
        in_flight = [
            self.record_for(
                work.plan,
                work.status,
                t.message,
                MessageState.IN_FLIGHT,
                sha256=hashes[t.message.uid],
            )
            for t, _ in batch.items
        ]
        self.ledger.mark_in_flight(in_flight)
        pending = list(batch.items)
        results: list[WriteResult] = []
        attempt = 0
        while pending:
            try:
                folder = self.ensure_folder(work)
            except TransientError:
                folder = ""
            except Exception as exc:  # noqa: BLE001 - the target refused the folder
                reason = f"could not create the target folder {work.plan.target!r}: {exc}"
                results.extend(WriteResult(t.message.uid, False, reason=reason) for t, _ in pending)
                self.record_results(work, batch, results, hashes)
                return False
            try:
                if not folder:
                    folder = self.ensure_folder(work)
                outgoing = [
                    OutgoingMessage(
                        uid=t.message.uid,
                        raw=raw,
                        flags=t.message.flags,
                        internaldate=t.message.internaldate,
                        message_id=t.message.message_id,
                    )
                    for t, raw in pending
                ]
                results.extend(self.target.append(folder, outgoing))  # type: ignore[union-attr]
                pending = []
            except TransientError as exc:
                attempt += 1
                if attempt > self.settings.retries or self.stopped():
                    reason = f"not confirmed by the target after {attempt} attempts: {exc}"
                    results.extend(
                        WriteResult(t.message.uid, False, reason=reason) for t, _ in pending
                    )
                    self.record_results(work, batch, results, hashes)
                    self.log(
                        f"{work.plan.source}: {len(pending)} messages failed ({exc})",
                        "error",
                        "failure",
                        folder=work.plan.source,
                    )
                    return False
                self.state = MailboxState.RETRYING
                self.log(
                    f"target: {exc}; retrying (attempt {attempt})",
                    "warning",
                    "retry",
                    side="target",
                )
                self.emit(force=True)
                if not self.sleep(self.backoff(attempt, exc)):
                    break  # cancelled: the rest stays in flight for the next run to look up
                try:
                    self.reconnect_target()
                    # Some of the batch may have landed before the connection dropped.
                    found = self.find_on_target(
                        work, [(t, hashes[t.message.uid]) for t, _ in pending]
                    )
                except TransientError:
                    continue
                landed = {t.message.uid: target_id for t, target_id in found}
                results.extend(
                    WriteResult(t.message.uid, True, target_id=landed[t.message.uid])
                    for t, _ in pending
                    if t.message.uid in landed
                )
                pending = [(t, raw) for t, raw in pending if t.message.uid not in landed]
                self.state = MailboxState.COPYING
        self.record_results(work, batch, results, hashes)
        copied = {r.uid for r in results if r.ok}
        self.log(
            f"{work.plan.source}: batch of {len(copied)} messages copied to {work.plan.target!r}"
            + (f", {len(results) - len(copied)} failed" if len(copied) < len(results) else ""),
            event="batch",
            folder=work.plan.source,
            target=work.plan.target,
            messages=len(copied),
            failed=len(results) - len(copied),
            bytes=sum(len(raw) for t, raw in batch.items if t.message.uid in copied),
        )
        return True

    def record_results(
        self,
        work: _FolderWork,
        batch: _Batch,
        results: Sequence[WriteResult],
        hashes: dict[int, str],
    ) -> None:
        by_uid = {t.message.uid: t for t, _ in batch.items}
        records: list[MessageRecord] = []
        for result in results:
            todo = by_uid[result.uid]
            msg = todo.message
            state = MessageState.COPIED if result.ok else MessageState.FAILED
            records.append(
                self.record_for(
                    work.plan,
                    work.status,
                    msg,
                    state,
                    result.reason,
                    target_id=result.target_id,
                    sha256=hashes.get(msg.uid, ""),
                    attempts=todo.attempts + 1,
                )
            )
        self.ledger.record(records)
        for result in results:
            msg = by_uid[result.uid].message
            if result.ok:
                work.done += 1
                work.done_bytes += msg.size
                work.copied += 1
                work.copied_bytes += msg.size
                self.copied += 1
                self.copied_bytes += msg.size
            else:
                work.failed += 1
                self.sink(
                    Failure(
                        subject=self.mailbox,
                        reason=result.reason,
                        code="message",
                        detail={
                            "folder": work.plan.source,
                            "uid": msg.uid,
                            "message_id": msg.message_id,
                            "size": msg.size,
                        },
                    )
                )
        self.emit()


def _key(message_id: str, size: int, sha256: str) -> tuple[str, int, str]:
    return (message_id, size, "") if message_id else ("", size, sha256)


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""


def _chunks(items: Sequence[SourceMessage], size: int) -> Iterator[Sequence[SourceMessage]]:
    for start in range(0, len(items), max(1, size)):
        yield items[start : start + size]


__all__ = [
    "ByteBudget",
    "CopyEngine",
    "CopyResult",
    "CopySettings",
    "FolderResult",
    "MailboxJob",
    "MailboxResult",
]
