"""The one message identity that verification and reconciliation share.

A message is known from a bulk, body-less listing: on IMAP ``RFC822.SIZE``, ``INTERNALDATE`` and
``BODY.PEEK[HEADER.FIELDS (MESSAGE-ID DATE FROM TO SUBJECT)]``; on EWS the InternetMessageId, the
item size and the received time. Its identity key is the Message-ID plus the size; a message
without a Message-ID is known by a hash of Date, From, To and Subject plus the size (or, where the
other side cannot give those headers, by its received time). Sizes are left out where one side's
sizes are not the message's bytes (Exchange counts its own storage). A copy lists a folder the
ledger knows nothing of without those header fields and reads each identity from the message's
own bytes as it copies it (``raw_message_id_and_hash``: the same fields, read the same way).

Source and target listings are matched as multisets: two identical source messages need two on the
target. What is left over is ``missing`` (on the source, not on the target), ``extra`` (on the
target, matching nothing on the source) or ``duplicated`` (more copies on the target than the
source has). Everything here is pure except :func:`list_imap_identities` and
:func:`fetch_listing`, the IMAP reads both sides use (header fetches in a folder the caller
EXAMINEd, so they never change a folder).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from .imapwire import uid_fetch

HEADER_FIELDS = ("MESSAGE-ID", "DATE", "FROM", "TO", "SUBJECT")
HEADER_ITEM = f"BODY.PEEK[HEADER.FIELDS ({' '.join(HEADER_FIELDS)})]"
IMAP_IDENTITY_ITEMS = ("RFC822.SIZE", "INTERNALDATE", HEADER_ITEM)
LIST_CHUNK = 5000  # UIDs per listing FETCH, so a 100 000-message folder is not one answer
_HASHED = (b"date", b"from", b"to", b"subject")
_FOLD = re.compile(rb"\r?\n(?=[ \t])")
_SPACE = re.compile(rb"[ \t]+")

Fallback = Literal["headers", "received"]


@dataclass(frozen=True)
class MessageIdentity:
    """One message as a body-less listing shows it; ``ref`` says where it is on its side."""

    message_id: str = ""
    size: int | None = None
    # Of Date, From, To and Subject, for a message without a Message-ID (the key then uses it);
    # "" for one with a Message-ID and where the side cannot give those headers.
    header_hash: str = ""
    received: datetime | None = None  # IMAP INTERNALDATE, EWS received time
    ref: str = ""  # the IMAP UID or the EWS item id

    @property
    def label(self) -> str:
        """How a report names the message."""
        if self.message_id:
            return self.message_id
        parts = ["(no Message-ID"]
        if self.size is not None:
            parts.append(f"{self.size} bytes")
        if self.received is not None:
            parts.append(f"received {self.received.isoformat()}")
        return ", ".join(parts) + ")"


@dataclass(frozen=True)
class IdentityRule:
    """How two sides' listings are compared. IMAP to IMAP: the default; to EWS: ``for_ews()``."""

    sizes: bool = True
    fallback: Fallback = "headers"

    @classmethod
    def for_ews(cls) -> IdentityRule:
        # Exchange's item size is its storage, not the MIME bytes, and it gives no raw headers.
        return cls(sizes=False, fallback="received")


IMAP_RULE = IdentityRule()
EWS_RULE = IdentityRule.for_ews()


@dataclass(frozen=True)
class IdentityMatch:
    """The outcome of matching a source listing against a target listing."""

    matched: tuple[tuple[MessageIdentity, MessageIdentity], ...] = ()  # (source, target)
    missing: tuple[MessageIdentity, ...] = ()  # source messages without a copy on the target
    extra: tuple[MessageIdentity, ...] = ()  # target messages that match no source message
    duplicated: tuple[MessageIdentity, ...] = ()  # target copies beyond the source's number

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.duplicated)


def identity_key(message: MessageIdentity, rule: IdentityRule = IMAP_RULE) -> tuple[Any, ...]:
    """The key two copies of one message share under ``rule``."""
    size = message.size if rule.sizes else None
    if message.message_id:
        return ("id", message.message_id, size)
    if rule.fallback == "received":
        when = message.received
        stamp = int(when.astimezone(UTC).timestamp()) if when is not None else None
        return ("received", stamp, size)
    return ("headers", message.header_hash, size)


def match_identities(
    source: Iterable[MessageIdentity],
    target: Iterable[MessageIdentity],
    rule: IdentityRule = IMAP_RULE,
) -> IdentityMatch:
    """Match two listings as multisets; order within each side is kept in every result."""
    waiting: dict[tuple[Any, ...], list[MessageIdentity]] = {}
    for message in target:
        waiting.setdefault(identity_key(message, rule), []).append(message)
    taken: dict[tuple[Any, ...], int] = {}
    matched: list[tuple[MessageIdentity, MessageIdentity]] = []
    missing: list[MessageIdentity] = []
    seen: set[tuple[Any, ...]] = set()
    for message in source:
        key = identity_key(message, rule)
        seen.add(key)
        copies = waiting.get(key)
        index = taken.get(key, 0)
        if copies is not None and index < len(copies):
            matched.append((message, copies[index]))
            taken[key] = index + 1
        else:
            missing.append(message)
    extra: list[MessageIdentity] = []
    duplicated: list[MessageIdentity] = []
    for key, copies in waiting.items():
        rest = copies[taken.get(key, 0) :]
        (duplicated if key in seen else extra).extend(rest)
    return IdentityMatch(tuple(matched), tuple(missing), tuple(extra), tuple(duplicated))


def header_fields(block: bytes | None) -> dict[bytes, bytes]:
    """Header fields of a HEADER.FIELDS answer: lower-case names, unfolded values (first wins)."""
    if not block:
        return {}
    out: dict[bytes, bytes] = {}
    if b"\n " in block or b"\n\t" in block:  # the regular expressions only where they change it
        block = _FOLD.sub(b"", block)
    for line in block.splitlines():
        name, colon, value = line.partition(b":")
        if not colon or not name or name[:1] in b" \t":
            continue
        out.setdefault(name.strip().lower(), _value(value))
    return out


def _value(unfolded: bytes) -> bytes:
    """An unfolded header value as identity compares it: runs of blanks as one space, trimmed."""
    if b"\t" in unfolded or b"  " in unfolded:
        unfolded = _SPACE.sub(b" ", unfolded)
    return unfolded.strip()


def header_hash(fields: Mapping[bytes, bytes]) -> str:
    """A short hash of Date, From, To and Subject, the raw bytes both sides hold alike."""
    digest = hashlib.blake2b(digest_size=12)
    for name in _HASHED:
        digest.update(fields.get(name, b""))
        digest.update(b"\0")
    return digest.hexdigest()


def message_id_and_hash(block: bytes | None) -> tuple[str, str]:
    """The Message-ID and the header hash an identity takes from a header block."""
    return _id_and_hash(header_fields(block))


def _id_and_hash(fields: Mapping[bytes, bytes]) -> tuple[str, str]:
    """The Message-ID, and the header hash only where there is none (the key uses it then)."""
    message_id = fields.get(b"message-id", b"").decode("utf-8", "replace")
    return message_id, "" if message_id else header_hash(fields)


# The header fields identity reads, each at the start of a line: name, value with its folds.
_IDENTITY_FIELD = re.compile(
    rb"(?:\A|\n)(message-id|date|from|to|subject)[ \t]*:([^\r\n]*(?:\r?\n[ \t][^\r\n]*)*)", re.I
)


def raw_message_id_and_hash(raw: bytes) -> tuple[str, str]:
    """The Message-ID and header hash of a whole message's bytes, as :func:`message_id_and_hash`
    gives them from a HEADER.FIELDS answer: the same fields of the header (up to the first
    empty line, or all of a message without one), read the same way."""
    if raw.startswith((b"\r\n", b"\n")):
        head = b""
    else:
        crlf = raw.find(b"\n\r\n")  # the usual end; a bare-LF one can only come before it
        lf = raw.find(b"\n\n", 0, crlf if crlf >= 0 else len(raw))
        end = lf if lf >= 0 else crlf
        head = raw[: end + 1] if end >= 0 else raw
    if message_id := _first_message_id(head):
        return message_id, ""  # what _id_and_hash gives when there is one: no hash needed
    fields: dict[bytes, bytes] = {}
    for name, value in _IDENTITY_FIELD.findall(head):
        key = name.lower()
        if key not in fields:  # the first one counts, as in header_fields
            fields[key] = _decoded_value(value)
    return _id_and_hash(fields)


_MESSAGE_ID_LINE = b"\nmessage-id"
_FIELD_REST = re.compile(rb"[ \t]*:([^\r\n]*(?:\r?\n[ \t][^\r\n]*)*)")  # as _IDENTITY_FIELD


def _first_message_id(head: bytes) -> str:
    """The value of the first Message-ID field of a header, as :data:`_IDENTITY_FIELD` reads
    it ("" when there is none or it is empty). Found with ``bytes.find`` on the lower-cased
    header, not by running the regular expression over every byte: a few times faster on the
    long headers real mail has (Received, DKIM), where nearly every message has one."""
    lowered = (b"\n" + head).lower()  # a line before the first; ASCII only, as re.I for bytes
    at = lowered.find(_MESSAGE_ID_LINE)
    while at >= 0:  # the field's name ends in head where the found line does in lowered
        if match := _FIELD_REST.match(head, at + len(_MESSAGE_ID_LINE) - 1):
            return _decoded_value(match.group(1)).decode("utf-8", "replace")
        at = lowered.find(_MESSAGE_ID_LINE, at + 1)  # "Message-IDs: ..." is another field
    return ""


def _decoded_value(value: bytes) -> bytes:
    """A field's value as read from a header: unfolded, blanks as :func:`_value` makes them."""
    return _value(_FOLD.sub(b"", value) if b"\n" in value else value)


def identity_from_headers(
    block: bytes | None, *, size: int | None, received: datetime | None = None, ref: str = ""
) -> MessageIdentity:
    """The identity of a message from its header block, size and received time."""
    message_id, hashed = message_id_and_hash(block)
    return MessageIdentity(message_id, size, hashed, received, ref)


def identity_from_imap(uid: int, item: Mapping[bytes, Any]) -> MessageIdentity:
    """The identity of one row of an IMAP FETCH of ``IMAP_IDENTITY_ITEMS``."""
    size = item.get(b"RFC822.SIZE")
    return identity_from_headers(
        header_block(item),
        size=int(size) if size is not None else None,
        received=item.get(b"INTERNALDATE"),
        ref=str(uid),
    )


def identity_from_ews(
    item_id: str, message_id: str | None, size: int | None, received: datetime | None
) -> MessageIdentity:
    """The identity of an EWS item from its InternetMessageId, size and received time."""
    if received is not None:  # exchangelib's EWSDateTime refuses astimezone(UTC): a plain one
        received = datetime.fromtimestamp(received.timestamp(), UTC)
    return MessageIdentity((message_id or "").strip(), size, "", received, item_id)


def list_imap_identities(client: Any, exists: int) -> list[MessageIdentity]:
    """Identities of every message of the folder the client has EXAMINEd (``exists`` messages
    when it did), in UID order."""
    data = fetch_listing(client, exists, IMAP_IDENTITY_ITEMS)
    return [identity_from_imap(uid, data[uid]) for uid in sorted(data)]


def fetch_listing(client: Any, exists: int, items: Sequence[str]) -> dict[int, Mapping[bytes, Any]]:
    """Body-less ``items`` of every message of the EXAMINEd folder, per UID: one FETCH of all
    when the folder is small, else a SEARCH and a FETCH per ``LIST_CHUNK`` UIDs."""
    wanted = " ".join(("UID", *items))
    if exists <= LIST_CHUNK:
        return dict(uid_fetch(client, "1:*", wanted)) if exists else {}
    return fetch_uids(client, sorted(int(u) for u in client.search("ALL")), items)


def fetch_uids(
    client: Any, uids: Sequence[int], items: Sequence[str]
) -> dict[int, Mapping[bytes, Any]]:
    """Body-less ``items`` of these messages of the EXAMINEd folder, per UID, a FETCH per
    ``LIST_CHUNK`` UIDs (expunged ones are missing)."""
    wanted = " ".join(("UID", *items))
    out: dict[int, Mapping[bytes, Any]] = {}
    for start in range(0, len(uids), LIST_CHUNK):
        out.update(uid_fetch(client, list(uids[start : start + LIST_CHUNK]), wanted))
    return out


def header_block(item: Mapping[bytes, Any]) -> bytes | None:
    """The header block of one FETCH row (the answer to a BODY.PEEK[HEADER.FIELDS ...])."""
    for key, value in item.items():
        if isinstance(key, bytes) and key.startswith(b"BODY[HEADER"):
            return bytes(value) if isinstance(value, (bytes, bytearray)) else None
    return None


__all__ = [
    "HEADER_ITEM",
    "EWS_RULE",
    "IMAP_IDENTITY_ITEMS",
    "IMAP_RULE",
    "IdentityMatch",
    "IdentityRule",
    "MessageIdentity",
    "header_block",
    "header_fields",
    "header_hash",
    "identity_from_ews",
    "identity_from_headers",
    "identity_from_imap",
    "identity_key",
    "fetch_listing",
    "fetch_uids",
    "list_imap_identities",
    "match_identities",
    "message_id_and_hash",
    "raw_message_id_and_hash",
]
