"""The fetch/upload pipeline of one mailbox run.

A fetch thread reads batches sized by bytes (BODY.PEEK[]) while the mailbox thread writes the
previous batch to the target. Bytes held in memory are bounded by the engine's ``ByteBudget``,
shared by every mailbox, so RSS stays flat even with 40 MB messages. Rows are written per batch:
"in-flight" before the batch is sent, "copied" after the target confirmed it, so a kill at any
moment is repaired by the next run without duplicates. A target call writes at most once; after a
dropped connection or a throttling answer the batch is retried under the copy's retry policy,
first looking up on the target what of it landed. A message the target refuses is recorded as
failed and the mailbox goes on.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from ..events import Failure
from ..retry import LANDING_SECONDS, Retryable, RetryCancelled, Wait
from .errors import CopyError, ServerHungUp, TargetFull, TransientError
from .events import MailboxState
from .ledger import InFlight, MessageState
from .rematch import find_on_target
from .source import PIPELINE_FOLDERS, FolderStatus, SourceMessage, identified
from .target import OutgoingMessage, WriteResult
from .work import Batch, FolderWork, Todo, iso, message_record

if TYPE_CHECKING:
    from .mailbox_run import MailboxRun

_END = object()

# The reason of a message whose sending ran out of retries without an answer: unlike a refusal,
# it may still have landed (or be landing), so a rerun looks for it first and gives it time.
UNCONFIRMED = "not confirmed by the target"


class _FolderRefused(Exception):
    """The target refused to create a folder: its messages fail, the mailbox goes on."""


class Pipeline:
    def __init__(self, run: MailboxRun) -> None:
        self.run = run
        self.settings = run.settings
        self.budget = run.engine.budget
        self._abort_fetch = False

    # ----- the mailbox thread: upload -----------------------------------------------------------

    def copy(self) -> None:
        """Fetch and send every message still to do; returns when all are sent or cancelled."""
        run = self.run
        works = [w for w in run.works if w.todo]
        if not works:
            return
        batches: queue.Queue[object] = queue.Queue(maxsize=4)
        fetcher = threading.Thread(
            target=self.fetch_loop,
            args=(works, batches),
            name=f"fetch-{run.mailbox}",
            daemon=True,
        )
        fetcher.start()
        failed_in_row = 0
        try:
            while True:
                item = self.next_batch(batches)
                if item is _END:
                    break
                if isinstance(item, BaseException):
                    raise item
                assert isinstance(item, Batch)
                try:
                    if run.stopped() or not run.wait_running():
                        continue
                    ok = self.upload(item)
                    failed_in_row = 0 if ok else failed_in_row + 1
                finally:
                    # The batch's bytes go before the budget says they have: kept until the next
                    # batch arrived, each mailbox held one batch (up to 8 MiB) over the budget.
                    reserved = item.reserved
                    del item
                    self.budget.release(reserved)
                if failed_in_row >= self.settings.max_failed_batches:
                    host = run.target.host if run.target else "?"
                    raise CopyError(
                        f"the target ({host}) kept failing; run the copy again later to go on "
                        "from here"
                    )
        finally:
            self._abort_fetch = True
            self._drain(batches, fetcher)

    def next_batch(self, batches: queue.Queue[object]) -> object:
        """The next batch from the fetch thread; while paused with none to send, the mailbox
        shows paused (its fetch thread is holding still too)."""
        while True:
            try:
                return batches.get(timeout=0.1)
            except queue.Empty:
                if self.run.paused():
                    self.run.wait_running()

    def _drain(self, batches: queue.Queue[object], fetcher: threading.Thread) -> None:
        """Stop the fetch thread and give back the memory of batches never sent."""
        while fetcher.is_alive() or not batches.empty():
            try:
                item = batches.get(timeout=0.1)
            except queue.Empty:
                continue
            if isinstance(item, Batch):
                self.budget.release(item.reserved)

    def upload(self, batch: Batch) -> bool:
        """Send one batch; False when its retries ran out (its messages are recorded failed)."""
        run = self.run
        work = batch.work
        run.current = work.plan.source
        if batch.unreadable:
            self.record_unreadable(work, batch.unreadable)
            if not batch.items:
                return True
        for todo, raw in batch.items:  # listed without headers: identity from the bytes read
            if not todo.message.identified:
                todo.message = identified(todo.message, raw)
        # Content hashes only where identity needs them: messages without a Message-ID.
        hashes = {
            t.message.uid: hashlib.sha256(raw).hexdigest()
            for t, raw in batch.items
            if not t.message.message_id
        }
        run.ledger.mark_in_flight(
            run.mailbox,
            work.plan.source,
            work.status.uidvalidity,
            work.plan.target,
            [
                InFlight(
                    t.message.uid,
                    t.message.message_id,
                    t.message.size,
                    hashes.get(t.message.uid, ""),
                    iso(t.message.internaldate),
                    t.message.flags,
                )
                for t, _ in batch.items
            ],
        )
        pending = list(batch.items)
        results: list[WriteResult] = []

        def send() -> None:
            if run.state is MailboxState.RETRYING:
                run.state = MailboxState.COPYING
            if not pending:
                return
            try:
                folder = run.ensure_folder(work)
            except TransientError:
                raise
            except Exception as exc:  # noqa: BLE001 - the target refused the folder
                raise _FolderRefused(
                    f"could not create the target folder {work.plan.target!r}: {exc}"
                ) from exc
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
            results.extend(run.target.append(folder, outgoing))  # type: ignore[union-attr]
            pending.clear()

        def look_up() -> None:
            found = find_on_target(
                run.target,  # type: ignore[arg-type]
                run.ledger,
                run.mailbox,
                work,
                [(t, hashes.get(t.message.uid, "")) for t, _ in pending],
            )
            landed = {t.message.uid: target_id for t, target_id in found}
            results.extend(
                WriteResult(t.message.uid, True, target_id=landed[t.message.uid])
                for t, _ in pending
                if t.message.uid in landed
            )
            pending[:] = [(t, raw) for t, raw in pending if t.message.uid not in landed]

        def recover(why: Retryable) -> None:
            run.reopen("target")
            look_up()  # some of the batch may have landed before the connection dropped
            if why.unanswered and pending:
                # No answer is not a refusal: the server may still be storing the batch it
                # read on the old connection. Sent again now, it would be there twice.
                run.log(
                    f"{work.plan.target}: the target did not answer in time and may still be "
                    f"storing {len(pending)} messages sent before; waiting "
                    f"{LANDING_SECONDS:.0f}s before looking for them again",
                    "warning",
                    "landing",
                    seconds=LANDING_SECONDS,
                )
                if not run.sleep(LANDING_SECONDS):
                    raise RetryCancelled(f"writing to {work.plan.target}")
                look_up()

        attempts = [0]

        def on_wait(wait: Wait) -> None:
            attempts[0] = wait.attempt
            run.state = MailboxState.RETRYING
            run.report_wait(wait, "target")
            run.emit(force=True)

        try:
            run.retrying(
                f"writing to {work.plan.target}",
                send,
                side="target",
                recover=recover,
                on_wait=on_wait,
            )
        except RetryCancelled:
            pass  # cancelled: the rest stays in flight for the next run to look up
        except _FolderRefused as exc:
            results.extend(WriteResult(t.message.uid, False, reason=str(exc)) for t, _ in pending)
            self.record_results(work, batch, results, hashes)
            return False
        except TransientError as exc:
            reason = f"{UNCONFIRMED} after {attempts[0] + 1} attempts: {exc}"
            results.extend(WriteResult(t.message.uid, False, reason=reason) for t, _ in pending)
            self.record_results(work, batch, results, hashes)
            run.log(
                f"{work.plan.source}: {len(pending)} messages failed ({exc})",
                "error",
                "failure",
                folder=work.plan.source,
            )
            return False
        finally:
            if run.state is MailboxState.RETRYING:
                run.state = MailboxState.COPYING
        self.record_results(work, batch, results, hashes)
        full = [r for r in results if r.full]
        if full:  # nothing more fits: the rest of the mailbox is not tried message by message
            host = run.target.host if run.target else "?"
            raise TargetFull(
                f"the target mailbox is full: {host} refused {len(full)} messages of "
                f"{work.plan.source} ({full[0].reason}). Raise its quota or make room, then run "
                "the copy again: it goes on from here and sends what was refused"
            )
        copied = {r.uid for r in results if r.ok}
        run.log(
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

    def record_unreadable(self, work: FolderWork, failed: list[tuple[Todo, str]]) -> None:
        """Messages the source could not read: failed, with the source's words; a rerun tries
        them again."""
        run = self.run
        run.ledger.record(
            [
                message_record(
                    run.mailbox,
                    work,
                    todo.message,
                    MessageState.FAILED,
                    f"the source could not read it: {why}",
                    attempts=todo.attempts + 1,
                )
                for todo, why in failed
            ]
        )
        for todo, why in failed:
            msg = todo.message
            work.failed += 1
            run.log(
                f"{work.plan.source} UID {msg.uid}: the source could not read it ({why}); "
                "the rest of the folder goes on",
                "error",
                "failure",
                folder=work.plan.source,
            )
            self.message_failed(work, msg, f"the source could not read it: {why}")
        run.emit()

    def message_failed(self, work: FolderWork, msg: SourceMessage, reason: str) -> None:
        """One message not copied, for the operator: a Failure event with its folder and UID."""
        self.run.sink(
            Failure(
                subject=self.run.mailbox,
                reason=reason,
                code="message",
                detail={
                    "folder": work.plan.source,
                    "uid": msg.uid,
                    "message_id": msg.message_id,
                    "size": msg.size,
                },
            )
        )

    def record_results(
        self,
        work: FolderWork,
        batch: Batch,
        results: Sequence[WriteResult],
        hashes: dict[int, str],
    ) -> None:
        run = self.run
        by_uid = {t.message.uid: t for t, _ in batch.items}
        outcomes = [
            (
                result.uid,
                MessageState.COPIED if result.ok else MessageState.FAILED,
                result.target_id,
                result.reason,
                by_uid[result.uid].attempts + 1,
            )
            for result in results
        ]
        uidvalidity = work.status.uidvalidity
        if not run.ledger.confirm(run.mailbox, work.plan.source, uidvalidity, outcomes):
            run.ledger.record(  # rows the in-flight mark did not write: whole rows
                [
                    message_record(
                        run.mailbox,
                        work,
                        by_uid[uid].message,
                        state,
                        reason,
                        target_id=target_id,
                        sha256=hashes.get(uid, ""),
                        attempts=attempts,
                    )
                    for uid, state, target_id, reason, attempts in outcomes
                ]
            )
        for result in results:
            msg = by_uid[result.uid].message
            if result.ok:
                work.done += 1
                work.done_bytes += msg.size
                work.copied += 1
                work.copied_bytes += msg.size
                run.copied += 1
                run.copied_bytes += msg.size
            else:
                work.failed += 1
                self.message_failed(work, msg, result.reason)
        run.emit()

    # ----- the fetch thread ---------------------------------------------------------------------

    def fetch_loop(self, works: list[FolderWork], batches: queue.Queue[object]) -> None:
        try:
            at = 0
            while at < len(works):
                if self.run.stopped() or self._abort_fetch:
                    break
                small = self.small_folders(works, at)
                handled = self.fetch_folders(small, batches) if len(small) > 1 else 0
                at += handled
                if handled and handled == len(small):
                    continue
                if self.run.stopped() or self._abort_fetch:
                    break
                self.fetch_folder(works[at], batches)  # on its own: what the group stopped at
                at += 1
            batches.put(_END)
        except BaseException as exc:  # noqa: BLE001 - handed to the mailbox thread
            batches.put(exc)

    def small_folders(self, works: list[FolderWork], at: int) -> list[tuple[FolderWork, int]]:
        """The folders from ``at`` on whose messages all fit in one batch together (at most
        PIPELINE_FOLDERS), each with its messages' bytes: read with one write for all where the
        source can."""
        if getattr(self.run.source, "open_and_fetch_many", None) is None:
            return []
        max_count, max_bytes = self.batch_limits()
        out: list[tuple[FolderWork, int]] = []
        count = total = 0
        for work in works[at : at + PIPELINE_FOLDERS]:
            size = sum(t.message.size for t in work.todo)
            count, total = count + len(work.todo), total + size
            if count > max_count or total > max_bytes:
                break
            out.append((work, size))
        return out

    def fetch_folders(
        self, group: list[tuple[FolderWork, int]], batches: queue.Queue[object]
    ) -> int:
        """Open and read every folder of ``group`` (each one batch) in one write, and hand over
        one batch per folder. Returns how many folders were handled; the caller reads the next
        one on its own (a folder the server refused or whose UIDVALIDITY changed then fails or
        is retried as it would have been, and after a drop nothing of the group was used)."""
        run = self.run
        source = run.source
        assert source is not None
        if self._abort_fetch or not run.wait_running(announce=False):
            return 0
        run.current = group[0][0].plan.source
        held = sum(size for _work, size in group)
        if not self.budget.acquire(held, lambda: run.stopped() or self._abort_fetch):
            return 0
        try:
            read = source.open_and_fetch_many(  # type: ignore[attr-defined]
                [(work.plan.source, [t.message.uid for t in work.todo]) for work, _ in group]
            )
        except TransientError:  # answers half read: a new connection, then folder by folder
            self.budget.release(held)
            run.retried_step("reconnecting", lambda: run.reopen("source"), "source")
            return 0
        except BaseException:
            self.budget.release(held)
            raise
        handled = 0
        bodies: dict[int, bytes] | Exception = {}
        try:
            for (work, size), (status, bodies) in zip(group, read, strict=True):
                if isinstance(status, Exception) or isinstance(bodies, Exception):
                    break
                if self.changed(work, status):
                    break
                run.current = work.plan.source
                held -= size
                if not self.hand_over(work, work.todo, bodies, size, batches):
                    break
                handled += 1
        finally:
            # The bytes of folders not handed over go before the budget says they have.
            read.clear()
            bodies = {}
            self.budget.release(held)
        return handled

    def fetch_folder(self, work: FolderWork, batches: queue.Queue[object]) -> None:
        run = self.run
        run.current = work.plan.source
        # Where the source can, the folder is opened with its first batch's FETCH in the same
        # write (one round trip for both); else here, on its own.
        opened = [getattr(run.source, "open_and_fetch", None) is None]
        if opened[0]:
            run.retried_step(f"opening {work.plan.source}", lambda: self.reexamine(work), "source")
        for group in self.batch_groups(work.todo):
            if self._abort_fetch or not run.wait_running(announce=False):
                return
            reserved = sum(t.message.size for t in group)
            if not self.budget.acquire(reserved, lambda: run.stopped() or self._abort_fetch):
                return
            try:
                bodies, unreadable = self.fetch(work, [t.message.uid for t in group], opened)
            except BaseException:
                self.budget.release(reserved)
                raise
            if not self.hand_over(work, group, bodies, reserved, batches, unreadable):
                return
            del bodies  # not kept while the next batch is read: the budget counts it as given back

    def hand_over(
        self,
        work: FolderWork,
        group: list[Todo],
        bodies: dict[int, bytes],
        reserved: int,
        batches: queue.Queue[object],
        unreadable: dict[int, str] | None = None,
    ) -> bool:
        """Queue the batch of ``group`` for the mailbox thread, which gives back ``reserved``
        once it is sent; False (``reserved`` given back here) when the copy stopped first."""
        run = self.run
        unreadable = unreadable or {}
        items = [(t, bodies[t.message.uid]) for t in group if t.message.uid in bodies]
        failed = [(t, unreadable[t.message.uid]) for t in group if t.message.uid in unreadable]
        for todo in group:
            uid = todo.message.uid
            if uid not in bodies and uid not in unreadable:  # expunged since the listing
                work.total -= 1
                work.total_bytes -= todo.message.size
        bodies.clear()  # from here only the batch holds the bytes, so they go once it is sent
        while True:
            try:
                batches.put(Batch(work, items, reserved, failed), timeout=0.2)
                return True
            except queue.Full:
                if self._abort_fetch or run.stopped():
                    self.budget.release(reserved)
                    return False

    def batch_limits(self) -> tuple[int, int]:
        """Messages and bytes one batch may carry: the copy's limits and the target's."""
        target = self.run.target
        max_count = min(
            self.settings.batch_messages,
            getattr(target, "max_batch_messages", None) or self.settings.batch_messages,
        )
        max_bytes = min(
            self.settings.batch_bytes,
            getattr(target, "max_batch_bytes", None) or self.settings.batch_bytes,
        )
        return max_count, max_bytes

    def batch_groups(self, todo: list[Todo]) -> Iterator[list[Todo]]:
        """Batches within the copy's limits and what one write to the target may carry."""
        max_count, max_bytes = self.batch_limits()
        group: list[Todo] = []
        size = 0
        for item in todo:
            if group and (size + item.message.size > max_bytes or len(group) >= max_count):
                yield group
                group, size = [], 0
            group.append(item)
            size += item.message.size
        if group:
            yield group

    def reexamine(self, work: FolderWork) -> None:
        source = self.run.source
        assert source is not None
        self.same_generation(work, source.examine(work.plan.source))

    @staticmethod
    def changed(work: FolderWork, status: FolderStatus) -> bool:
        """Whether the folder has another UIDVALIDITY than when it was listed: its UIDs then
        name other messages."""
        return status.uidvalidity != work.status.uidvalidity

    @classmethod
    def same_generation(cls, work: FolderWork, status: FolderStatus) -> None:
        if cls.changed(work, status):
            raise CopyError(
                f"folder {work.plan.source!r} changed its UIDVALIDITY during the copy; run the "
                "copy again to re-match it"
            )

    def fetch(
        self, work: FolderWork, uids: list[int], opened: list[bool]
    ) -> tuple[dict[int, bytes], dict[int, str]]:
        """The bytes of ``uids`` (opening the folder first unless ``opened[0]``, then set), and
        those the source could not read, with why. When the source hangs up on the batch twice
        (Dovecot's answer to a message it cannot read) or keeps failing on it, the batch is read
        in halves on new connections to find the messages it fails on: those fail alone, the
        rest is copied. A source that cannot be reached again stops the mailbox."""
        run = self.run
        hung_up = [0]

        def read() -> dict[int, bytes]:
            try:
                return self._read_once(work, uids, opened)
            except ServerHungUp as exc:
                hung_up[0] += 1
                if hung_up[0] >= 2 and len(uids) > 1:
                    raise _ReadInParts(str(exc)) from exc
                raise

        def recover(_why: Retryable) -> None:
            self._reconnect(work, opened)

        try:
            return run.retrying(
                f"reading {work.plan.source}", read, side="source", recover=recover
            ), {}
        except RetryCancelled as exc:
            raise CopyError("cancelled") from exc
        except (TransientError, _ReadInParts) as exc:
            why = str(exc)
        run.log(
            f"{work.plan.source}: the source keeps failing on a batch of {len(uids)} messages "
            f"({why}); reading it in parts to find the messages it cannot read",
            "warning",
            "isolating",
            folder=work.plan.source,
        )
        bodies: dict[int, bytes] = {}
        unreadable: dict[int, str] = {}

        def attempt(part: list[int]) -> str:
            """Read ``part``; on failure a new connection for the next part, and why."""
            if run.stopped():
                raise CopyError("cancelled")
            try:
                bodies.update(self._read_once(work, part, opened))
                return ""
            except TransientError as exc:
                self._reconnect(work, opened, stop=True)
                return str(exc)

        def halves(part: list[int]) -> None:
            middle = len(part) // 2
            for half in (part[:middle], part[middle:]) if len(part) > 1 else (part,):
                failure = attempt(half)
                if failure and len(half) > 1:
                    halves(half)
                elif failure and (failure := attempt(half)):  # alone: once more, then give up
                    unreadable[half[0]] = failure

        self._reconnect(work, opened, stop=True)  # the connection the batch failed on is gone
        halves(uids)
        return bodies, unreadable

    def _read_once(self, work: FolderWork, uids: list[int], opened: list[bool]) -> dict[int, bytes]:
        source = self.run.source
        assert source is not None
        if opened[0]:
            return source.fetch(uids)
        status, bodies = source.open_and_fetch(work.plan.source, uids)  # type: ignore[attr-defined]
        self.same_generation(work, status)  # else the UIDs name other messages: dropped
        opened[0] = True
        return bodies

    def _reconnect(self, work: FolderWork, opened: list[bool], *, stop: bool = False) -> None:
        """A new source connection with the folder open again; with ``stop`` (reading a batch in
        parts) a source that cannot be reached stops the mailbox: its messages are not to blame."""
        try:
            self.run.reopen("source")
            self.reexamine(work)
        except TransientError as exc:
            if not stop:
                raise
            raise CopyError(f"the source kept failing: {exc}") from exc
        opened[0] = True


class _ReadInParts(Exception):
    """The source hung up on a batch twice: read it in parts instead of waiting to try again."""


__all__ = ["Pipeline"]
