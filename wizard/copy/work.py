"""What one mailbox run has to do, folder by folder, and the ledger rows it writes for it.

``FolderWork`` is one included source folder in this run: its plan, its status, the messages
still to send (``Todo``) and its counters. ``Batch`` is what the fetch thread hands to the
upload side. ``message_record`` builds the ledger row of one source message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .events import FolderProgress
from .folder_map import FolderPlan
from .ledger import MessageRecord, MessageState
from .source import FolderStatus, SourceMessage


@dataclass
class Todo:
    message: SourceMessage
    lookup: bool = False  # an earlier attempt may have landed: look on the target first
    attempts: int = 0


@dataclass
class FolderWork:
    plan: FolderPlan
    status: FolderStatus
    todo: list[Todo] = field(default_factory=list)
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
    # Source UID -> (ledger row, message) of what the ledger calls copied (for reconciliation).
    confirmed: dict[int, tuple[MessageRecord, SourceMessage]] = field(default_factory=dict)

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

    def count_already(self, message: SourceMessage) -> None:
        """A message that needs no sending in this run (copied before, or found on the target)."""
        self.done += 1
        self.done_bytes += message.size
        self.already += 1


@dataclass
class Batch:
    work: FolderWork
    items: list[tuple[Todo, bytes]]
    reserved: int
    # Messages of the batch the source could not read (it failed on each alone), with why.
    unreadable: list[tuple[Todo, str]] = field(default_factory=list)


def message_record(
    mailbox: str,
    work: FolderWork,
    msg: SourceMessage,
    state: MessageState,
    reason: str = "",
    *,
    target_id: str = "",
    sha256: str = "",
    attempts: int = 0,
) -> MessageRecord:
    """The ledger row of one source message of ``work``'s folder."""
    return MessageRecord(
        mailbox=mailbox,
        source_folder=work.plan.source,
        uidvalidity=work.status.uidvalidity,
        uid=msg.uid,
        state=state,
        target_folder=work.plan.target,
        target_id=target_id,
        message_id=msg.message_id,
        size=msg.size,
        sha256=sha256,
        internaldate=iso(msg.internaldate),
        flags=msg.flags,
        reason=reason,
        attempts=attempts,
    )


def iso(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""


__all__ = ["Batch", "FolderWork", "Todo", "iso", "message_record"]
