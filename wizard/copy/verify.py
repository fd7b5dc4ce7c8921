"""Verification after a copy (steps 10 and 16): does the target hold what the source holds?

Read-only on both sides: folders are opened with EXAMINE (IMAP) or looked up without creating
anything (Exchange), and only body-less listings are read, plus the date, sender and subject of
the messages a check lists (message_summary.py), so the operator can find them in their mail.
Per mailbox and folder: the source's message count against the target folder's, and the messages
matched by the identity that reconciliation uses too (identity.py: Message-ID or a header hash,
plus size) as multisets, so what is missing on the target, what is extra there and what is there
more often than on the source are all found. Any of those, a missing target folder or a failed
message is a failure. The ledger's skipped and failed messages are listed as such, not as
missing; missing messages the ledger has no row for are counted apart (``not_copied_count``):
mail newer than the copy, which a copy run picks up. Several source folders that land in one
target folder are compared together. The result is saved as evidence (kind "verification") and
returned as frozen dataclasses for the step screens and the report.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

from ..activity import event_logger
from ..events import Done, EventSink, Started, ignore
from ..formatting import plural
from ..retry import RetryPolicy, retry_call
from ..store import Evidence, SessionStore, now_iso
from .errors import TransientError, copy_retryable
from .folder_map import MailboxPlan, plan_mailbox
from .identity import MessageIdentity, match_identities
from .job import MailboxJob
from .ledger import CopyLedger, MessageRecord, MessageState
from .message_summary import MessageSummary, summary_from_data
from .preview import both_sides
from .source import CopySource
from .target import CopyTarget

EVIDENCE_KIND = "verification"
MAX_LISTED = 50  # messages listed per folder and kind; the counts are always complete


@dataclass(frozen=True)
class FolderCheck:
    source_folder: str
    target_folder: str
    source_count: int
    target_count: int
    missing: tuple[str, ...] = ()  # on the source but not on the target (Message-ID or label)
    extra: tuple[str, ...] = ()  # on the target, matching nothing on the source
    missing_count: int = 0
    extra_count: int = 0
    without_message_id: int = 0  # source messages known by their header hash instead
    skipped: int = 0
    failed: int = 0
    shared_with: tuple[str, ...] = ()  # other source folders copied into the same target folder
    excluded: str = ""
    duplicated: tuple[str, ...] = ()  # on the target more often than on the source
    duplicated_count: int = 0
    target_exists: bool = True
    # The listed messages by date, sender and subject, in the order of the labels above.
    missing_messages: tuple[MessageSummary, ...] = ()
    extra_messages: tuple[MessageSummary, ...] = ()
    duplicated_messages: tuple[MessageSummary, ...] = ()
    not_copied_count: int = 0  # missing ones the copy never wrote: mail newer than the copy

    @property
    def expected(self) -> int:
        """What the target should hold from this folder: all but skipped and failed messages."""
        return self.source_count - self.skipped - self.failed

    @property
    def ok(self) -> bool:
        if self.excluded:
            return True
        return self.target_exists and not (
            self.missing_count or self.extra_count or self.duplicated_count or self.failed
        )


@dataclass(frozen=True)
class MailboxCheck:
    mailbox: str
    folders: tuple[FolderCheck, ...] = ()
    error: str = ""

    @property
    def source_count(self) -> int:
        return sum(f.source_count for f in self.folders if not f.excluded)

    @property
    def target_count(self) -> int:
        seen: set[str] = set()
        total = 0
        for f in self.folders:
            if f.excluded or f.target_folder in seen:
                continue
            seen.add(f.target_folder)
            total += f.target_count
        return total

    @property
    def missing_count(self) -> int:
        return sum(f.missing_count for f in self.folders)

    @property
    def extra_count(self) -> int:
        return sum(f.extra_count for f in self.folders)

    @property
    def duplicated_count(self) -> int:
        return sum(f.duplicated_count for f in self.folders)

    @property
    def not_copied_count(self) -> int:
        """Missing messages the ledger has no row for: they arrived after the copy."""
        return sum(f.not_copied_count for f in self.folders)

    @property
    def missing_folders(self) -> tuple[str, ...]:
        """Target folders that do not exist although a source folder goes there."""
        names = (f.target_folder for f in self.folders if not f.excluded and not f.target_exists)
        return tuple(dict.fromkeys(names))

    @property
    def failed(self) -> int:
        return sum(f.failed for f in self.folders)

    @property
    def skipped(self) -> int:
        return sum(f.skipped for f in self.folders)

    @property
    def ok(self) -> bool:
        return not self.error and all(f.ok for f in self.folders)


@dataclass(frozen=True)
class Verification:
    step: str
    created_at: str
    mailboxes: tuple[MailboxCheck, ...]

    @property
    def ok(self) -> bool:
        return all(m.ok for m in self.mailboxes)

    def summary(self) -> str:
        bad = [m for m in self.mailboxes if not m.ok]
        if not bad:
            return f"{len(self.mailboxes)} mailboxes verified: every message is on the target"
        counts = (
            (sum(m.missing_count for m in bad), "message", "missing"),
            (sum(m.extra_count for m in bad), "extra message", "on the target"),
            (sum(m.duplicated_count for m in bad), "", "duplicated on the target"),
            (sum(len(m.missing_folders) for m in bad), "folder", "missing on the target"),
            (sum(m.failed for m in bad), "", "failed"),
            (sum(1 for m in bad if m.error), "", "could not be checked"),
        )
        needs = "needs" if len(bad) == 1 and len(self.mailboxes) == 1 else "need"
        parts = [f"{len(bad)} of {plural(len(self.mailboxes), 'mailbox')} {needs} attention"]
        parts += [f"{plural(n, noun) if noun else n} {what}" for n, noun, what in counts if n]
        return ", ".join(parts)

    def to_data(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "created_at": self.created_at,
            "mailboxes": [asdict(m) for m in self.mailboxes],
        }


def verification_from_data(data: dict[str, Any]) -> Verification:
    """Rebuild a Verification from saved evidence data (older evidence lacks newer fields)."""
    lists = ("missing", "extra", "duplicated", "shared_with")
    summaries = ("missing_messages", "extra_messages", "duplicated_messages")
    mailboxes = []
    for m in data.get("mailboxes", []):
        folders = tuple(
            FolderCheck(
                **{
                    **f,
                    **{k: tuple(f.get(k, ())) for k in lists},
                    **{k: tuple(map(summary_from_data, f.get(k, ()))) for k in summaries},
                }
            )
            for f in m.get("folders", [])
        )
        mailboxes.append(MailboxCheck(m["mailbox"], folders, m.get("error", "")))
    return Verification(
        str(data.get("step", "")), str(data.get("created_at", "")), tuple(mailboxes)
    )


def listed_messages(
    labels: Sequence[str], summaries: Sequence[MessageSummary]
) -> tuple[MessageSummary, ...]:
    """A folder's listed messages by date, sender and subject; evidence saved before summaries
    were read has the labels alone."""
    return tuple(summaries) if summaries else tuple(MessageSummary(label) for label in labels)


def latest_verification(store: SessionStore, step: str) -> Verification | None:
    evidence = store.latest_evidence(step, EVIDENCE_KIND)
    return verification_from_data(evidence.data) if evidence else None


def verify_mailbox(
    job: MailboxJob, ledger: CopyLedger | None = None, policy: RetryPolicy | None = None
) -> MailboxCheck:
    """Compare one mailbox's source and target folder by folder (read-only on both). A busy or
    dropped server is waited for under the one retry policy, each try on new connections."""

    ahead = [True]  # list the source's folders ahead (see _compare) until that fails once

    def look() -> MailboxCheck:
        with both_sides(job) as (source, target):
            plan = plan_mailbox(job.mailbox, source.folders(), target.layout(), job.options)
            problems: dict[str, list[MessageRecord]] = {}
            for row in ledger.problems(job.mailbox) if ledger is not None else ():
                problems.setdefault(row.source_folder, []).append(row)

            def recorded(folder: str, uidvalidity: int) -> set[int]:
                if ledger is None:
                    return set()  # an ad-hoc check without a ledger: nothing was recorded
                return set(ledger.by_uid(job.mailbox, folder, uidvalidity))

            checks = _compare(plan, source, target, problems, recorded, ahead)
            return MailboxCheck(job.mailbox, checks)

    try:
        return retry_call(
            look,
            what=f"verifying {job.mailbox}",
            policy=policy or RetryPolicy(),
            retryable=copy_retryable,
        )
    except Exception as exc:  # noqa: BLE001 - reported per mailbox
        return MailboxCheck(job.mailbox, (), error=str(exc) or type(exc).__name__)


def _compare(
    plan: MailboxPlan,
    source: CopySource,
    target: CopyTarget,
    problems: dict[str, list[MessageRecord]],
    recorded: Callable[[str, int], set[int]],
    ahead: list[bool],
) -> tuple[FolderCheck, ...]:
    listed: dict[str, list[MessageIdentity]] = {}
    written: dict[str, set[int]] = {}  # UIDs the ledger has a row for in this UIDVALIDITY
    known: dict[str, set[int]] = {}  # UIDs the ledger skipped or failed in this UIDVALIDITY
    left: dict[str, set[int]] = {}  # UIDs the copy leaves on the source (too large, \Deleted)
    # Listed with commands sent ahead where the source can (see ImapSource.list_ahead); a
    # folder it leaves out is listed here on its own. If that fails (dropped, or a server that
    # mishandles commands sent ahead), the next try lists every folder on its own.
    list_ahead = getattr(source, "list_ahead", None) if ahead[0] else None
    try:
        read = list_ahead([(f.source, True) for f in plan.included]) if list_ahead else {}
    except TransientError:
        ahead[0] = False
        raise
    for folder in plan.included:
        if folder.source in read:
            status, messages = read.pop(folder.source)
        else:
            status = source.examine(folder.source)
            messages = source.list_messages(folder.source)
        listed[folder.source] = [m.identity for m in messages]
        left[folder.source] = {m.uid for m in messages if plan.skip_reason(m.size, m.flags)}
        known[folder.source] = left[folder.source] | {
            r.uid for r in problems.get(folder.source, ()) if r.uidvalidity == status.uidvalidity
        }
        written[folder.source] = recorded(folder.source, status.uidvalidity)
    groups: dict[str, list[str]] = {}
    for folder in plan.included:
        groups.setdefault(folder.target, []).append(folder.source)
    checks: list[FolderCheck] = []
    for target_folder, sources in groups.items():
        on_target = target.identities(target_folder)
        owner = {id(m): name for name in sources for m in listed[name]}
        combined = [m for name in sources for m in listed[name]]
        match = match_identities(combined, on_target or (), target.identity_rule)
        missing: dict[str, list[MessageIdentity]] = {name: [] for name in sources}
        for m in match.missing:
            name = owner[id(m)]
            if int(m.ref) not in known[name]:
                missing[name].append(m)  # skipped and failed messages are listed as such
        extra = _listed(match.extra)
        duplicated = _listed(match.duplicated)
        extra_seen = target.summaries(target_folder, extra + duplicated) if on_target else []
        for name in sources:
            first = name == sources[0]  # extra and duplicated belong to the target folder
            rows = problems.get(name, ())
            gone = _listed(missing[name])
            missing_seen = source.summaries(name, gone)
            states = Counter(r.state for r in rows if r.uid not in left[name])
            checks.append(
                FolderCheck(
                    source_folder=name,
                    target_folder=target_folder,
                    source_count=len(listed[name]),
                    target_count=len(on_target or ()),
                    missing=_labels(gone),
                    extra=_labels(extra) if first else (),
                    missing_count=len(missing[name]),
                    extra_count=len(match.extra) if first else 0,
                    without_message_id=sum(1 for m in listed[name] if not m.message_id),
                    skipped=states.get(MessageState.SKIPPED, 0) + len(left[name]),
                    failed=states.get(MessageState.FAILED, 0),
                    shared_with=tuple(s for s in sources if s != name),
                    duplicated=_labels(duplicated) if first else (),
                    duplicated_count=len(match.duplicated) if first else 0,
                    target_exists=on_target is not None,
                    missing_messages=tuple(missing_seen),
                    extra_messages=tuple(extra_seen[: len(extra)]) if first else (),
                    duplicated_messages=tuple(extra_seen[len(extra) :]) if first else (),
                    not_copied_count=sum(
                        1 for m in missing[name] if int(m.ref) not in written[name]
                    ),
                )
            )
    order = {f.source: i for i, f in enumerate(plan.folders)}
    checks.sort(key=lambda c: order.get(c.source_folder, 0))
    checks += [FolderCheck(f.source, f.target, 0, 0, excluded=f.excluded) for f in plan.excluded]
    return tuple(checks)


def _listed(messages: Sequence[MessageIdentity]) -> list[MessageIdentity]:
    """The messages a check lists by name: the first ``MAX_LISTED`` by label."""
    return sorted(messages, key=lambda m: m.label)[:MAX_LISTED]


def _labels(messages: Sequence[MessageIdentity]) -> tuple[str, ...]:
    return tuple(m.label for m in messages)


def verify(
    store: SessionStore | None,
    jobs: Sequence[MailboxJob],
    *,
    step: str,
    concurrency: int = 4,
    sink: EventSink = ignore,
    save: bool = True,
) -> Verification:
    """Verify every mailbox and save the result as evidence of ``step`` (the initial or the final verification). Without
    a store (an ad-hoc check with no ledger yet) nothing is known as skipped and nothing saved."""
    ledger = CopyLedger(store) if store is not None else None
    if store is not None:
        sink = event_logger(store, "verify", inner=sink)

    def one(job: MailboxJob) -> MailboxCheck:
        sink(Started(subject=job.mailbox, detail="verifying"))
        check = verify_mailbox(job, ledger)
        sink(Done(subject=job.mailbox, ok=check.ok, summary=_mailbox_summary(check), result=check))
        return check

    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="verify") as pool:
        checks = tuple(pool.map(one, jobs))
    result = Verification(step=step, created_at=now_iso(), mailboxes=checks)
    if save and store is not None:
        save_verification(store, result)
    return result


def save_verification(store: SessionStore, result: Verification) -> Evidence:
    return store.add_evidence(
        result.step, EVIDENCE_KIND, result.summary(), result.to_data(), ok=result.ok
    )


def _mailbox_summary(check: MailboxCheck) -> str:
    if check.error:
        return f"could not be checked: {check.error}"
    text = f"{check.source_count} on the source, {check.target_count} on the target"
    for count, what in (
        (check.missing_count, "missing"),
        (check.extra_count, "extra"),
        (check.duplicated_count, "duplicated"),
    ):
        if count:
            text += f", {count} {what}"
    if check.missing_folders:
        text += f", {plural(len(check.missing_folders), 'folder')} missing"
    if check.failed or check.skipped:
        text += f", {check.failed} failed, {check.skipped} skipped"
    return text


__all__ = [
    "EVIDENCE_KIND",
    "FolderCheck",
    "MailboxCheck",
    "Verification",
    "latest_verification",
    "listed_messages",
    "save_verification",
    "verification_from_data",
    "verify",
    "verify_mailbox",
]
