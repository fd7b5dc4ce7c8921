"""Where a copy writes: one interface, an IMAP target here and Exchange in
``wizard.copy.exchange_target``.

A target receives the exact bytes read from the source and never adds or rewrites a header; what
identifies a copied message lives in the ledger. A target object is one connection used by one
thread; the engine makes a new one through a ``TargetFactory`` (called with the engine's event
sink) after a dropped connection. A target never retries: each call writes at most once, and the
engine's retry policy (wizard.retry) decides what happens after a failure.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from typing import Protocol

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError
from imapclient.imapclient import seq_to_parenstr

from ..events import EventSink
from .errors import Throttled
from .folder_map import WELL_KNOWN_NAMES, Role, TargetLayout, split_path
from .identity import IMAP_RULE, IdentityRule, MessageIdentity, list_imap_identities
from .imaputil import imap_errors, parse_appenduid, quiet_imaplib, text_flags
from .imapwire import examine, internaldate_bytes, list_statuses
from .message_summary import MessageSummary, imap_summaries


@dataclass(frozen=True)
class OutgoingMessage:
    """One message to write: the raw source bytes and what to set with it."""

    uid: int  # the source UID, to match results to messages
    raw: bytes
    flags: tuple[str, ...] = ()
    internaldate: datetime | None = None
    message_id: str = ""

    @property
    def size(self) -> int:
        return len(self.raw)


@dataclass(frozen=True)
class WriteResult:
    uid: int
    ok: bool
    target_id: str = ""
    reason: str = ""
    full: bool = False  # refused because the target mailbox is over its quota


@dataclass(frozen=True)
class Probe:
    """What is known of a message that may already be on the target (after a crash)."""

    message_id: str
    size: int
    sha256: str = ""
    internaldate: datetime | None = None


class CopyTarget(Protocol):
    """A target mailbox as the copy engine writes it."""

    kind: str  # "imap" or "ews"
    host: str
    supports_flags: bool
    identity_rule: IdentityRule  # how its listing compares with an IMAP source's (identity.py)
    # What one ``append`` may carry (None: no limit of its own); the engine batches within it.
    max_batch_messages: int | None
    max_batch_bytes: int | None
    # Message bytes a copy writing here holds at once, over all mailboxes, at most (None: the
    # copy's own memory budget); the engine lowers its budget to it once such a target connects.
    max_held_bytes: int | None

    def layout(self) -> TargetLayout: ...

    def ensure_folder(self, path: tuple[str, ...]) -> str:
        """Create the folder and its parents if missing; return its key (TargetLayout.key)."""
        ...

    def append(self, folder: str, messages: Sequence[OutgoingMessage]) -> list[WriteResult]:
        """Write messages; one result per message in order. Raises TransientError when the
        connection dropped or the server is busy (some of the batch may have landed)."""
        ...

    def find(self, folder: str, probes: Sequence[Probe]) -> list[list[str]]:
        """Target ids of messages in ``folder`` that match each probe (all matches)."""
        ...

    def count(self, folder: str) -> int: ...

    def message_ids(self, folder: str) -> list[str]:
        """The Message-ID of every message in the folder ("" for those without one)."""
        ...

    def identities(self, folder: str) -> list[MessageIdentity] | None:
        """Every message of the folder as identity.py knows it, or None when the folder does
        not exist. Read-only: never creates a folder nor changes a message."""
        ...

    def summaries(self, folder: str, messages: Sequence[MessageIdentity]) -> list[MessageSummary]:
        """Date, sender and subject of a few listed messages of ``folder`` (as ``identities``
        gave them), in their order. Read-only."""
        ...

    def folder_identity(self, folder: str) -> str | None:
        """What tells this folder from one deleted and made again under its name (IMAP: its
        UIDVALIDITY, EWS: its folder id), or None when it does not exist. Read-only."""
        ...

    def set_subscribed(self, folder: str, subscribed: bool) -> bool:
        """Subscribe or unsubscribe a folder as the customer had it; False when the server
        refused (True, doing nothing, where the target has no subscriptions)."""
        ...

    def set_flags(self, folder: str, changes: Sequence[tuple[str, tuple[str, ...]]]) -> int:
        """Give copied messages (by target id) these flags; returns how many were applied."""
        ...

    def close(self) -> None: ...


# A new logged-in target connection, reporting through the engine's event sink.
TargetFactory = Callable[[EventSink], CopyTarget]

_DEFAULT_ROLE_NAMES: dict[Role, str] = {
    Role.SENT: "Sent",
    Role.DRAFTS: "Drafts",
    Role.TRASH: "Trash",
    Role.JUNK: "Junk",
    Role.ARCHIVE: "Archive",
}
_ROLE_FLAGS = {
    "\\sent": Role.SENT,
    "\\drafts": Role.DRAFTS,
    "\\trash": Role.TRASH,
    "\\junk": Role.JUNK,
    "\\archive": Role.ARCHIVE,
}


class ImapTarget:
    """An IMAP server as the target: APPEND with flags and INTERNALDATE, MULTIAPPEND and
    LITERAL+ where offered (imapclient's multiappend), UIDPLUS to learn the new UIDs."""

    kind = "imap"
    supports_flags = True
    identity_rule = IMAP_RULE
    max_batch_messages: int | None = None
    max_batch_bytes: int | None = None
    max_held_bytes: int | None = None

    def __init__(
        self, client: IMAPClient, host: str = "", *, max_message_size: int | None = None
    ) -> None:
        self.client = client
        self.host = host or str(getattr(client, "host", "")) or "target"
        client.normalise_times = False
        quiet_imaplib(client)
        self._max = max_message_size
        self._layout: TargetLayout | None = None
        self._existing: set[str] = set()
        self._subscribed: set[str] | None = None  # LSUB's answer, kept up to date (None: unknown)
        self._unsubscribed: set[str] = set()  # folders to make without subscribing them
        self._selected: tuple[str, bool] | None = None
        self._validity = 0
        with imap_errors(self.host, "CAPABILITY"):
            caps = {c.upper() for c in client.capabilities()}
        self.multiappend = b"MULTIAPPEND" in caps
        self.literal_plus = b"LITERAL+" in caps
        self.uidplus = b"UIDPLUS" in caps
        # LIST-STATUS: every folder's UIDVALIDITY and message count in one command, not an
        # EXAMINE per folder.
        self.list_status = b"LIST-STATUS" in caps
        self._listed: dict[str, dict[bytes, int]] | None = None  # LIST-STATUS, per folder
        for cap in caps:
            if cap.startswith(b"APPENDLIMIT="):
                with contextlib.suppress(ValueError):
                    limit = int(cap.split(b"=", 1)[1])
                    self._max = min(self._max or limit, limit)

    # ----- layout and folders -------------------------------------------------------------

    def layout(self) -> TargetLayout:
        if self._layout is not None:
            return self._layout
        with imap_errors(self.host, "LIST"):
            listed = self.client.list_folders()
        delimiter = "/"
        roles: dict[Role, tuple[str, ...]] = {}
        names: list[tuple[str, ...]] = []
        for flags, delim, name in listed:
            if delim:
                delimiter = delim.decode() if isinstance(delim, bytes) else str(delim)
            if not {f.lower() for f in text_flags(flags)} & _NOT_THERE:
                self._existing.add(name)  # a \Noselect parent is made a folder when needed
            path = split_path(name, delimiter)
            names.append(path)
            for flag in text_flags(flags):
                role = _ROLE_FLAGS.get(flag.lower())
                if role is not None and role not in roles:
                    roles[role] = path
        with contextlib.suppress(IMAPClientError), imap_errors(self.host, "LSUB"):
            self._subscribed = {  # a \Noselect answer only says a child is subscribed
                name
                for flags, _d, name in self.client.list_sub_folders()
                if "\\noselect" not in {f.lower() for f in text_flags(flags)}
            }
        prefix: tuple[str, ...] = ()
        with contextlib.suppress(Exception):
            namespace = self.client.namespace()
            if namespace.personal:
                personal = namespace.personal[0][0]
                personal = personal.decode() if isinstance(personal, bytes) else str(personal)
                prefix = split_path(personal.rstrip(delimiter), delimiter) if personal else ()
        for role, defaults in WELL_KNOWN_NAMES.items():
            if role in roles:
                continue
            for path in names:
                if (
                    path[len(prefix) :]
                    and path[len(prefix) :][-1].lower() in defaults
                    and len(path) == len(prefix) + 1
                ):
                    roles[role] = path
                    break
        for role, name in _DEFAULT_ROLE_NAMES.items():
            roles.setdefault(role, prefix + (name,))
        roles[Role.INBOX] = ("INBOX",)
        self._layout = TargetLayout(
            kind=self.kind,
            roles=roles,
            delimiter=delimiter,
            prefix=prefix,
            max_message_size=self._max,
        )
        return self._layout

    def ensure_folder(self, path: tuple[str, ...]) -> str:
        layout = self.layout()
        name = layout.key(path)
        if name in self._existing or name.upper() == "INBOX":
            return name
        for cut in range(1, len(path) + 1):
            part = layout.key(path[:cut])
            if part in self._existing or part.upper() == "INBOX":
                continue
            try:
                with imap_errors(self.host, f"CREATE {part}"):
                    self.client.create_folder(part)
            except IMAPClientError as exc:
                if "ALREADYEXISTS" not in str(exc).upper() and not self.client.folder_exists(part):
                    raise
            if part not in self._unsubscribed:
                with contextlib.suppress(IMAPClientError):
                    self.client.subscribe_folder(part)
                    self._note_subscription(part, True)
            self._existing.add(part)
            self._listed = None  # a new folder, a new UIDVALIDITY
        return name

    def set_subscribed(self, folder: str, subscribed: bool) -> bool:
        """Called before ``ensure_folder`` with False, the folder is then made unsubscribed
        (one write on the server, not a subscribe and an unsubscribe)."""
        if folder.upper() == "INBOX":
            return True
        if not subscribed and folder not in self._existing:
            self._unsubscribed.add(folder)
        if self._subscribed is not None and (folder in self._subscribed) == subscribed:
            return True  # already so (LSUB said, or this connection made it so)
        what = "SUBSCRIBE" if subscribed else "UNSUBSCRIBE"
        try:
            with imap_errors(self.host, f"{what} {folder}"):
                if subscribed:
                    self.client.subscribe_folder(folder)
                else:
                    self.client.unsubscribe_folder(folder)
        except IMAPClientError:
            return False
        self._note_subscription(folder, subscribed)
        return True

    def _note_subscription(self, folder: str, subscribed: bool) -> None:
        if self._subscribed is not None:
            (self._subscribed.add if subscribed else self._subscribed.discard)(folder)

    def _select(self, folder: str, writable: bool = False) -> int:
        with imap_errors(self.host, f"SELECT {folder}"):
            info = self.client.select_folder(folder, readonly=not writable)
        self._selected = (folder, writable)
        return int(info.get(b"UIDVALIDITY", 0))

    # ----- writing --------------------------------------------------------------------------

    def append(self, folder: str, messages: Sequence[OutgoingMessage]) -> list[WriteResult]:
        if not messages:
            return []
        self._listed = None  # the folder's message count changes
        if self.multiappend and len(messages) > 1:
            try:
                with imap_errors(self.host, f"APPEND to {folder}"):
                    typ, data = self._append_raw(folder, messages)
            except IMAPClientError as exc:
                typ, data = "NO", [str(exc).encode()]
            if typ == "OK":
                return self._results(messages, data[0] if data else b"")
            reason = _text_of(data, typ)
            if over_quota(reason):  # nothing of the batch fits: none is tried on its own
                return [_full(m, reason) for m in messages]
            # MULTIAPPEND is all or nothing: send one by one to learn which message was refused.
        results: list[WriteResult] = []
        for at, message in enumerate(messages):
            results.append(self._append_one(folder, message))
            if results[-1].full:  # the mailbox is full: the rest would be refused the same way
                results += [replace(results[-1], uid=m.uid) for m in messages[at + 1 :]]
                break
        return results

    def _append_raw(
        self, folder: str, messages: Sequence[OutgoingMessage]
    ) -> tuple[str, list[bytes]]:
        """APPEND (several messages: MULTIAPPEND) sending each message's bytes exactly as read.

        Not imaplib's append, which rewrites bare CR and LF to CRLF (the copy must be
        byte-identical), nor imapclient's multiappend, which copies every message twice.
        Literals are non-synchronising where the server offers LITERAL+; then small messages
        go out joined into one write (one copy of their bytes, not two system calls each),
        large ones as they are.
        """
        imap = self.client._imap  # noqa: SLF001 - the raw connection imapclient holds
        tag = imap._new_tag()  # noqa: SLF001
        out = [tag + b" APPEND " + self.client._normalise_folder(folder)]  # noqa: SLF001
        pending = len(out[0])
        for message in messages:
            head = _append_flags(tuple(message.flags))
            if message.internaldate is not None:
                head += internaldate_bytes(message.internaldate)
            if self.literal_plus:
                out.append(head + b" {%d+}\r\n" % len(message.raw))
                if len(message.raw) < _JOINED:
                    out.append(message.raw)
                    pending += len(message.raw)
                    if pending < _JOINED:
                        continue
                imap.send(b"".join(out))
                if len(message.raw) >= _JOINED:
                    imap.send(message.raw)
                out, pending = [], 0
                continue
            imap.send(b"".join(out) + head + b" {%d}\r\n" % len(message.raw))
            out, pending = [], 0
            while imap._get_response():  # noqa: SLF001 - None means "+ go ahead"
                if imap.tagged_commands.get(tag):
                    return imap.tagged_commands.pop(tag)  # refused before the literal
            imap.send(message.raw)
        imap.send(b"".join(out) + b"\r\n")
        typ, data = imap._command_complete("APPEND", tag)  # noqa: SLF001
        return typ, data

    def _append_one(self, folder: str, message: OutgoingMessage) -> WriteResult:
        with imap_errors(self.host, f"APPEND to {folder}"):
            try:
                typ, data = self._append_raw(folder, [message])
            except IMAPClientError as exc:
                typ, data = "NO", [str(exc).encode()]
        if typ != "OK":
            reason = _text_of(data, typ)
            if over_quota(reason):
                return _full(message, reason)
            if any(code in reason.upper() for code in ("[UNAVAILABLE]", "[INUSE]")):
                raise Throttled(f"{self.host}: the server is busy ({reason})")
            said = _TIMING.sub("", reason.strip())
            if _TOO_LARGE.search(said):  # refused again whenever it is sent: not worth a wait
                return WriteResult(
                    message.uid,
                    False,
                    reason=f"too large for the target ({len(message.raw):,} bytes): {said}",
                )
            return WriteResult(message.uid, False, reason=f"the target refused it: {said}")
        return self._results([message], data[0] if data else b"")[0]

    def _results(
        self, messages: Sequence[OutgoingMessage], response: bytes | str
    ) -> list[WriteResult]:
        parsed = parse_appenduid(response)
        if parsed is None or len(parsed[1]) != len(messages):
            return [WriteResult(m.uid, True) for m in messages]
        validity, uids = parsed
        return [
            WriteResult(m.uid, True, target_id=f"{validity}:{uid}")
            for m, uid in zip(messages, uids, strict=True)
        ]

    def set_flags(self, folder: str, changes: Sequence[tuple[str, tuple[str, ...]]]) -> int:
        if not changes:
            return 0
        validity = self._select(folder, writable=True)
        applied = 0
        for target_id, flags in changes:
            uid = _uid_of(target_id, validity)
            if uid is None:
                continue
            with imap_errors(self.host, f"STORE in {folder}"):
                self.client.set_flags([uid], list(_appendable(flags)))
            applied += 1
        return applied

    # ----- reading back ---------------------------------------------------------------------

    def count(self, folder: str) -> int:
        with imap_errors(self.host, f"STATUS {folder}"):
            status = self.client.folder_status(folder, ["MESSAGES"])
        return int(status.get(b"MESSAGES", 0))

    def message_ids(self, folder: str) -> list[str]:
        return [m.message_id for m in self.identities(folder) or ()]

    def identities(self, folder: str) -> list[MessageIdentity] | None:
        if self.list_status and self._statuses().get(_key(folder), {}).get(b"MESSAGES") == 0:
            return []  # there and empty, as LIST-STATUS said: nothing to EXAMINE and list
        exists = self._examine(folder)
        if exists is None:
            return None
        with imap_errors(self.host, f"FETCH listing of {folder}"):
            return list_imap_identities(self.client, exists)

    def summaries(self, folder: str, messages: Sequence[MessageIdentity]) -> list[MessageSummary]:
        if not messages:
            return []
        if self._examine(folder) is None:
            return [MessageSummary(m.label) for m in messages]
        with imap_errors(self.host, f"FETCH headers in {folder}"):
            return imap_summaries(self.client, messages)

    def folder_identity(self, folder: str) -> str | None:
        if not self.list_status:
            return None if self._examine(folder) is None else str(self._validity)
        validity = self._statuses().get(_key(folder), {}).get(b"UIDVALIDITY")
        return str(validity) if validity is not None else None

    def _statuses(self) -> dict[str, dict[bytes, int]]:
        """Every folder's UIDVALIDITY and message count from one LIST-STATUS, kept until this
        connection creates a folder or appends to one."""
        if self._listed is None:
            with imap_errors(self.host, "LIST-STATUS"):
                self._listed = list_statuses(self.client)
        return self._listed

    def find(self, folder: str, probes: Sequence[Probe]) -> list[list[str]]:
        if not probes:
            return []
        if not self._examine(folder):
            return [[] for _ in probes]
        validity = self._validity
        out: list[list[str]] = []
        for probe in probes:
            with imap_errors(self.host, f"SEARCH in {folder}"):
                if probe.message_id:
                    uids = self.client.search(["HEADER", "Message-ID", probe.message_id])
                else:
                    uids = self.client.search(
                        ["LARGER", max(probe.size - 1, 0), "SMALLER", probe.size + 1]
                    )
            out.append([f"{validity}:{uid}" for uid in self._confirm(uids, probe)])
        return out

    def _confirm(self, uids: Sequence[int], probe: Probe) -> list[int]:
        """Keep candidates whose size (and, without a Message-ID, content) is the same."""
        if not uids:
            return []
        with imap_errors(self.host, "FETCH sizes"):
            sizes = self.client.fetch(list(uids), ["RFC822.SIZE"])
        same = sorted(u for u, item in sizes.items() if item.get(b"RFC822.SIZE") == probe.size)
        if probe.message_id or not same:
            return same
        with imap_errors(self.host, "FETCH candidates"):
            bodies = self.client.fetch(same, ["BODY.PEEK[]"])
        if probe.sha256:
            return sorted(
                u
                for u, item in bodies.items()
                if hashlib.sha256(item.get(b"BODY[]", b"")).hexdigest() == probe.sha256
            )
        return same

    def _examine(self, folder: str) -> int | None:
        """EXAMINE a folder; returns how many messages it has (None if it does not exist)."""
        try:
            with imap_errors(self.host, f"EXAMINE {folder}"):
                info = examine(self.client, folder)
        except IMAPClientError:
            return None
        self._selected = (folder, False)
        self._validity = int(info.get(b"UIDVALIDITY", 0))
        return int(info.get(b"EXISTS", 0))

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.logout()
        with contextlib.suppress(Exception):
            self.client.shutdown()


_NOT_THERE = {"\\noselect", "\\nonexistent"}  # listed, but no folder to write into
_JOINED = 256 * 1024  # bytes of small messages gathered into one write of an APPEND


# RFC 5530's response code (Dovecot, Cyrus), and the words servers without it use.
_OVER_QUOTA = re.compile(r"\[OVERQUOTA\]|quota|mailbox (is )?full", re.IGNORECASE)


def over_quota(reason: str) -> bool:
    """Whether a refusal says the mailbox is over its quota (full), not that a message is bad."""
    return bool(_OVER_QUOTA.search(reason))


def _text_of(data: Sequence[bytes | str] | None, typ: str) -> str:
    first = data[0] if data else None
    if not first:
        return typ
    return first.decode("utf-8", "replace") if isinstance(first, bytes) else str(first)


# RFC 7889's response code, and a [LIMIT] (RFC 5530) that names the message's size.
_TOO_LARGE = re.compile(r"\[TOOBIG\]|\[LIMIT\].*\b(size|large|big)", re.IGNORECASE)
_TIMING = re.compile(r"\s*\([\d.]+( \+ [\d.]+)* secs\)\.?\s*$")  # Dovecot's "(0.003 + 0.000 secs)."


def _full(message: OutgoingMessage, reason: str) -> WriteResult:
    said = _TIMING.sub("", reason.strip())
    return WriteResult(
        message.uid, False, reason=f"the mailbox is over its quota: {said}", full=True
    )


def _key(folder: str) -> str:
    """A folder's name as LIST-STATUS answers are keyed (INBOX in any case is INBOX)."""
    return "INBOX" if folder.upper() == "INBOX" else folder


def _appendable(flags: Sequence[str]) -> tuple[str, ...]:
    return tuple(f for f in flags if f.lower() != "\\recent")


@lru_cache(maxsize=512)  # a mailbox's messages share a handful of flag sets
def _append_flags(flags: tuple[str, ...]) -> bytes:
    """An APPEND's flag list, with the space before it."""
    return b" " + seq_to_parenstr(_appendable(flags)).encode()


def _date(value: datetime | None) -> dict[str, datetime]:
    return {"date": value} if value is not None else {}


def _uid_of(target_id: str, validity: int) -> int | None:
    try:
        their_validity, uid = (int(x) for x in target_id.split(":", 1))
    except ValueError:
        return None
    return uid if their_validity == validity else None
