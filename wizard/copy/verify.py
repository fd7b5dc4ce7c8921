"""Verification after a copy (steps 10 and 16): does the target hold what the source holds?

Per mailbox and folder: the source's message count against the target folder's, the Message-ID
sets compared (what is missing on the target and what is extra there), and the ledger's failed and
skipped messages. Messages without a Message-ID can only be counted. Several source folders that
land in one target folder are compared together. The result is saved as evidence (kind
"verification") and returned as frozen dataclasses for the step screens and the report.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

from ..activity import event_logger
from ..events import Done, EventSink, Started, ignore
from ..store import Evidence, SessionStore, now_iso
from .engine import MailboxJob
from .errors import CopyError
from .ledger import CopyLedger, MessageRecord, MessageState
from .plan import plan_mailbox

EVIDENCE_KIND = "verification"
MAX_LISTED = 50  # Message-IDs listed per folder; the counts are always complete


@dataclass(frozen=True)
class FolderCheck:
    source_folder: str
    target_folder: str
    source_count: int
    target_count: int
    missing: tuple[str, ...] = ()  # Message-IDs on the source but not on the target
    extra: tuple[str, ...] = ()  # Message-IDs on the target but not on the source
    missing_count: int = 0
    extra_count: int = 0
    without_message_id: int = 0  # source messages that can only be counted
    skipped: int = 0
    failed: int = 0
    shared_with: tuple[str, ...] = ()  # other source folders copied into the same target folder
    excluded: str = ""

    @property
    def expected(self) -> int:
        """What the target should hold from this folder: all but skipped and failed messages."""
        return self.source_count - self.skipped - self.failed

    @property
    def ok(self) -> bool:
        # Messages without a Message-ID are compared as a count ("" in the sets), so a missing
        # count covers them too.
        return bool(self.excluded) or (self.missing_count == 0 and self.failed == 0)


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
        missing = sum(m.missing_count for m in bad)
        failed = sum(m.failed for m in bad)
        errors = sum(1 for m in bad if m.error)
        parts = [f"{len(bad)} of {len(self.mailboxes)} mailboxes need attention"]
        if missing:
            parts.append(f"{missing} messages missing")
        if failed:
            parts.append(f"{failed} failed")
        if errors:
            parts.append(f"{errors} could not be checked")
        return ", ".join(parts)

    def to_data(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "created_at": self.created_at,
            "mailboxes": [asdict(m) for m in self.mailboxes],
        }


def verification_from_data(data: dict[str, Any]) -> Verification:
    """Rebuild a Verification from saved evidence data."""
    mailboxes = []
    for m in data.get("mailboxes", []):
        folders = tuple(
            FolderCheck(
                **{
                    **f,
                    "missing": tuple(f.get("missing", ())),
                    "extra": tuple(f.get("extra", ())),
                    "shared_with": tuple(f.get("shared_with", ())),
                }
            )
            for f in m.get("folders", [])
        )
        mailboxes.append(MailboxCheck(m["mailbox"], folders, m.get("error", "")))
    return Verification(
        str(data.get("step", "")), str(data.get("created_at", "")), tuple(mailboxes)
    )


def latest_verification(store: SessionStore, step: str) -> Verification | None:
    evidence = store.latest_evidence(step, EVIDENCE_KIND)
    return verification_from_data(evidence.data) if evidence else None


def verify_mailbox(job: MailboxJob, ledger: CopyLedger | None = None) -> MailboxCheck:
    """Compare one mailbox's source and target folder by folder (read-only on both)."""
    source = target = None
    try:
        source = job.source()
        target = job.target(ignore)
        plan = plan_mailbox(job.mailbox, source.folders(), target.layout(), job.options)
        problems: dict[str, list[MessageRecord]] = {}
        if ledger is not None:
            for row in ledger.problems(job.mailbox):
                problems.setdefault(row.source_folder, []).append(row)
        listed: dict[str, list[str]] = {}
        for folder in plan.included:
            listed[folder.source] = [m.message_id for m in source.list_messages(folder.source)]
        groups: dict[str, list[str]] = {}
        for folder in plan.included:
            groups.setdefault(folder.target, []).append(folder.source)
        target_ids: dict[str, list[str]] = {}
        for target_folder in groups:
            try:
                target_ids[target_folder] = target.message_ids(target_folder)
            except CopyError:
                raise
            except Exception:  # noqa: BLE001 - a folder that does not exist holds nothing
                target_ids[target_folder] = []
        checks: list[FolderCheck] = []
        for target_folder, sources in groups.items():
            on_source: Counter[str] = Counter()
            for name in sources:
                on_source.update(listed[name])
            on_target = Counter(target_ids[target_folder])
            missing = on_source - on_target
            extra = on_target - on_source
            for name in sources:
                own = Counter(listed[name])
                mine = Counter({k: min(v, own[k]) for k, v in missing.items() if k in own})
                missing -= mine
                # Skipped and failed messages are listed as such, not also as missing.
                known = problems.get(name, [])
                mine -= Counter(r.message_id for r in known)
                counts = Counter(r.state.value for r in known)
                missing_ids = sorted(k for k in mine.elements() if k)
                checks.append(
                    FolderCheck(
                        source_folder=name,
                        target_folder=target_folder,
                        source_count=len(listed[name]),
                        target_count=len(target_ids[target_folder]),
                        missing=tuple(missing_ids[:MAX_LISTED]),
                        extra=tuple(sorted(k for k in extra.elements() if k)[:MAX_LISTED])
                        if name == sources[0]
                        else (),
                        missing_count=sum(mine.values()),
                        extra_count=sum(extra.values()) if name == sources[0] else 0,
                        without_message_id=own.get("", 0),
                        skipped=counts.get(MessageState.SKIPPED.value, 0),
                        failed=counts.get(MessageState.FAILED.value, 0),
                        shared_with=tuple(s for s in sources if s != name),
                    )
                )
        order = {f.source: i for i, f in enumerate(plan.folders)}
        checks.sort(key=lambda c: order.get(c.source_folder, 0))
        checks += [
            FolderCheck(f.source, f.target, 0, 0, excluded=f.excluded) for f in plan.excluded
        ]
        return MailboxCheck(job.mailbox, tuple(checks))
    except Exception as exc:  # noqa: BLE001 - reported per mailbox
        return MailboxCheck(job.mailbox, (), error=str(exc) or type(exc).__name__)
    finally:
        for conn in (source, target):
            if conn is not None:
                with contextlib.suppress(Exception):
                    conn.close()


def verify(
    store: SessionStore,
    jobs: Sequence[MailboxJob],
    *,
    step: str,
    concurrency: int = 4,
    sink: EventSink = ignore,
    save: bool = True,
) -> Verification:
    """Verify every mailbox and save the result as evidence of ``step`` ("10" or "16")."""
    ledger = CopyLedger(store)
    sink = event_logger(store, "verify", inner=sink)

    def one(job: MailboxJob) -> MailboxCheck:
        sink(Started(subject=job.mailbox, detail="verifying"))
        check = verify_mailbox(job, ledger)
        sink(Done(subject=job.mailbox, ok=check.ok, summary=_mailbox_summary(check), result=check))
        return check

    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="verify") as pool:
        checks = tuple(pool.map(one, jobs))
    result = Verification(step=step, created_at=now_iso(), mailboxes=checks)
    if save:
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
    if check.missing_count:
        text += f", {check.missing_count} missing"
    if check.failed or check.skipped:
        text += f", {check.failed} failed, {check.skipped} skipped"
    return text


__all__ = [
    "EVIDENCE_KIND",
    "FolderCheck",
    "MailboxCheck",
    "Verification",
    "latest_verification",
    "save_verification",
    "verification_from_data",
    "verify",
    "verify_mailbox",
]
