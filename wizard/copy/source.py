"""The read-only side of a copy: an IMAP source mailbox reached through an imapclient client.

Everything here is read-only: folders are opened with EXAMINE and bodies read with BODY.PEEK[],
so the copy never sets \\Seen or changes anything else on the customer's server.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from .folder_map import SourceFolder
from .identity import (
    HEADER_ITEM,
    IMAP_IDENTITY_ITEMS,
    MessageIdentity,
    fetch_listing,
    fetch_uids,
    header_block,
    message_id_and_hash,
    raw_message_id_and_hash,
)
from .imaputil import imap_errors, quiet_imaplib, text_flags
from .imapwire import examine, uid_fetch
from .message_summary import MessageSummary, imap_summaries


@dataclass(frozen=True)
class FolderStatus:
    uidvalidity: int
    uidnext: int
    exists: int


@dataclass(frozen=True)
class SourceMessage:
    """What the listing tells about a message before its body is read."""

    uid: int
    size: int
    flags: tuple[str, ...] = ()
    internaldate: datetime | None = None
    message_id: str = ""
    header_hash: str = ""  # of Date, From, To and Subject, if no Message-ID (see identity.py)
    # False: listed without its headers, so Message-ID and header hash are not known yet; they
    # are read from the message's own bytes when its body is fetched (``identified``).
    identified: bool = True

    @property
    def identity(self) -> MessageIdentity:
        """The message as verification and reconciliation know it."""
        return MessageIdentity(
            self.message_id, self.size, self.header_hash, self.internaldate, str(self.uid)
        )


def identified(message: SourceMessage, raw: bytes) -> SourceMessage:
    """``message`` with the Message-ID and header hash of its own bytes, if it was listed
    without them (what a header listing would have given: see identity.raw_message_id_and_hash)."""
    if message.identified:
        return message
    return with_identity(message, *raw_message_id_and_hash(raw))


def with_identity(message: SourceMessage, message_id: str, header_hash: str) -> SourceMessage:
    """``message`` identified: with this Message-ID and header hash."""
    return SourceMessage(  # not dataclasses.replace: a few times faster, once a message
        uid=message.uid,
        size=message.size,
        flags=message.flags,
        internaldate=message.internaldate,
        message_id=message_id,
        header_hash=header_hash,
    )


class CopySource(Protocol):
    """A source mailbox as the engine reads it. One object = one connection, one thread."""

    host: str

    def folders(self) -> list[SourceFolder]: ...

    def examine(self, folder: str) -> FolderStatus: ...

    def list_messages(self, folder: str, *, headers: bool = True) -> list[SourceMessage]:
        """Every message of ``folder`` in UID order; ``headers=False`` leaves out the header
        fields identity needs (a lighter listing: the messages come ``identified=False``)."""
        ...

    def identify(self, folder: str, uids: Sequence[int]) -> dict[int, tuple[str, str]]:
        """Message-ID and header hash of these messages of ``folder``, from their headers."""
        ...

    def fetch(self, uids: Sequence[int]) -> dict[int, bytes]: ...

    def summaries(self, folder: str, messages: Sequence[MessageIdentity]) -> list[MessageSummary]:
        """Date, sender and subject of a few listed messages of ``folder`` (EXAMINE, a header
        FETCH that sets no flag), in their order."""
        ...

    def close(self) -> None: ...


class ImapSource:
    """A CopySource over an imapclient connection that is already logged in."""

    def __init__(self, client: IMAPClient, host: str = "") -> None:
        self.client = client
        self.host = host or str(getattr(client, "host", "")) or "source"
        # Keep INTERNALDATE with the server's offset instead of local naive times.
        client.normalise_times = False
        quiet_imaplib(client)
        self._examined: str | None = None
        self._status = FolderStatus(0, 0, 0)

    def folders(self) -> list[SourceFolder]:
        with imap_errors(self.host, "LIST"):
            listed = self.client.list_folders()
        subscribed: set[str] | None = None
        with contextlib.suppress(IMAPClientError), imap_errors(self.host, "LSUB"):
            subscribed = {_text(name) for _f, _d, name in self.client.list_sub_folders()}
        out: list[SourceFolder] = []
        for flags, delimiter, name in listed:
            delim = delimiter.decode() if isinstance(delimiter, bytes) else delimiter
            text = _text(name)
            # INBOX is there in every client whether LSUB names it or not; a server that
            # refuses LSUB has every folder shown.
            shown = subscribed is None or text in subscribed or text.upper() == "INBOX"
            out.append(SourceFolder(text, delim or None, text_flags(flags), shown))
        return out

    def examine(self, folder: str) -> FolderStatus:
        with imap_errors(self.host, f"EXAMINE {folder}"):
            info = examine(self.client, folder)
        self._examined = folder
        self._status = FolderStatus(
            uidvalidity=int(info.get(b"UIDVALIDITY", 0)),
            uidnext=int(info.get(b"UIDNEXT", 0)),
            exists=int(info.get(b"EXISTS", 0)),
        )
        return self._status

    def list_messages(self, folder: str, *, headers: bool = True) -> list[SourceMessage]:
        """Every message of the folder; EXAMINEs it unless it is the one examined last."""
        status = self._status if self._examined == folder else self.examine(folder)
        items = IMAP_IDENTITY_ITEMS if headers else ("RFC822.SIZE", "INTERNALDATE")
        with imap_errors(self.host, f"FETCH listing of {folder}"):
            data = fetch_listing(self.client, status.exists, ("FLAGS", *items))
        out: list[SourceMessage] = []
        for uid in sorted(data):
            item = data[uid]
            message_id, hashed = message_id_and_hash(header_block(item)) if headers else ("", "")
            out.append(
                SourceMessage(
                    uid=uid,
                    size=int(item.get(b"RFC822.SIZE") or 0),
                    flags=text_flags(item.get(b"FLAGS", ())),
                    internaldate=item.get(b"INTERNALDATE"),
                    message_id=message_id,
                    header_hash=hashed,
                    identified=headers,
                )
            )
        return out

    def identify(self, folder: str, uids: Sequence[int]) -> dict[int, tuple[str, str]]:
        if not uids:
            return {}
        if self._examined != folder:
            self.examine(folder)
        with imap_errors(self.host, f"FETCH headers in {folder}"):
            data = fetch_uids(self.client, uids, (HEADER_ITEM,))
        return {uid: message_id_and_hash(header_block(item)) for uid, item in data.items()}

    def fetch(self, uids: Sequence[int]) -> dict[int, bytes]:
        """Raw bytes of messages in the examined folder; expunged ones are missing."""
        if not uids:
            return {}
        with imap_errors(self.host, f"FETCH from {self._examined}"):
            data = uid_fetch(self.client, list(uids), "UID BODY.PEEK[]")
        return {uid: item[b"BODY[]"] for uid, item in data.items() if b"BODY[]" in item}

    def summaries(self, folder: str, messages: Sequence[MessageIdentity]) -> list[MessageSummary]:
        if not messages:
            return []
        if self._examined != folder:
            self.examine(folder)
        with imap_errors(self.host, f"FETCH headers in {folder}"):
            return imap_summaries(self.client, messages)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.logout()
        with contextlib.suppress(Exception):
            self.client.shutdown()


def _text(name: bytes | str) -> str:
    return name.decode("utf-8", "replace") if isinstance(name, bytes) else str(name)
