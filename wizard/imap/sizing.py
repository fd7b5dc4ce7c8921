"""How much mail a mailbox holds: messages and bytes per folder, read-only.

A server that advertises STATUS=SIZE (RFC 8438) answers one STATUS per folder; any other gets
EXAMINE (read-only) and RFC822.SIZE fetched in batches. Neither changes a flag on the source.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from imapclient import IMAPClient

from .errors import FailureCode, ImapError, ImapFailure, classify
from .fetch import examine, message_sizes
from .folders import Folder, list_folders
from .settings import ImapServerSettings

STATUS_SIZE = "status-size"  # one STATUS (MESSAGES SIZE) per folder
FETCH_SIZES = "fetch-sizes"  # EXAMINE, then UID FETCH RFC822.SIZE in batches
DEFAULT_SIZE_BATCH = 1000


@dataclass(frozen=True)
class FolderSize:
    name: str
    messages: int
    bytes: int
    method: str  # STATUS_SIZE or FETCH_SIZES


@dataclass(frozen=True)
class MailboxSize:
    folders: tuple[FolderSize, ...]
    method: str
    unreadable: tuple[ImapFailure, ...] = ()  # folders the server would not let us read

    @property
    def messages(self) -> int:
        return sum(f.messages for f in self.folders)

    @property
    def bytes(self) -> int:
        return sum(f.bytes for f in self.folders)


def supports_status_size(client: IMAPClient) -> bool:
    return bool(client.has_capability("STATUS=SIZE"))


def _status_size(client: IMAPClient, folder: str) -> FolderSize:
    raw = client.folder_status(folder, [b"MESSAGES", b"SIZE"])
    values = {(k.decode() if isinstance(k, bytes) else str(k)).upper(): v for k, v in raw.items()}
    return FolderSize(
        folder, int(values.get("MESSAGES", 0)), int(values.get("SIZE", 0)), STATUS_SIZE
    )


def _fetch_sizes(client: IMAPClient, folder: str, batch: int) -> FolderSize:
    state = examine(client, folder)
    if state.exists == 0:
        return FolderSize(folder, 0, 0, FETCH_SIZES)
    sizes = message_sizes(client, batch=batch)
    return FolderSize(folder, len(sizes), sum(sizes.values()), FETCH_SIZES)


def folder_size(
    client: IMAPClient,
    folder: str,
    *,
    use_status_size: bool | None = None,
    batch: int = DEFAULT_SIZE_BATCH,
) -> FolderSize:
    """Messages and bytes of one folder. ``use_status_size=None`` asks the server's capabilities;
    False forces the EXAMINE + RFC822.SIZE path (old servers, and tests of it)."""
    if use_status_size is None:
        use_status_size = supports_status_size(client)
    if use_status_size:
        return _status_size(client, folder)
    return _fetch_sizes(client, folder, batch)


def size_mailbox(
    client: IMAPClient,
    folders: Sequence[Folder] | None = None,
    *,
    settings: ImapServerSettings | None = None,
    login: str = "",
    use_status_size: bool | None = None,
    batch: int = DEFAULT_SIZE_BATCH,
    on_folder: Callable[[FolderSize], None] | None = None,
) -> MailboxSize:
    """Size every selectable folder of the logged-in mailbox (listed here when not given).

    With ``settings`` a folder the server refuses is classified (FOLDER_UNREADABLE, naming the
    folder and ``login``), listed in ``unreadable`` and the others are still sized; a lost
    connection raises ImapError. Without ``settings`` the server's error is raised as it is.
    """
    if folders is None:
        folders = list_folders(client)
    if use_status_size is None:
        use_status_size = supports_status_size(client)
    sized: list[FolderSize] = []
    unreadable: list[ImapFailure] = []
    for folder in folders:
        if not folder.selectable:
            continue
        try:
            size = folder_size(client, folder.name, use_status_size=use_status_size, batch=batch)
        except Exception as exc:
            if settings is None:
                raise
            failure = classify(exc, settings, login, folder=folder.name, stage="folder")
            if failure.code is not FailureCode.FOLDER_UNREADABLE:
                raise ImapError(failure) from exc
            unreadable.append(failure)
            continue
        sized.append(size)
        if on_folder is not None:
            on_folder(size)
    if not use_status_size:
        _unselect(client)
    method = STATUS_SIZE if use_status_size else FETCH_SIZES
    return MailboxSize(tuple(sized), method, tuple(unreadable))


def _unselect(client: IMAPClient) -> None:
    """Leave the last examined folder (CLOSE after EXAMINE expunges nothing, RFC 3501 6.4.2)."""
    with contextlib.suppress(Exception):  # only tidiness; logout follows
        if client.has_capability("UNSELECT"):
            client.unselect_folder()
        else:
            client.close_folder()
