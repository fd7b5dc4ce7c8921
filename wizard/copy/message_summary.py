"""What a person recognises a message by in a verification: its date, sender and subject.

Read only for the messages a verification lists (missing, extra, duplicated), never for a whole
folder: on IMAP one FETCH of ``BODY.PEEK[HEADER.FIELDS (DATE FROM SUBJECT)]`` in an EXAMINEd
folder, on EWS the item's subject, sender and sent time. RFC 2047 encoded words are decoded
(an unknown charset or a broken word falls back to the text as written); whatever a header holds
comes back as one line of plain text, control and text-direction characters replaced, so a
screen or a terminal shows it literally (the screens never read it as markup).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.utils import parsedate_to_datetime
from typing import Any

from ..formatting import format_time
from ..forms import is_unsafe_char
from .identity import MessageIdentity, header_block, header_fields

SUMMARY_FIELDS = ("DATE", "FROM", "SUBJECT")
SUMMARY_ITEM = f"BODY.PEEK[HEADER.FIELDS ({' '.join(SUMMARY_FIELDS)})]"
MAX_TEXT = 200  # characters kept of a sender or subject; a header may be any length


@dataclass(frozen=True)
class MessageSummary:
    """One listed message as the operator and the customer can find it in their mail."""

    label: str  # the Message-ID, or how identity.py names a message without one
    date: str = ""  # ISO 8601: the Date header, else when the server received it; "" unknown
    sender: str = ""
    subject: str = ""

    def describe(self) -> str:
        """``1 Dec 2026, 14:05 · Anna Alt <anna@old.example> · Quarterly figures``."""
        parts = [
            format_time(self.date) if self.date else "no date",
            self.sender or "no sender",
            self.subject or "(no subject)",
        ]
        return " · ".join(parts)


def plain_header(raw: bytes | str | None) -> str:
    """A header value as one line of plain text: RFC 2047 words decoded, unsafe characters
    (controls, line breaks, text-direction marks) made spaces, cut at ``MAX_TEXT``."""
    if not raw:
        return ""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    text = "".join(" " if is_unsafe_char(c) else c for c in _decoded(text))
    text = " ".join(text.split())
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def _decoded(text: str) -> str:
    try:
        return str(make_header(decode_header(text)))
    except Exception:  # noqa: BLE001 - an unknown charset or a broken word: decoded piece by piece
        pass
    try:
        parts = decode_header(text)
    except Exception:  # noqa: BLE001 - a header nobody can parse is shown as written
        return text
    return " ".join(
        chunk if isinstance(chunk, str) else _bytes_text(chunk, charset) for chunk, charset in parts
    )


def _bytes_text(chunk: bytes, charset: str | None) -> str:
    try:
        return chunk.decode(charset or "utf-8", "replace")
    except LookupError:  # a charset Python does not know
        return chunk.decode("latin-1")


def header_date(raw: bytes | None) -> datetime | None:
    """The Date header as an aware datetime (UTC when it names no zone); None if unreadable."""
    if not raw:
        return None
    try:
        when = parsedate_to_datetime(raw.decode("ascii", "replace"))
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def summary_from_headers(identity: MessageIdentity, block: bytes | None) -> MessageSummary:
    """The summary of a message from a HEADER.FIELDS (DATE FROM SUBJECT) answer."""
    fields = header_fields(block)
    when = header_date(fields.get(b"date")) or identity.received
    return MessageSummary(
        label=plain_header(identity.label),
        date=when.isoformat() if when is not None else "",
        sender=plain_header(fields.get(b"from")),
        subject=plain_header(fields.get(b"subject")),
    )


def imap_summaries(client: Any, messages: Sequence[MessageIdentity]) -> list[MessageSummary]:
    """Summaries of ``messages`` (refs: UIDs) in the folder the client has EXAMINEd, in their
    order; one FETCH of three header fields, which never sets \\Seen."""
    uids = sorted({int(m.ref) for m in messages if m.ref.isdigit()})
    data = client.fetch(uids, [SUMMARY_ITEM]) if uids else {}
    return [
        summary_from_headers(m, header_block(data.get(int(m.ref), {})) if m.ref.isdigit() else None)
        for m in messages
    ]


def summary_from_ews(
    identity: MessageIdentity, subject: str | None, sender: Any, sent: datetime | None
) -> MessageSummary:
    """The summary of an EWS item from its subject, its From (or Sender) mailbox and sent time."""
    name = plain_header(getattr(sender, "name", None) or "")
    address = plain_header(getattr(sender, "email_address", None) or "")
    who = f"{name} <{address}>" if name and address else name or address
    when = sent if sent is not None else identity.received
    if when is not None:  # exchangelib's EWSDateTime: a plain one, in UTC
        when = datetime.fromtimestamp(when.timestamp(), UTC)
    return MessageSummary(
        label=plain_header(identity.label),
        date=when.isoformat() if when is not None else "",
        sender=who,
        subject=plain_header(subject),
    )


def summary_from_data(data: Mapping[str, Any] | str) -> MessageSummary:
    """A summary saved as evidence (older evidence holds the bare label)."""
    if isinstance(data, str):
        return MessageSummary(data)
    return MessageSummary(
        str(data.get("label", "")),
        str(data.get("date", "")),
        str(data.get("sender", "")),
        str(data.get("subject", "")),
    )


__all__ = [
    "SUMMARY_ITEM",
    "MessageSummary",
    "header_date",
    "imap_summaries",
    "plain_header",
    "summary_from_data",
    "summary_from_ews",
    "summary_from_headers",
]
