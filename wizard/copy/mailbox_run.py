"""One mailbox's run: connect, plan the folders, scan them against the ledger, repair, copy.

``MailboxRun`` connects to both sides, plans the folders, lists every included folder (read-only)
and decides from the ledger what is missing; it looks up on the target whatever an earlier run
left "in flight" (``rematch``), then hands the rest to the fetch/upload ``Pipeline``. Every retry
goes through the one retry policy (wizard.retry) with the copy's numbers; each wait is logged.
However the run ends, its row in the ledger is closed (``finish``), so no run stays "running".
"""

from __future__ import annotations

import contextlib
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

from ..events import Done, Failure, Started
from ..formatting import epoch_of
from ..retry import LANDING_SECONDS, Retryable, RetryCancelled, RetryPolicy, Wait, retry_call
from .errors import ConnectFailed, CopyError, ServerFailed, TransientError, copy_retryable
from .events import FlagsChanged, MailboxState
from .folder_map import FolderPlan, MailboxPlan, plan_mailbox
from .folder_tree import make_tree
from .holds import MailboxHeld, MailboxHolder, take_hold
from .job import MailboxJob
from .ledger import MessageRecord, MessageState, RunMode, RunState
from .outcome import FolderResult, MailboxResult
from .pipeline import UNCONFIRMED, Pipeline
from .reconcile import reconcile_works, remember_target_folders
from .rematch import find_on_target, rematch_generation
from .reporting import RunReporter
from .source import CopySource, FolderStatus, SourceMessage
from .target import CopyTarget
from .work import FolderWork, Todo, message_record

if TYPE_CHECKING:
    from .engine import CopyEngine

T = TypeVar("T")


class MailboxControl:
    """Pause and cancel switches of one mailbox (or of all of them)."""

    def __init__(self) -> None:
        self.running = threading.Event()
        self.running.set()
        self.cancelled = threading.Event()


def may_be_landing(row: MessageRecord) -> bool:
    """Whether a message a run sent may still land on the target: in flight when that run
    ended or died, or out of retries without an answer (not refused: the target answered that)."""
    if row.state is MessageState.IN_FLIGHT:
        return True
    return row.state is MessageState.FAILED and row.reason.startswith(UNCONFIRMED)


class MailboxRun:
    """One mailbox's run; ``run`` returns its result and never raises."""

    def __init__(self, engine: CopyEngine, job: MailboxJob, control: MailboxControl) -> None:
        self.engine = engine
        self.job = job
        self.mailbox = job.mailbox
        self.control = control
        self.settings = engine.settings
        self.policy: RetryPolicy = self.settings.retry_policy()
        self.ledger = engine.ledger
        self.sink = engine.sink
        self.report = RunReporter(self.mailbox, self.sink, self.settings, self.ledger)
        self.state = MailboxState.CONNECTING
        self.works: list[FolderWork] = []
        self.unopened: list[tuple[FolderPlan, str]] = []  # folders the source failed to open
        self.current = ""
        self.started = time.monotonic()
        self.copied = 0
        self.copied_bytes = 0
        self.flag_changes = 0
        self.flags_applied = 0
        self.run_id = 0
        self.source: CopySource | None = None
        self.target: CopyTarget | None = None
        self.plan: MailboxPlan | None = None
        # Folder -> (status, listing, with headers) read ahead by list_ahead, for scan_folder.
        self._ahead: dict[str, tuple[FolderStatus, list[SourceMessage], bool]] = {}
        self._folders_made: dict[tuple[str, ...], str] = {}
        self.took_over: MailboxHolder | None = None  # the hold of a copy that is gone

    # ----- steering and telling -------------------------------------------------------------

    def stopped(self) -> bool:
        return self.control.cancelled.is_set() or self.engine.all.cancelled.is_set()

    def paused(self) -> bool:
        return not (self.control.running.is_set() and self.engine.all.running.is_set())

    def wait_running(self, *, announce: bool = True) -> bool:
        """Block while paused; False once cancelled. Only the mailbox thread, which writes to the
        target, ``announce``s it: a mailbox shows "paused" once nothing of it is being written
        (its fetch thread waits without a word while a batch may still be going out)."""
        was = self.state
        while self.paused():
            if self.stopped():
                return False
            if not announce:
                time.sleep(0.1)
                continue
            if self.state is not MailboxState.PAUSED:
                self.state = MailboxState.PAUSED
                self.emit(force=True)
                self.log("paused")
            time.sleep(0.1)
        if announce and self.state is MailboxState.PAUSED:
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
        return not self.stopped()

    def log(self, message: str, level: str = "info", event: str = "", **fields: Any) -> None:
        self.report.log(message, level, event, **fields)

    def emit(self, force: bool = False) -> None:
        self.report.emit(self, force)

    def report_wait(self, wait: Wait, side: str) -> None:
        self.log(
            f"{wait.what}: {wait.why.reason}; retrying (attempt {wait.attempt})",
            "warning",
            "retry",
            side=side,
            attempt=wait.attempt,
        )
        if wait.why.throttled:
            self.log(
                f"throttled: waiting {wait.seconds:.0f}s",
                "warning",
                "throttle",
                seconds=wait.seconds,
            )

    def retrying(
        self,
        what: str,
        call: Callable[[], T],
        *,
        side: str,
        recover: Callable[[Retryable], None] | None = None,
        policy: RetryPolicy | None = None,
        on_wait: Callable[[Wait], None] | None = None,
    ) -> T:
        """Run ``call`` under the copy's retry policy. Raises the last TransientError when the
        policy gives up, RetryCancelled when the copy was cancelled during a wait."""
        return retry_call(
            call,
            what=what,
            policy=policy or self.policy,
            retryable=copy_retryable,
            on_wait=on_wait or (lambda wait: self.report_wait(wait, side)),
            sleep=self.sleep,
            recover=recover,
        )

    def retried_step(self, what: str, call: Callable[[], T], side: str) -> T:
        """A step of the scan: after a drop, reconnect that side and run it again."""
        try:
            return self.retrying(what, call, side=side, recover=lambda _why: self.reopen(side))
        except TransientError as exc:
            raise CopyError(f"{what} kept failing: {exc}") from exc
        except RetryCancelled as exc:
            raise CopyError("cancelled") from exc

    # ----- connections ------------------------------------------------------------------------

    def _open(self, which: str) -> CopySource | CopyTarget:
        if which == "source":
            return self.job.source()
        target = self.job.target(self.sink)
        if held := getattr(target, "max_held_bytes", None):  # a stand-in may not say
            self.engine.budget.cap(held)
        return target

    def connect(self, which: str, *, first: bool = False) -> Any:
        """Open a connection with retries. The first one of a run gives up sooner: a server that
        is down at the start is more likely misconfigured than busy."""
        policy = replace(self.policy, attempts=min(2, self.settings.retries)) if first else None
        try:
            connection = self.retrying(
                f"connecting to the {which}", lambda: self._open(which), side=which, policy=policy
            )
        except TransientError as exc:
            raise ConnectFailed(f"{which}: {exc}") from exc
        except RetryCancelled as exc:
            raise ConnectFailed(f"{which}: cancelled while reconnecting") from exc
        self.log(f"connected to the {which}", event="connect", side=which)
        return connection

    def reopen(self, which: str) -> None:
        """One new connection to that side after a drop (part of a retried attempt)."""
        old = self.source if which == "source" else self.target
        if old is not None:
            with contextlib.suppress(Exception):
                old.close()
        connection = self._open(which)
        self.log(f"connected to the {which}", event="connect", side=which)
        if which == "source":
            self.source = connection  # type: ignore[assignment]
        else:
            self.target = connection  # type: ignore[assignment]
            self._folders_made.clear()

    def ensure_folder(self, work: FolderWork) -> str:
        path = work.plan.target_path
        if path not in self._folders_made:
            assert self.target is not None
            self._folders_made[path] = self.target.ensure_folder(path)
            self.log(
                f"target folder {work.plan.target!r} ready", event="folder", folder=work.plan.target
            )
        return self._folders_made[path]

    # ----- the run ----------------------------------------------------------------------------

    def run(self) -> MailboxResult:
        self.sink(Started(subject=self.mailbox, detail=self.job.label))
        hold = None
        if not self.settings.dry_run:  # a dry run writes nothing: it needs no hold
            try:
                hold = take_hold(self.ledger.store, self.mailbox, on_lost=self.lost_hold)
            except MailboxHeld as exc:
                return self.refused(exc)
            self.took_over = hold.replaced
            if hold.replaced is not None:
                self.log(
                    f"took over the mailbox from a copy that is gone: {hold.replaced.describe()}"
                )
        try:
            return self.run_held()
        finally:
            if hold is not None:
                hold.release()

    def refused(self, exc: MailboxHeld) -> MailboxResult:
        """Another copy runs this mailbox: nothing is read or written, the operator told who."""
        self.state = MailboxState.FAILED
        result = replace(self.result(str(exc)), held_by=exc.holder.describe())
        self.log(f"refused: {exc}", "error", "failure", holder=exc.holder.describe())
        self.sink(Failure(subject=self.mailbox, reason=str(exc), code="held"))
        self.emit(force=True)
        self.sink(Done(subject=self.mailbox, ok=False, summary=str(exc), result=result))
        return result

    def lost_hold(self) -> None:
        self.log(
            f"another copy took over {self.mailbox} (this one had stopped answering); stopping",
            "error",
            "failure",
        )
        self.control.cancelled.set()
        self.control.running.set()

    def run_held(self) -> MailboxResult:
        mode = RunMode.RETRY if self.settings.only_failed else self.settings.mode
        if not self.settings.dry_run:
            self.run_id = self.ledger.start_run(self.mailbox, mode)
        error = ""
        unreachable = False
        try:
            self.emit(force=True)
            self.source = self.connect("source", first=True)
            self.target = self.connect("target", first=True)
            self.state = MailboxState.SCANNING
            self.emit(force=True)
            self.scan()
            if not self.settings.dry_run and self.await_landing():
                reconcile_works(self)
                self.repair()
                make_tree(self)
                self.state = MailboxState.COPYING
                self.emit(force=True)
                Pipeline(self).copy()
                remember_target_folders(self)
            self.state = MailboxState.CANCELLED if self.stopped() else MailboxState.DONE
        except ConnectFailed as exc:
            error, unreachable = str(exc), True
            self.state = MailboxState.FAILED
        except CopyError as exc:
            error = str(exc)
            self.state = MailboxState.CANCELLED if self.stopped() else MailboxState.FAILED
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
        self.finish(result)
        if error:
            self.log(f"stopped: {error}", "error", "failure")
            self.sink(Failure(subject=self.mailbox, reason=error, code="mailbox"))
        self.emit(force=True)
        summary = (
            f"{result.copied} copied, {result.already} already there, {result.skipped} skipped, "
            f"{result.failed} failed"
        )
        if self.flag_changes:
            summary += (
                f", {self.flag_changes} flag changes on the source "
                f"({self.flags_applied} applied on the target)"
            )
        if self.unopened:
            names = ", ".join(f.source for f, _why in self.unopened)
            summary += f"; the source could not open {names}"
        if self.settings.dry_run:
            summary = f"dry run: {result.messages_total - result.already - result.skipped} to copy"
        self.log(f"{self.state.value}: {summary}")
        self.sink(Done(subject=self.mailbox, ok=result.ok, summary=summary, result=result))
        return result

    def finish(self, result: MailboxResult) -> None:
        """Close the run's row in the ledger; a last sample that fails cannot keep it open."""
        if not self.run_id:
            return
        self.report.sample(self)
        state = {
            MailboxState.DONE: RunState.DONE,
            MailboxState.CANCELLED: RunState.CANCELLED,
        }.get(self.state, RunState.FAILED)
        try:
            self.ledger.finish_run(
                self.run_id,
                state,
                messages=self.copied,
                bytes_copied=self.copied_bytes,
                failures=result.failed,
            )
        except Exception as exc:  # noqa: BLE001 - the copy itself is over and recorded
            self.log(f"could not record the end of this run in the ledger ({exc})", "error")

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
        folders += tuple(
            FolderResult(f.source, f.target, 0, 0, 0, 0, 0, 0, error=why)
            for f, why in self.unopened
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
            flags_applied=self.flags_applied,
            seconds=time.monotonic() - self.started,
            error=error,
            folders=folders,
            plan=self.plan,
        )

    # ----- scanning ---------------------------------------------------------------------------

    def scan(self) -> None:
        layout = self.retried_step(
            "reading the target's folders",
            lambda: self.target.layout(),  # type: ignore[union-attr]
            "target",
        )
        folders = self.retried_step(
            "listing the source's folders",
            lambda: self.source.folders(),  # type: ignore[union-attr]
            "source",
        )
        self.plan = plan_mailbox(self.mailbox, folders, layout, self.job.options)
        for excluded in self.plan.excluded:
            self.log(f"folder {excluded.source!r} left out: {excluded.excluded}")
        self._ahead = self.list_ahead()
        for folder in self.plan.included:
            if self.stopped():
                return
            self.current = folder.source
            self.emit()
            try:
                self.retried_step(
                    f"listing {folder.source}",
                    lambda folder=folder: self.scan_folder(folder),  # type: ignore[misc]
                    "source",
                )
            except CopyError as exc:
                if self.stopped() or not isinstance(exc.__cause__, ServerFailed):
                    raise
                self.folder_unopened(folder, str(exc.__cause__))
        self._ahead = {}

    def folder_unopened(self, folder: FolderPlan, why: str) -> None:
        """A folder the source kept failing to open (it answered, the others open): its
        messages are not copied this time, the other folders are; a rerun tries it again."""
        self.unopened.append((folder, why))
        self.log(
            f"{folder.source}: the source could not open it ({why}); none of its messages is "
            "copied, the other folders go on",
            "error",
            "failure",
            folder=folder.source,
        )
        self.sink(
            Failure(
                subject=self.mailbox,
                reason=f"the source could not open the folder {folder.source!r}: {why}",
                code="folder",
                detail={"folder": folder.source},
            )
        )

    def list_ahead(self) -> dict[str, tuple[FolderStatus, list[SourceMessage], bool]]:
        """Every included folder's status and listing, read with commands sent ahead where the
        source can (``ImapSource.list_ahead``): a few round trips for the mailbox instead of two
        per folder. Empty when it cannot; a folder left out is read by ``scan_folder``."""
        assert self.plan is not None
        folders = [
            (f.source, self.ledger.knows_folder(self.mailbox, f.source)) for f in self.plan.included
        ]
        if getattr(self.source, "list_ahead", None) is None or len(folders) < 2 or self.stopped():
            return {}
        # After a drop (its answers then half read), a new connection and all of it again; if
        # that keeps failing (a server that mishandles commands sent ahead), one at a time.
        try:
            listed = self.retried_step(
                "listing the folders ahead",
                lambda: self.source.list_ahead(folders),  # type: ignore[union-attr]
                "source",
            )
        except CopyError as exc:
            if self.stopped():
                return {}
            self.log(f"{exc}; listing them one at a time", "warning")
            self.retried_step("reconnecting", lambda: self.reopen("source"), "source")
            return {}
        known = dict(folders)
        return {name: (status, listing, known[name]) for name, (status, listing) in listed.items()}

    def scan_folder(self, folder: FolderPlan) -> None:
        source = self.source
        assert source is not None and self.plan is not None
        # A folder the ledger knows nothing of has no earlier rows to pair its messages with:
        # it is listed without headers, and each message's identity is read from its own bytes
        # as it is copied (or from its headers, if the target folder turns out to hold mail).
        known = self.ledger.knows_folder(self.mailbox, folder.source)
        ahead = self._ahead.pop(folder.source, None)
        fetch = source.fetch
        if ahead is not None and ahead[2] == known:
            status, listing = ahead[0], ahead[1]
            fetch = self._fetch_in(folder.source, status)  # another folder may be open
        else:
            status = source.examine(folder.source)
            listing = source.list_messages(folder.source, headers=known)
        work = FolderWork(plan=folder, status=status)
        work.last_uid = max((m.uid for m in listing), default=0)
        if not self.settings.dry_run:
            for line in rematch_generation(
                self.ledger,
                self.mailbox,
                folder,
                status,
                listing,
                fetch,
                self.settings.batch_messages,
            ):
                self.log(line, "warning")
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
            skip = self.plan.skip_reason(msg.size, msg.flags)  # too large, or \Deleted
            work.total += 1
            work.total_bytes += msg.size
            if row is not None and state is MessageState.COPIED:
                work.count_already(msg)
                work.confirmed[msg.uid] = (row, msg)
                if self.settings.mode is RunMode.DIFFERENTIAL and row.flags != msg.flags:
                    flag_changes.append((row, msg))
            elif skip:
                work.done += 1
                work.done_bytes += msg.size
                work.skipped += 1
                if state is not MessageState.SKIPPED:
                    skipped.append(
                        message_record(self.mailbox, work, msg, MessageState.SKIPPED, skip)
                    )
                    self.log(f"{folder.source} UID {msg.uid}: skipped, {skip}", "warning")
            else:
                looked = (
                    row is not None
                    and row.attempts > 0
                    and state in (MessageState.IN_FLIGHT, MessageState.FAILED)
                )
                work.todo.append(Todo(msg, lookup=looked, attempts=row.attempts if row else 0))
        self.works.append(work)
        self.warn_undated(work)
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

    def _fetch_in(
        self, folder: str, status: FolderStatus
    ) -> Callable[[list[int]], dict[int, bytes]]:
        """``source.fetch`` for a folder listed ahead: EXAMINEs it first (once), and refuses if
        its UIDVALIDITY changed since the listing (its UIDs would name other messages)."""
        source = self.source
        assert source is not None
        opened = [False]

        def fetch(uids: list[int]) -> dict[int, bytes]:
            if not opened[0]:
                if source.examine(folder).uidvalidity != status.uidvalidity:
                    raise CopyError(
                        f"folder {folder!r} changed its UIDVALIDITY while it was listed; run "
                        "the copy again to re-match it"
                    )
                opened[0] = True
            return source.fetch(uids)

        return fetch

    def warn_undated(self, work: FolderWork) -> None:
        """Say which messages to copy came without a readable received date (INTERNALDATE
        missing or in no form a parser knows): the target gives them the day of the copy."""
        undated = [t.message.uid for t in work.todo if t.message.internaldate is None]
        if not undated:
            return
        shown = ", ".join(map(str, undated[:10])) + (" …" if len(undated) > 10 else "")
        self.log(
            f"{work.plan.source}: {len(undated)} message(s) without a readable received date "
            f"on the source (UID {shown}); the target dates them on arrival, so they sort by "
            "the day of the copy",
            "warning",
            "undated",
            folder=work.plan.source,
            uids=undated,
        )

    def sync_flags(
        self, work: FolderWork, changes: list[tuple[MessageRecord, SourceMessage]]
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
        self.flags_applied += applied
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

    # ----- reconciling with the target, repairing an interrupted run ----------------------------

    def repair(self) -> None:
        """Look up on the target whatever an earlier run may have sent without confirmation."""
        for work in self.works:
            pending = [t for t in work.todo if t.lookup]
            if not pending or self.stopped():
                continue
            rows = self.ledger.by_uid(self.mailbox, work.plan.source, work.status.uidvalidity)
            found = self.retried_step(
                "looking up interrupted messages on the target",
                lambda work=work, rows=rows, pending=pending: find_on_target(  # type: ignore[misc]
                    self.target,  # type: ignore[arg-type]
                    self.ledger,
                    self.mailbox,
                    work,
                    [(t, rows[t.message.uid].sha256) for t in pending],
                ),
                "target",
            )
            if found:
                landed = {t.message.uid for t, _ in found}
                work.todo = [t for t in work.todo if t.message.uid not in landed]
                self.confirm_found(work, found, "found on the target after an interrupted attempt")
                self.log(
                    f"{work.plan.source}: {len(found)} messages of an interrupted run were already "
                    "on the target"
                )

    def await_landing(self) -> bool:
        """Before anything is looked up on the target (reconciled or repaired): wait until what
        an interrupted run sent, or sent without an answer, has had ``LANDING_SECONDS`` to land
        there since that run was last seen alive; False if cancelled meanwhile."""
        sent: list[MessageRecord] = []
        for work in self.works:
            uids = {t.message.uid for t in work.todo if t.lookup}
            if uids:
                rows = self.ledger.by_uid(self.mailbox, work.plan.source, work.status.uidvalidity)
                # Not what the target refused (it answered): only what may be on its way.
                sent += [rows[uid] for uid in uids if uid in rows and may_be_landing(rows[uid])]
        if not sent:
            return not self.stopped()
        alive = [stamp for r in sent if (stamp := epoch_of(r.updated_at)) is not None]
        if self.took_over is not None:
            alive.append(self.took_over.heartbeat)
        if not alive:
            return not self.stopped()
        ago = time.time() - max(alive)
        wait = min(LANDING_SECONDS, LANDING_SECONDS - ago)  # a clock ahead cannot make it longer
        if wait <= 0:
            return not self.stopped()
        self.log(
            f"{len(sent)} messages an interrupted run sent {max(ago, 0):.0f}s ago may still be "
            f"on their way to the target; waiting {wait:.0f}s for them to land before looking "
            "them up",
            "warning",
            "landing",
            seconds=wait,
        )
        return self.sleep(wait)

    def confirm_found(self, work: FolderWork, found: list[tuple[Todo, str]], reason: str) -> None:
        records = []
        for todo, target_id in found:
            records.append(
                message_record(
                    self.mailbox,
                    work,
                    todo.message,
                    MessageState.COPIED,
                    reason,
                    target_id=target_id,
                    attempts=todo.attempts,
                )
            )
            work.count_already(todo.message)
        self.ledger.record(records)
        self.emit()


__all__ = ["MailboxControl", "MailboxRun"]
