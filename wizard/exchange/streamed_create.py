"""CreateItem with each message's MIME streamed into the request body, base64-encoded as it is sent.

exchangelib builds a request as one XML tree: a message's MIME becomes a base64 ``str``, then the
text of an lxml element, then part of the serialised envelope; a 40 MB message is held four or five
times over (about 250 MB at the peak), and serialising its Message model costs more CPU than the
server's work on the stand-in. Here exchangelib's own CreateItem service still sends the request
through its session (auth, impersonation, version and time-zone headers) and parses the answer;
two of its public steps are replaced:

- ``get_payload`` builds each ``t:Message`` directly, element for element what exchangelib writes
  for a new Message with the MAPI properties of wizard.exchange.messages (tests/sandbox compares
  the two), with a short placeholder as its MimeContent;
- ``wrap`` (payload to request body) hands over a ``MimeStreamBody``: the envelope's bytes around
  the base64 of each message, encoded slice by slice while the request is sent.

The message bytes are held once, plus one slice.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from typing import Any

from .messages import (
    FLAG_STATUS_FLAGGED,
    PR_CLIENT_SUBMIT_TIME,
    PR_FLAG_STATUS,
    PR_MESSAGE_DELIVERY_TIME,
    PR_MESSAGE_FLAGS,
    MimeMessage,
    ews_time,
    message_flags,
    sent_time_of,
)

SLICE = 3 * 256 * 1024  # MIME bytes per encoded slice: a multiple of 3, so slices join seamlessly


def placeholder(n: int) -> bytes:
    """A stand-in for message ``n``'s MIME while the envelope is built: unique, and 24 bytes (a
    multiple of 3) so that its base64 has no padding and cannot run into its neighbours."""
    return f"onboard-mime-{n:06d}-{secrets.token_hex(2)}".encode()


def encoded_length(size: int) -> int:
    """Length of the base64 of ``size`` bytes (with padding, no line breaks)."""
    return 4 * ((size + 2) // 3)


class MimeStreamBody:
    """A request body of envelope bytes and messages base64-encoded on the fly. It has an exact
    length (the request carries a Content-Length) and can be iterated again (an NTLM handshake
    sends the request twice)."""

    def __init__(self, parts: Sequence[bytes | memoryview]) -> None:
        self.parts = tuple(parts)  # envelope parts are bytes; a message's MIME is a memoryview

    def __len__(self) -> int:
        return sum(
            encoded_length(len(p)) if isinstance(p, memoryview) else len(p) for p in self.parts
        )

    def __iter__(self) -> Iterator[bytes]:
        for part in self.parts:
            if isinstance(part, memoryview):
                for start in range(0, len(part), SLICE):
                    yield base64.b64encode(part[start : start + SLICE])
            elif part:
                yield part

    def __repr__(self) -> str:  # exchangelib logs the request body on errors: not 40 MB of it
        return f"<CreateItem body, {len(self)} bytes>"

    @classmethod
    def splice(cls, envelope: bytes, mime: Mapping[bytes, bytes]) -> MimeStreamBody:
        """The envelope with each placeholder (by its base64, a key of ``mime``) replaced by its
        message's MIME, to be encoded as it is sent. Each placeholder must be there once."""
        parts: list[bytes | memoryview] = []
        at = 0
        for position, token in sorted((envelope.find(token), token) for token in mime):
            if position < 0 or envelope.count(token) != 1:
                raise ValueError(
                    "a message's MIME placeholder is not in the CreateItem request once"
                )
            parts += [envelope[at:position], memoryview(mime[token])]
            at = position + len(token)
        parts.append(envelope[at:])
        return cls(parts)


def message_element(message: MimeMessage, mime_text: str) -> Any:
    """The ``t:Message`` exchangelib writes for ``message`` (MimeContent ``mime_text``): the
    defaults of a new Message, the MAPI properties (flag, sent and received time, flags), IsRead."""
    from exchangelib.util import create_element

    def child(parent: Any, name: str, text: str) -> Any:
        elem = create_element(name)
        elem.text = text
        parent.append(elem)
        return elem

    def extended(tag: int, kind: str, value: str) -> None:
        prop = create_element("t:ExtendedProperty")
        prop.append(
            create_element(
                "t:ExtendedFieldURI", attrs={"PropertyTag": hex(tag), "PropertyType": kind}
            )
        )
        child(prop, "t:Value", value)
        elem.append(prop)

    elem = create_element("t:Message")
    child(elem, "t:MimeContent", mime_text)
    for name, default in _MESSAGE_DEFAULTS:
        child(elem, name, default)
    received = message.internaldate
    sent = sent_time_of(message.raw) or received
    if message.flagged:
        extended(PR_FLAG_STATUS, "Integer", str(FLAG_STATUS_FLAGGED))
    if sent is not None:
        extended(PR_CLIENT_SUBMIT_TIME, "SystemTime", ews_time(sent).ewsformat())
    extended(PR_MESSAGE_FLAGS, "Integer", str(message_flags(message)))
    if received is not None:
        extended(PR_MESSAGE_DELIVERY_TIME, "SystemTime", ews_time(received).ewsformat())
    for name, default in _RECEIPT_DEFAULTS:
        child(elem, name, default)
    child(elem, "t:IsRead", str(int(message.seen)))  # xs:boolean as exchangelib writes it
    child(elem, "t:IsResponseRequested", "0")
    return elem


# What exchangelib writes for every new Message, around its extended properties.
_MESSAGE_DEFAULTS = (
    ("t:Sensitivity", "Normal"),
    ("t:Importance", "Normal"),
    ("t:ReminderIsSet", "0"),
    ("t:ReminderMinutesBeforeStart", "0"),
)
_RECEIPT_DEFAULTS = (("t:IsReadReceiptRequested", "0"), ("t:IsDeliveryReceiptRequested", "0"))


def streamed_create_item(account: Any, messages: Sequence[MimeMessage]) -> Any:
    """An exchangelib CreateItem service for ``messages`` in one request, their MIME streamed;
    call it with ``items=messages``."""
    return _service_class()(account=account, chunk_size=max(1, len(messages)), messages=messages)


@cache
def _service_class() -> type:
    from exchangelib.errors import ErrorQuotaExceeded
    from exchangelib.services import CreateItem  # loaded with the first message written
    from exchangelib.services.common import folder_ids_element
    from exchangelib.util import create_element

    class StreamedCreateItem(CreateItem):  # type: ignore[misc]
        """CreateItem with the messages built directly and their MIME streamed."""

        # A full mailbox refuses items one by one, as Exchange answers it: exchangelib would
        # raise for the whole request instead, and the answers for the other items be lost.
        ERRORS_TO_CATCH_IN_RESPONSE = (*CreateItem.ERRORS_TO_CATCH_IN_RESPONSE, ErrorQuotaExceeded)

        def __init__(self, *args: Any, messages: Sequence[MimeMessage], **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            # One request for all of them (chunk_size), so get_payload sees them in this order.
            self.tokens = [base64.b64encode(placeholder(n)) for n in range(len(messages))]
            self.mime = {t: m.raw for m, t in zip(messages, self.tokens, strict=True)}

        def get_payload(
            self,
            items: Sequence[MimeMessage],
            folder: Any,
            message_disposition: str,
            send_meeting_invitations: str,
        ) -> Any:
            payload = create_element(
                "m:CreateItem",
                attrs={
                    "MessageDisposition": message_disposition,
                    "SendMeetingInvitations": send_meeting_invitations,
                },
            )
            version = self.account.version
            payload.append(folder_ids_element([folder], version, tag="m:SavedItemFolderId"))
            elems = create_element("m:Items")
            for message, token in zip(items, self.tokens, strict=True):
                elems.append(message_element(message, token.decode("ascii")))
            payload.append(elems)
            return payload

        def wrap(self, content: Any, api_version: Any = None) -> MimeStreamBody:
            envelope = super().wrap(content, api_version=api_version)
            return MimeStreamBody.splice(envelope, self.mime)

    return StreamedCreateItem


__all__ = [
    "MimeStreamBody",
    "encoded_length",
    "message_element",
    "placeholder",
    "streamed_create_item",
]
