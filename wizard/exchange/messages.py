"""Messages as Exchange stores them: raw MIME in, the MAPI properties set with it, batches planned.

``MimeMessage`` is one message to write (the exact source bytes, its flags and INTERNALDATE);
``WriteOutcome`` what became of it; ``StoredMessage`` a message read back. The MAPI properties
(read state, received and sent time, follow-up flag, draft bit) are registered once per process.
"""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import email.utils
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..formatting import format_bytes

MB = 1024 * 1024
DEFAULT_MAX_MESSAGE_MB = 48  # EWS requests are limited to about 64 MB; base64 grows MIME by 4/3

# MAPI properties set on every message written (see register_properties).
PR_CLIENT_SUBMIT_TIME = 0x0039
PR_MESSAGE_DELIVERY_TIME = 0x0E06
PR_MESSAGE_FLAGS = 0x0E07
PR_FLAG_STATUS = 0x1090
PR_MESSAGE_SIZE_EXTENDED = 0x0E08  # on a folder: the bytes of its messages
PR_PROHIBIT_SEND_QUOTA = 0x666E  # on the top of the store: the mailbox quota, KB
PR_STORAGE_QUOTA_LIMIT = 0x3FF5
MSGFLAG_READ = 0x1
MSGFLAG_UNSENT = 0x8
FLAG_STATUS_FLAGGED = 2


@dataclass(frozen=True)
class MimeMessage:
    """One message to write: the exact source bytes and what to set with them."""

    key: Any  # the caller's name for it (e.g. the source UID), returned in its outcome
    raw: bytes
    flags: tuple[str, ...] = ()
    internaldate: datetime | None = None  # the source's INTERNALDATE: the received time
    message_id: str = ""  # read from the headers when empty

    @property
    def seen(self) -> bool:
        return any(f.lower() == "\\seen" for f in self.flags)

    @property
    def draft(self) -> bool:
        return any(f.lower() == "\\draft" for f in self.flags)

    @property
    def flagged(self) -> bool:
        return any(f.lower() == "\\flagged" for f in self.flags)


@dataclass(frozen=True)
class WriteOutcome:
    key: Any
    ok: bool
    item_id: str = ""
    skipped: bool = False  # deliberately not written (too large); ``reason`` says why
    reason: str = ""
    code: str = ""  # the EWS response code of a refused item


@dataclass(frozen=True)
class StoredMessage:
    """A message as read back from Exchange."""

    item_id: str
    message_id: str
    mime: bytes
    is_read: bool
    is_draft: bool
    flagged: bool
    received: datetime | None
    sent: datetime | None
    size: int


@dataclass(frozen=True)
class WriteLimits:
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_MB * MB
    batch_bytes: int = 8 * MB  # MIME bytes per CreateItem request
    batch_count: int = 50  # messages per CreateItem request
    max_wait: float = 900.0  # seconds of throttling waits per request before giving up

    @classmethod
    def from_profile(cls, max_message_mb: int | None, **kw: Any) -> WriteLimits:
        return cls(max_message_bytes=int(max_message_mb or DEFAULT_MAX_MESSAGE_MB) * MB, **kw)


def _register(model: Any, properties: dict[str, tuple[int, str]]) -> None:
    """Register MAPI properties (name: (tag, type)) as extended fields of an exchangelib model."""
    from exchangelib import ExtendedProperty

    for name, (tag, kind) in properties.items():
        field = type(
            f"Extended_{name}", (ExtendedProperty,), {"property_tag": tag, "property_type": kind}
        )
        with contextlib.suppress(ValueError):  # registered already
            model.register(name, field)


_folders_registered = False


def register_folder_properties() -> None:
    """Folder MAPI properties read by ``check``: the folder's size, and on the top of the store
    the mailbox quotas (in KB), which is where EWS shows them (registered once per process)."""
    global _folders_registered
    if _folders_registered:
        return
    from exchangelib.folders import Folder

    _register(
        Folder,
        {
            "size_extended": (PR_MESSAGE_SIZE_EXTENDED, "Long"),
            "prohibit_send_quota": (PR_PROHIBIT_SEND_QUOTA, "Integer"),
            "storage_quota_limit": (PR_STORAGE_QUOTA_LIMIT, "Integer"),
        },
    )
    _folders_registered = True


_registered = False


def register_properties() -> None:
    """The MAPI properties the engine sets on messages (registered once per process)."""
    global _registered
    if _registered:
        return
    from exchangelib import Message

    _register(
        Message,
        {
            "delivery_time": (PR_MESSAGE_DELIVERY_TIME, "SystemTime"),
            "message_flags": (PR_MESSAGE_FLAGS, "Integer"),
            "client_submit_time": (PR_CLIENT_SUBMIT_TIME, "SystemTime"),
            "flag_status": (PR_FLAG_STATUS, "Integer"),
        },
    )
    _registered = True


def ews_time(when: datetime | None) -> Any:
    if when is None:
        return None
    from exchangelib import EWSDateTime

    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return EWSDateTime.from_datetime(when.astimezone(UTC).replace(tzinfo=UTC))


def _headers(raw: bytes) -> Any:
    end = raw.find(b"\r\n\r\n")
    if end < 0:
        end = raw.find(b"\n\n")
    head = raw if end < 0 else raw[:end]  # a slice of the head only: the body is never copied
    return email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(head)


def message_id_of(raw: bytes) -> str:
    """The Message-ID header of raw MIME (stripped), or ''."""
    value = _headers(raw).get("Message-ID") or ""
    return " ".join(str(value).split())


def sent_time_of(raw: bytes) -> datetime | None:
    """The Date header of raw MIME as an aware datetime, or None."""
    value = _headers(raw).get("Date")
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def message_flags(message: MimeMessage) -> int:
    """PR_MESSAGE_FLAGS at creation: read from \\Seen, unsent (a draft) only from \\Draft."""
    return (MSGFLAG_READ if message.seen else 0) | (MSGFLAG_UNSENT if message.draft else 0)


def plan_batches(
    messages: Sequence[MimeMessage], limits: WriteLimits
) -> tuple[list[list[MimeMessage]], list[WriteOutcome]]:
    """Split into batches by bytes and count; messages over the limit are skipped with the reason."""
    batches: list[list[MimeMessage]] = []
    skipped: list[WriteOutcome] = []
    current: list[MimeMessage] = []
    size = 0
    for message in messages:
        length = len(message.raw)
        if length > limits.max_message_bytes:
            skipped.append(
                WriteOutcome(
                    message.key,
                    False,
                    skipped=True,
                    code="too-large",
                    reason=(
                        f"{format_bytes(length)} is above the {format_bytes(limits.max_message_bytes)}"
                        " Exchange accepts in one request; copy it by hand (e.g. in Outlook)"
                    ),
                )
            )
            continue
        if current and (size + length > limits.batch_bytes or len(current) >= limits.batch_count):
            batches.append(current)
            current, size = [], 0
        current.append(message)
        size += length
    if current:
        batches.append(current)
    return batches, skipped


def outcome_of(message: MimeMessage, result: Any) -> WriteOutcome:
    """What CreateItem answered for one message, as its outcome."""
    if isinstance(result, Exception):
        code = type(result).__name__
        if code == "ErrorMessageSizeExceeded":
            return WriteOutcome(
                message.key,
                False,
                skipped=True,
                code=code,
                reason=f"Exchange refused it as too large ({result})",
            )
        if code == "ErrorQuotaExceeded":
            return WriteOutcome(
                message.key, False, code=code, reason=f"the mailbox is over its quota: {result}"
            )
        return WriteOutcome(
            message.key, False, code=code, reason=f"Exchange refused it: {code}: {result}"
        )
    item_id = getattr(result, "id", None) or (result[0] if isinstance(result, tuple) else "")
    return WriteOutcome(message.key, True, item_id=str(item_id or ""))
