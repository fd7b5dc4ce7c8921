"""The read-only side of a copy: an IMAP source mailbox reached through an imapclient client.

Everything here is read-only: folders are opened with EXAMINE and bodies read with BODY.PEEK[],
so the copy never sets \\Seen or changes anything else on the customer's server.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from .folder_map import SourceFolder
from .identity import (
    HEADER_ITEM,
    IMAP_IDENTITY_ITEMS,
    LIST_CHUNK,
    MessageIdentity,
    fetch_listing,
    fetch_uids,
    header_block,
    message_id_and_hash,
    raw_message_id_and_hash,
)
from .imaputil import imap_errors, quiet_imaplib, text_flags
from .imapwire import (
    examine,
    examined_info,
    fetched_items,
    pipelined,
    status_items,
    uid_fetch,
    uid_set,
)
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
        self._status = _folder_status(info)
        return self._status

    def list_messages(self, folder: str, *, headers: bool = True) -> list[SourceMessage]:
        """Every message of the folder; EXAMINEs it unless it is the one examined last."""
        status = self._status if self._examined == folder else self.examine(folder)
        with imap_errors(self.host, f"FETCH listing of {folder}"):
            data = fetch_listing(self.client, status.exists, _listing_items(headers))
        return _listing(data, headers)

    def list_ahead(
        self, folders: Sequence[tuple[str, bool]]
    ) -> dict[str, tuple[FolderStatus, list[SourceMessage]]]:
        """What :meth:`examine` and :meth:`list_messages` give for each of ``folders`` (name,
        with headers), read with commands sent ahead instead of one at a time: a STATUS of
        every folder, then EXAMINE and the listing FETCH of every folder up to LIST_CHUNK
        messages, PIPELINE_FOLDERS folders to a write. A mailbox's listing then costs a few
        round trips instead of two per folder, which is what a listing costs over a WAN.

        Folders whose STATUS, EXAMINE or FETCH is refused, larger ones and any the server
        answers oddly are left out, for examine and list_messages to read (and fail on) as
        before. A listing is kept only when its own EXAMINE succeeded, so messages of another
        folder (a server that keeps the last folder selected after a refused EXAMINE) are never
        taken for this one's. A dropped connection raises TransientError."""
        out: dict[str, tuple[FolderStatus, list[SourceMessage]]] = {}
        for start in range(0, len(folders), PIPELINE_FOLDERS):
            chunk = folders[start : start + PIPELINE_FOLDERS]
            with imap_errors(self.host, "STATUS of the folders"):
                sized = pipelined(
                    self.client,
                    [("STATUS", self._folder_arg(name) + b" (MESSAGES)") for name, _ in chunk],
                )
            listed = [
                (name, headers)
                for (name, headers), answers in zip(chunk, sized, strict=True)
                if 0 <= _status_messages(answers) <= LIST_CHUNK
            ]
            commands: list[tuple[str, bytes]] = []
            for name, headers in listed:
                commands.append(("EXAMINE", self._folder_arg(name)))
                commands.append(("UID", b"FETCH 1:* (%s)" % _wanted(headers).encode()))
            if not commands:
                continue
            self._examined = None  # whatever happens below, which folder is open is not known
            with imap_errors(self.host, "EXAMINE and FETCH listing of the folders"):
                answers = pipelined(self.client, commands)
            for at, (name, headers) in enumerate(listed):
                opened, fetched = answers[2 * at], answers[2 * at + 1]
                if isinstance(opened, Exception):
                    continue
                info = examined_info(opened)
                status = _folder_status(info)
                if not isinstance(fetched, Exception):
                    listing = _listing(fetched_items(fetched, _wanted(headers)), headers)
                    out[name] = (status, listing)
                elif not status.exists:  # "1:*" of an empty folder may be refused: none
                    out[name] = (status, [])
                # else refused for a folder with mail: left for list_messages to read
            last = answers[-2]
            self._left_in(
                listed[-1][0],
                last if isinstance(last, Exception) else _folder_status(examined_info(last)),
            )
        return out

    def _left_in(self, folder: str, opened: FolderStatus | Exception) -> None:
        """After commands sent ahead: the connection is in ``folder``, the last one EXAMINEd,
        or in none if that EXAMINE failed (imaplib's state kept as imapwire.examine keeps it)."""
        imap = self.client._imap  # noqa: SLF001
        if isinstance(opened, Exception):
            self._examined = None
            imap.state = "AUTH"
        else:
            self._examined, self._status = folder, opened
            imap.state = "SELECTED"

    def _folder_arg(self, name: str) -> bytes:
        return self.client._normalise_folder(name)  # noqa: SLF001 - quoted, modified UTF-7

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
        return _bodies(data)

    def open_and_fetch(
        self, folder: str, uids: Sequence[int]
    ) -> tuple[FolderStatus, dict[int, bytes]]:
        """EXAMINE ``folder`` and :meth:`fetch` ``uids`` in it, both commands in one write: one
        round trip, not two, for each folder a copy reads. The bytes come back only if the
        EXAMINE succeeded (a server that keeps the last folder open after a refused EXAMINE
        would answer the FETCH from that one); the caller compares the UIDVALIDITY."""
        if not uids:
            return self.examine(folder), {}
        ((status, bodies),) = self.open_and_fetch_many([(folder, uids)])
        if isinstance(status, Exception):
            with imap_errors(self.host, f"EXAMINE {folder}"):
                raise status
        if isinstance(bodies, Exception):
            with imap_errors(self.host, f"FETCH from {folder}"):
                raise bodies
        return status, bodies

    def open_and_fetch_many(
        self, reads: Sequence[tuple[str, Sequence[int]]]
    ) -> list[tuple[FolderStatus | Exception, dict[int, bytes] | Exception]]:
        """:meth:`open_and_fetch` for several folders (name, UIDs; at most PIPELINE_FOLDERS),
        every command in one write: one round trip for all of them. Per folder its status and
        bytes, or the IMAPClientError the server answered for either; a folder whose EXAMINE
        was refused gets that error for its bytes too. The connection is left in the last
        folder. A dropped connection raises TransientError."""
        commands: list[tuple[str, bytes]] = []
        for folder, uids in reads:
            commands.append(("EXAMINE", self._folder_arg(folder)))
            commands.append(("UID", b"FETCH %s (UID BODY.PEEK[])" % uid_set(list(uids))))
        self._examined = None  # whatever happens below, which folder is open is not known
        with imap_errors(self.host, "EXAMINE and FETCH of the folders"):
            answers = pipelined(self.client, commands)
        out: list[tuple[FolderStatus | Exception, dict[int, bytes] | Exception]] = []
        for at in range(len(reads)):
            opened, fetched = answers[2 * at], answers[2 * at + 1]
            if isinstance(opened, Exception):
                out.append((opened, opened))
                continue
            status = _folder_status(examined_info(opened))
            if isinstance(fetched, Exception):
                out.append((status, fetched))
            else:
                out.append((status, _bodies(fetched_items(fetched, "UID BODY.PEEK[]"))))
        if out:
            self._left_in(reads[-1][0], out[-1][0])
        return out

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


PIPELINE_FOLDERS = 50  # folders per write of commands sent ahead: a few KB of commands


def _folder_status(info: Mapping[bytes, int]) -> FolderStatus:
    return FolderStatus(
        uidvalidity=int(info.get(b"UIDVALIDITY", 0)),
        uidnext=int(info.get(b"UIDNEXT", 0)),
        exists=int(info.get(b"EXISTS", 0)),
    )


def _bodies(data: Mapping[int, Mapping[bytes, Any]]) -> dict[int, bytes]:
    """Per UID the message bytes of a ``UID FETCH (UID BODY.PEEK[])``; expunged ones missing."""
    return {uid: item[b"BODY[]"] for uid, item in data.items() if b"BODY[]" in item}


def _listing_items(headers: bool) -> tuple[str, ...]:
    return ("FLAGS", *(IMAP_IDENTITY_ITEMS if headers else ("RFC822.SIZE", "INTERNALDATE")))


def _wanted(headers: bool) -> str:
    """The items of a listing FETCH, as ``identity.fetch_listing`` asks for them."""
    return " ".join(("UID", *_listing_items(headers)))


def _listing(data: Mapping[int, Mapping[bytes, Any]], headers: bool) -> list[SourceMessage]:
    """A folder's messages in UID order from its listing FETCH (see ``list_messages``)."""
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


def _status_messages(answers: list[Any] | Exception) -> int:
    """MESSAGES from the answers to a STATUS; -1 when it was refused or names no count."""
    if isinstance(answers, Exception):
        return -1
    for raw in answers:
        named = status_items(raw)
        if named is not None and b"MESSAGES" in named[1]:
            return named[1][b"MESSAGES"]
    return -1


def _text(name: bytes | str) -> str:
    return name.decode("utf-8", "replace") if isinstance(name, bytes) else str(name)
