"""How the EWS stand-in reads and writes item and folder properties.

The shape a client asks for (``ItemShape``), the value of a field URI on an item or a folder, MAPI
extended properties (stored, tagged, the folder size and quotas), UpdateItem's field changes, and a
plain MIME message for items created without MimeContent.
"""

from __future__ import annotations

import email.utils
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree

from .model import (
    MSGFLAG_READ,
    PR_CLIENT_SUBMIT_TIME,
    PR_MESSAGE_DELIVERY_TIME,
    PR_MESSAGE_FLAGS,
    PR_MESSAGE_SIZE_EXTENDED,
    QUOTA_TAGS,
    PropertyKey,
    PropertyValue,
    SandboxFolder,
    SandboxItem,
    SandboxMailbox,
    format_datetime,
    parse_datetime,
)
from .soap import EwsError, parse_bool, t, text_bool


@dataclass(frozen=True)
class ItemShape:
    base: str
    include_mime: bool
    fields: tuple[str, ...]
    extended: tuple[dict[str, str], ...]

    @classmethod
    def parse(cls, elem: etree._Element | None) -> ItemShape:
        if elem is None:
            return cls("IdOnly", False, (), ())
        base = (elem.findtext(t("BaseShape")) or "IdOnly").strip()
        include_mime = parse_bool(elem.findtext(t("IncludeMimeContent")))
        fields: list[str] = []
        extended: list[dict[str, str]] = []
        extra = elem.find(t("AdditionalProperties"))
        if extra is not None:
            for path in extra:
                name = etree.QName(path).localname
                if name == "FieldURI":
                    fields.append(path.get("FieldURI", ""))
                elif name == "ExtendedFieldURI":
                    extended.append(dict(path.attrib))
        if "item:MimeContent" in fields:
            include_mime = True
        return cls(base, include_mime, tuple(fields), tuple(extended))


# Item fields written as one text element each, in the order of the EWS schema.
PLAIN_ITEM_FIELDS = (
    "item:ItemClass",
    "item:Subject",
    "item:DateTimeReceived",
    "item:Size",
    "item:IsDraft",
    "item:DateTimeSent",
    "item:DateTimeCreated",
    "item:HasAttachments",
)

DEFAULT_ITEM_FIELDS = (
    "item:ParentFolderId",
    *PLAIN_ITEM_FIELDS,
    "message:Sender",
    "message:From",
    "message:InternetMessageId",
    "message:IsRead",
)


def parse_int(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError as exc:
        raise EwsError("ErrorInvalidValueForProperty", f"{text!r} is not an integer.") from exc


def parse_time(text: str) -> datetime:
    try:
        return parse_datetime(text)
    except ValueError as exc:
        raise EwsError("ErrorInvalidValueForProperty", f"{text!r} is not a date-time.") from exc


def synthesize_mime(elem: etree._Element) -> bytes:
    """A plain-text MIME message from Subject and Body, for items created without MimeContent."""
    subject = elem.findtext(t("Subject")) or ""
    body = elem.findtext(t("Body")) or ""
    lines = [
        f"Subject: {subject}",
        f"Date: {email.utils.format_datetime(datetime.now(UTC))}",
        f"Message-ID: {email.utils.make_msgid(domain='ews-sandbox.localhost')}",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "",
        body,
    ]
    return "\r\n".join(lines).encode("utf-8")


def extended_properties(elem: etree._Element) -> dict[PropertyKey, PropertyValue]:
    out: dict[PropertyKey, PropertyValue] = {}
    for prop in elem.findall(t("ExtendedProperty")):
        uri = prop.find(t("ExtendedFieldURI"))
        if uri is None:
            continue
        try:
            key = PropertyKey.from_attributes(dict(uri.attrib))
        except ValueError as exc:
            raise EwsError("ErrorInvalidExtendedProperty", str(exc)) from exc
        kind = uri.get("PropertyType", "String")
        values = prop.find(t("Values"))
        if values is not None:
            out[key] = PropertyValue(kind, tuple(v.text or "" for v in values), True)
        else:
            out[key] = PropertyValue(kind, (prop.findtext(t("Value")) or "",))
    return out


def extended_value(item: SandboxItem, attrs: dict[str, str]) -> PropertyValue | None:
    try:
        key = PropertyKey.from_attributes(attrs)
    except ValueError:
        return None
    if key.tag is not None:
        text = item.tagged(key.tag)
        if text is None:
            stored = item.properties.get(key)
            return stored
        stored = item.properties.get(key)
        if stored is not None:
            return stored
        return PropertyValue(attrs.get("PropertyType", "String"), (text,))
    return item.properties.get(key)


def folder_property(
    mailbox: SandboxMailbox, folder: SandboxFolder, attrs: dict[str, str]
) -> str | None:
    """Folder MAPI properties a client may read: the folder's size, the mailbox quotas (KB)."""
    try:
        key = PropertyKey.from_attributes(attrs)
    except ValueError:
        return None
    if key.tag == PR_MESSAGE_SIZE_EXTENDED:
        return str(sum(mailbox.items[i].size for i in folder.items))
    quota_holder = folder.distinguished in ("root", "msgfolderroot")
    if key.tag in QUOTA_TAGS and quota_holder and mailbox.quota_bytes is not None:
        return str(mailbox.quota_bytes // 1024)
    return None


def apply_update(item: SandboxItem, update: etree._Element) -> None:
    kind = etree.QName(update).localname
    path = update[0] if len(update) else None
    if path is None:
        return
    path_name = etree.QName(path).localname
    if path_name == "ExtendedFieldURI":
        key = PropertyKey.from_attributes(dict(path.attrib))
        if kind == "DeleteItemField":
            item.properties.pop(key, None)
            return
        holder = update[1] if len(update) > 1 else None
        if holder is None:
            return
        props = extended_properties(holder)
        value = props.get(key)
        if value is None:
            return
        if key.tag == PR_MESSAGE_FLAGS:
            item.message_flags = parse_int(value.text)
        elif key.tag == PR_MESSAGE_DELIVERY_TIME:
            item.received = parse_time(value.text)
        elif key.tag == PR_CLIENT_SUBMIT_TIME:
            item.sent = parse_time(value.text)
        else:
            item.properties[key] = value
        return
    uri = path.get("FieldURI", "")
    if uri == "message:IsRead" and kind == "SetItemField" and len(update) > 1:
        read = parse_bool(update[1].findtext(t("IsRead")))
        item.message_flags = (
            item.message_flags | MSGFLAG_READ if read else item.message_flags & ~MSGFLAG_READ
        )


def item_value(item: SandboxItem, uri: str) -> str | None:
    if uri.startswith("ext:"):
        return item.tagged(int(uri[4:]))
    values: dict[str, Callable[[], str | None]] = {
        "item:ItemClass": lambda: item.item_class,
        "item:Subject": lambda: item.subject,
        "item:DateTimeReceived": lambda: format_datetime(item.received),
        "item:Size": lambda: str(item.size),
        "item:IsDraft": lambda: text_bool(item.is_draft),
        "item:DateTimeSent": lambda: format_datetime(item.sent) if item.sent else None,
        "item:DateTimeCreated": lambda: format_datetime(item.created),
        "item:LastModifiedTime": lambda: format_datetime(item.created),
        "item:HasAttachments": lambda: text_bool(
            b"content-disposition: attachment" in item.mime[:200_000].lower()
        ),
        "message:InternetMessageId": lambda: item.internet_message_id,
        "message:IsRead": lambda: text_bool(item.is_read),
        "item:ItemId": lambda: item.item_id,
    }
    getter = values.get(uri)
    return getter() if getter else None


def folder_value(mailbox: SandboxMailbox, folder: SandboxFolder, uri: str) -> str | None:
    values: dict[str, Callable[[], str | None]] = {
        "folder:DisplayName": lambda: folder.name,
        "folder:FolderClass": lambda: folder.folder_class,
        "folder:TotalCount": lambda: str(len(folder.items)),
        "folder:ChildFolderCount": lambda: str(len(folder.children)),
    }
    getter = values.get(uri)
    return getter() if getter else None
