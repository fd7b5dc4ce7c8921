"""The folders of an Exchange mailbox as data: references, what step 4's check lists, roles.

``FolderRef`` names a folder by path and EWS id; ``FolderInfo`` and ``MailboxCheck`` are what
``ExchangeMailbox.check`` reports. Special-use roles map to the mailbox's own folders.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import ExchangeFailure

# Special-use roles (wizard.imap.folders.Role values) and the mailbox's own folders for them.
ROLE_FOLDERS: dict[str, str] = {
    "inbox": "inbox",
    "sent": "sentitems",
    "drafts": "drafts",
    "trash": "deleteditems",
    "junk": "junkemail",
}
ARCHIVE_ROLE = "archive"
ARCHIVE_FOLDER_NAME = "Archive"  # Exchange 2016+ creates it; EWS has no distinguished id for it


@dataclass(frozen=True)
class FolderRef:
    """A folder of the mailbox: its path from the top of the store and its EWS id."""

    path: tuple[str, ...]
    folder_id: str
    role: str = ""  # a special-use role when it is the mailbox's own folder for it

    @property
    def display(self) -> str:
        return "/".join(self.path)


@dataclass(frozen=True)
class FolderInfo:
    path: tuple[str, ...]
    role: str
    total: int
    unread: int
    folder_class: str = ""
    size_bytes: int | None = None  # PR_MESSAGE_SIZE_EXTENDED, where the server gives it

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": "/".join(self.path),
            "role": self.role,
            "total": self.total,
            "unread": self.unread,
            "folder_class": self.folder_class,
            "size_bytes": self.size_bytes,
        }


@dataclass(frozen=True)
class MailboxCheck:
    """What step 4 learns of one target mailbox."""

    mailbox: str
    state: str  # "exists" | "missing" | "error"
    folders: tuple[FolderInfo, ...] = ()
    size_bytes: int | None = None  # where EWS exposes it (PR_MESSAGE_SIZE_EXTENDED of folders)
    quota_bytes: int | None = None  # where EWS exposes it (PR_PROHIBIT_SEND_QUOTA)
    failure: ExchangeFailure | None = None

    @property
    def exists(self) -> bool:
        return self.state == "exists"

    @property
    def message_count(self) -> int:
        return sum(f.total for f in self.folders)

    def as_dict(self) -> dict[str, Any]:
        return {
            "mailbox": self.mailbox,
            "state": self.state,
            "exists": self.exists,
            "folders": [f.as_dict() for f in self.folders],
            "folder_count": len(self.folders),
            "message_count": self.message_count,
            "size_bytes": self.size_bytes,
            "quota_bytes": self.quota_bytes,
            "failure": self.failure.as_dict() if self.failure else None,
        }
