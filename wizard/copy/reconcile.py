"""Reconciliation: before writing a folder, see what the target folder already holds.

The ledger alone cannot know a target that another tool filled, a new ledger (another laptop, a
moved session) or a target folder that was deleted and made again. So a folder is reconciled when
the ledger has no confirmed row for it, when the target folder's identity changed since the last
run (IMAP UIDVALIDITY, EWS folder id, the folder missing) and on ``--reconcile``: its messages
are listed in bulk without bodies (``CopyTarget.identities``), matched with the source's as a
multiset by the shared identity (identity.py), and

- a source message still to send that the target holds is recorded as copied with the reason
  ``FOUND_ON_TARGET`` (found, not sent) and not sent;
- a message the ledger calls copied that the target no longer holds is sent again.

Target messages the ledger already gives to other source folders are left out of the match, and so
are, on Exchange, messages without a Message-ID whose received time the target does not hold as
often as the source (which of them landed cannot be told): for those the ledger decides. The
target folder's identity is remembered per mailbox and target folder (``TargetMarks``) after each
run, so an unchanged folder costs one EXAMINE (one folder look-up on EWS), not a listing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..store import SessionStore, now_iso
from .identity import IdentityRule, MessageIdentity, identity_key, match_identities
from .ledger import CopyLedger, MessageRecord, MessageState
from .source import CopySource, SourceMessage, with_identity
from .target import CopyTarget
from .work import FolderWork, Todo, message_record

if TYPE_CHECKING:
    from .mailbox_run import MailboxRun

FOUND_ON_TARGET = "found on the target, not sent"

_TABLE = (
    "CREATE TABLE IF NOT EXISTS copy_target_marks (mailbox TEXT NOT NULL COLLATE NOCASE, "
    "target_folder TEXT NOT NULL, identity TEXT NOT NULL, updated_at TEXT NOT NULL, "
    "PRIMARY KEY (mailbox, target_folder))"
)


class TargetMarks:
    """The identity each target folder had at the end of the last run (made on first use; it
    only saves work, so a file without it is reconciled once)."""

    def __init__(self, store: SessionStore) -> None:
        self.store = store
        with store.transaction() as tx:
            tx.execute(_TABLE)

    def get(self, mailbox: str, target_folder: str) -> str | None:
        rows = self.store.query(
            "SELECT identity FROM copy_target_marks WHERE mailbox = ? AND target_folder = ?",
            (mailbox, target_folder),
        )
        return str(rows[0]["identity"]) if rows else None

    def set(self, mailbox: str, marks: dict[str, str]) -> None:
        """Remember these target folders' identities (folder -> identity), in one transaction."""
        if not marks:
            return
        stamp = now_iso()
        with self.store.transaction() as tx:
            tx.executemany(
                "INSERT OR REPLACE INTO copy_target_marks (mailbox, target_folder, identity, "
                "updated_at) VALUES (?, ?, ?, ?)",
                [(mailbox, folder, identity, stamp) for folder, identity in marks.items()],
            )


@dataclass(frozen=True)
class Reconciled:
    """What one folder's reconciliation found."""

    target_count: int  # messages the target folder held
    found: int  # still to send, found on the target: recorded, not sent
    resend: int  # recorded as copied, gone from the target: sent again

    def describe(self, folder: str, target_folder: str) -> str:
        return (
            f"{folder}: reconciled with {target_folder!r} ({self.target_count} there): "
            f"{self.found} found on the target, not sent; {self.resend} gone from it, sent again"
        )


def needs_reconciling(
    *, forced: bool, confirmed: bool, anything_to_send: bool, mark: str | None, now: str | None
) -> bool:
    """Whether the ledger alone can be trusted for this folder."""
    if forced:
        return now is not None or confirmed
    if not confirmed:
        return anything_to_send and now is not None  # a missing folder holds nothing
    return mark != now


def reconcile_folder(
    target: CopyTarget,
    ledger: CopyLedger,
    mailbox: str,
    work: FolderWork,
    copied: dict[int, tuple[MessageRecord, SourceMessage]],
    folder_identity: str | None,
    listed: list[MessageIdentity] | None,
    *,
    replaced: bool = False,
) -> Reconciled:
    """Match ``work``'s messages (its to-do list and ``copied``: uid -> (row, message) of those
    the ledger calls copied) with ``listed``, the target folder's messages (None: it does not
    exist); updates ``work`` and the ledger.
    ``replaced``: the folder the ledger wrote to is gone, so nothing it holds came from there."""
    if not listed and not copied and not any(t.lookup for t in work.todo):
        return Reconciled(0, 0, 0)  # nothing on the target to find, nothing the ledger claims
    on_target = list(listed or ())
    others = _claimed_elsewhere(ledger, mailbox, work)
    if others:
        on_target = [
            t for t in on_target if _target_id(target, folder_identity, t.ref) not in others
        ]
    rule = target.identity_rule
    everything = [m.identity for _r, m in copied.values()] + [t.message.identity for t in work.todo]
    trusted = _trusted(everything, on_target, rule)
    on_target = [t for t in on_target if trusted(t)]
    todo = {t.message.uid: t for t in work.todo if trusted(t.message.identity)}
    kept = [t for t in work.todo if t.message.uid not in todo]  # left to the ledger's look-ups
    # What the ledger calls copied claims its copies first, so nothing is sent again needlessly.
    source = [m.identity for _r, m in copied.values() if trusted(m.identity)]
    source += [t.message.identity for t in todo.values()]
    match = match_identities(source, on_target, rule)
    records: list[MessageRecord] = []
    found = 0
    for src, tgt in match.matched:
        uid = int(src.ref)
        target_id = _target_id(target, folder_identity, tgt.ref)
        if uid in todo:
            item = todo.pop(uid)
            records.append(
                message_record(
                    mailbox,
                    work,
                    item.message,
                    MessageState.COPIED,
                    FOUND_ON_TARGET,
                    target_id=target_id,
                    attempts=item.attempts,
                )
            )
            work.count_already(item.message)
            found += 1
        elif copied[uid][0].target_id != target_id:  # the same message, under a new id
            row, msg = copied[uid]
            records.append(
                message_record(
                    mailbox,
                    work,
                    msg,
                    MessageState.COPIED,
                    row.reason,
                    target_id=target_id,
                    sha256=row.sha256,
                    attempts=row.attempts,
                )
            )
    resend: list[Todo] = []
    gone = [m.identity for _r, m in copied.values() if replaced and not trusted(m.identity)]
    for src in [*match.missing, *gone]:
        uid = int(src.ref)
        if uid in copied:
            row, msg = copied[uid]
            resend.append(Todo(msg, attempts=row.attempts))
            work.done -= 1
            work.done_bytes -= msg.size
            work.already -= 1
    ledger.record(records)
    # The whole folder was looked at: nothing left to look up one by one.
    work.todo = [Todo(t.message, attempts=t.attempts) for t in todo.values()] + resend + kept
    work.todo.sort(key=lambda t: t.message.uid)
    return Reconciled(len(listed or ()), found, len(resend))


def reconcile_works(run: MailboxRun) -> None:
    """Reconcile every folder of a mailbox run whose target the ledger cannot vouch for."""
    marks = TargetMarks(run.ledger.store)
    for work in run.works:
        if run.stopped():
            return
        target_folder = work.plan.target
        now = run.retried_step(
            f"looking at {target_folder}",
            lambda f=target_folder: run.target.folder_identity(f),  # type: ignore[union-attr,misc]
            "target",
        )
        mark = marks.get(run.mailbox, target_folder)
        if not needs_reconciling(
            forced=run.settings.reconcile,
            confirmed=bool(work.confirmed),
            anything_to_send=bool(work.todo),
            mark=mark,
            now=now,
        ):
            continue
        run.current = work.plan.source
        listed = (
            run.retried_step(
                f"reconciling with {target_folder}",
                lambda f=target_folder: run.target.identities(f),  # type: ignore[union-attr,misc]
                "target",
            )
            if now is not None
            else None
        )
        if listed and any(not t.message.identified for t in work.todo):
            run.retried_step(
                f"reading the headers of {work.plan.source}",
                lambda w=work: identify_todo(run.source, w),  # type: ignore[arg-type,misc]
                "source",
            )
        found = reconcile_folder(
            run.target,  # type: ignore[arg-type]
            run.ledger,
            run.mailbox,
            work,
            work.confirmed,
            now,
            listed,
            replaced=mark is not None and mark != now,
        )
        run.log(
            found.describe(work.plan.source, target_folder),
            event="reconcile",
            folder=work.plan.source,
            found=found.found,
            resend=found.resend,
        )
        run.emit()


def identify_todo(source: CopySource, work: FolderWork) -> None:
    """Read the headers of the messages to do that were listed without them, so they can be
    matched with the target's (one still missing from the answer was expunged meanwhile)."""
    pending = [t for t in work.todo if not t.message.identified]
    found = source.identify(work.plan.source, [t.message.uid for t in pending])
    for todo in pending:
        if todo.message.uid in found:
            todo.message = with_identity(todo.message, *found[todo.message.uid])


def remember_target_folders(run: MailboxRun) -> None:
    """Which target folders the ledger now describes, so the next run can trust it."""
    marks = TargetMarks(run.ledger.store)
    try:
        changed: dict[str, str] = {}
        for target_folder in dict.fromkeys(w.plan.target for w in run.works):
            now = run.target.folder_identity(target_folder)  # type: ignore[union-attr]
            if now is not None and marks.get(run.mailbox, target_folder) != now:
                changed[target_folder] = now
        marks.set(run.mailbox, changed)
    except Exception as exc:  # noqa: BLE001 - the next run reconciles once more, that is all
        run.log(f"could not note the target folders' identity ({exc})", "warning")


def _trusted(
    source: list[MessageIdentity], target: list[MessageIdentity], rule: IdentityRule
) -> Callable[[MessageIdentity], bool]:
    """Which identities tell messages apart well enough to match. On EWS a message without a
    Message-ID is known only by its received time, which twins and a whole import share: such
    a group is matched only when the target holds at least as many as the source has (it is
    all there); otherwise which of them landed cannot be told, and the ledger decides."""
    if rule.fallback == "headers":
        return lambda _identity: True
    wanted = Counter(identity_key(m, rule) for m in source if not m.message_id)
    held = Counter(identity_key(m, rule) for m in target if not m.message_id)
    whole = {key for key, count in wanted.items() if held[key] >= count}
    return lambda m: bool(m.message_id) or identity_key(m, rule) in whole


def _target_id(target: CopyTarget, folder_identity: str | None, ref: str) -> str:
    """The ledger's target id of a listed message (IMAP: "UIDVALIDITY:UID", EWS: the item id)."""
    return f"{folder_identity}:{ref}" if target.kind == "imap" else ref


def _claimed_elsewhere(ledger: CopyLedger, mailbox: str, work: FolderWork) -> set[str]:
    """Target ids that copied rows of other source folders hold in the same target folder."""
    rows = ledger.store.query(
        "SELECT target_id FROM copy_messages WHERE mailbox = ? AND target_folder = ? AND "
        "source_folder != ? AND state = ? AND target_id != ''",
        (mailbox, work.plan.target, work.plan.source, MessageState.COPIED.value),
    )
    return {str(r["target_id"]) for r in rows}


__all__ = [
    "FOUND_ON_TARGET",
    "Reconciled",
    "TargetMarks",
    "identify_todo",
    "needs_reconciling",
    "reconcile_folder",
    "reconcile_works",
    "remember_target_folders",
]
