"""What a copy is asked to do: the mailbox pairs (``MailboxJob``) and how (``CopySettings``).

A job's factories open a new logged-in connection each call; the target factory is called with
the engine's event sink, so a target's own events (Exchange's) reach the activity log.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..retry import RetryPolicy
from .folder_map import PlanOptions
from .ledger import RunMode
from .source import CopySource
from .target import TargetFactory

MiB = 1024 * 1024


@dataclass(frozen=True)
class MailboxJob:
    """One mailbox pair to copy."""

    mailbox: str  # the ledger's key: the target address
    source: Callable[[], CopySource]
    target: TargetFactory
    options: PlanOptions = field(default_factory=PlanOptions)
    label: str = ""  # how the operator knows the source (its login)


@dataclass(frozen=True)
class CopySettings:
    mode: RunMode = RunMode.INITIAL
    concurrency: int = 4  # mailboxes at once
    # One APPEND (one target transaction, one commit) per batch: bigger batches commit less
    # often (bench/copy.py's mixed corpus copies 5-10% faster than with 4 MiB and 64); the
    # budget holds about six of them over all mailboxes.
    batch_bytes: int = 8 * MiB
    batch_messages: int = 256
    memory_budget: int = 48 * MiB  # message bytes held at once, over all mailboxes
    retries: int = 6
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    throttle_wait: float = 900.0  # seconds one operation may wait for a throttling server
    progress_interval: float = 0.25
    sample_interval: float = 2.0
    dry_run: bool = False
    only_failed: bool = False
    max_failed_batches: int = 3  # batches in a row that exhaust their retries stop the mailbox
    reconcile: bool = False  # index every target folder before writing to it, whatever the ledger

    def retry_policy(self) -> RetryPolicy:
        """The one retry policy (wizard.retry) with this copy's numbers."""
        return RetryPolicy(
            attempts=self.retries,
            initial=self.backoff_initial,
            ceiling=self.backoff_max,
            max_wait=self.throttle_wait,
        )


__all__ = ["CopySettings", "MailboxJob", "MiB"]
