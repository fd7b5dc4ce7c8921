"""The folder plan of mailboxes before a copy (step 9), read-only on both sides.

``preview_plans(jobs)`` lists each source's folders and reads each target's special folders, then
plans every mailbox as the copy will (``plan_mailbox``): where each folder goes and why. Nothing
is created or changed anywhere; a mailbox that cannot be reached carries its error instead.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ..events import ignore
from .folder_map import MailboxPlan, plan_mailbox
from .job import MailboxJob
from .source import CopySource
from .target import CopyTarget


@dataclass(frozen=True)
class PlanPreview:
    mailbox: str
    plan: MailboxPlan | None = None
    error: str = ""


@contextlib.contextmanager
def both_sides(job: MailboxJob) -> Iterator[tuple[CopySource, CopyTarget]]:
    """One connection to each side of ``job`` for a look that writes nothing; both closed."""
    source = job.source()
    target: CopyTarget | None = None
    try:
        target = job.target(ignore)
        yield source, target
    finally:
        for conn in (source, target):
            if conn is not None:
                with contextlib.suppress(Exception):
                    conn.close()


def preview_plan(job: MailboxJob) -> PlanPreview:
    """One mailbox's folder plan (LIST on the source, the target's layout; no writes)."""
    try:
        with both_sides(job) as (source, target):
            plan = plan_mailbox(job.mailbox, source.folders(), target.layout(), job.options)
        return PlanPreview(job.mailbox, plan)
    except Exception as exc:  # noqa: BLE001 - reported per mailbox
        return PlanPreview(job.mailbox, error=str(exc) or type(exc).__name__)


def preview_plans(jobs: Sequence[MailboxJob], concurrency: int = 4) -> list[PlanPreview]:
    """Every mailbox's folder plan, in the order of ``jobs``."""
    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="plan") as pool:
        return list(pool.map(preview_plan, jobs))


__all__ = ["PlanPreview", "both_sides", "preview_plan", "preview_plans"]
