"""What a copy run returns: per folder, per mailbox and for the whole run (plain data)."""

from __future__ import annotations

from dataclasses import dataclass

from .events import MailboxState
from .folder_map import MailboxPlan


@dataclass(frozen=True)
class FolderResult:
    folder: str
    target: str
    source_count: int
    copied: int  # in this run
    already: int  # copied in an earlier run (or found on the target)
    skipped: int
    failed: int
    bytes_copied: int
    excluded: str = ""
    error: str = ""  # the source could not open the folder: none of its messages was copied


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
    flag_changes: int = 0  # copied messages whose flags changed on the source (differential)
    flags_applied: int = 0  # of those, set on the target
    seconds: float = 0.0
    error: str = ""
    unreachable: bool = False  # a server could not be reached or refused the login
    folders: tuple[FolderResult, ...] = ()
    plan: MailboxPlan | None = None
    held_by: str = ""  # another copy holds this mailbox (who, where, since when)

    @property
    def ok(self) -> bool:
        return (
            self.state is MailboxState.DONE
            and self.failed == 0
            and not any(f.error for f in self.folders)
        )


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


__all__ = ["CopyResult", "FolderResult", "MailboxResult"]
