"""The stand-in's mailboxes: folders, items with their MIME bytes and extended MAPI properties.

Everything lives in memory behind one lock; ``MailboxStore.save``/``load`` keep a copy on disk
(one JSON file and the MIME bytes beside it, no passwords) so a demo can pick up where it
stopped.
Identifiers are opaque base64 strings, stable for the life of the item (and across a save/load).
"""

from __future__ import annotations

import base64
import contextlib
import email.parser
import email.policy
import email.utils
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

# PR_MESSAGE_FLAGS bits: read, and "unsent" (the item is a draft).
MSGFLAG_READ = 0x1
MSGFLAG_UNSENT = 0x8

PR_CLIENT_SUBMIT_TIME = 0x0039
PR_MESSAGE_DELIVERY_TIME = 0x0E06
PR_MESSAGE_FLAGS = 0x0E07
PR_MESSAGE_SIZE = 0x0E08
PR_FLAG_STATUS = 0x1090
PR_INTERNET_MESSAGE_ID = 0x1035
PR_MESSAGE_SIZE_EXTENDED = 0x0E08  # on a folder: the bytes of its messages (Long)
# Mailbox quotas in KB, readable on the root folders: storage limit, prohibit send, prohibit receive.
PR_STORAGE_QUOTA_LIMIT = 0x3FF5
PR_PROHIBIT_SEND_QUOTA = 0x666E
PR_PROHIBIT_RECEIVE_QUOTA = 0x666A
QUOTA_TAGS = (PR_STORAGE_QUOTA_LIMIT, PR_PROHIBIT_SEND_QUOTA, PR_PROHIBIT_RECEIVE_QUOTA)

# (distinguished id, display name, folder class, parent distinguished id) of every new mailbox.
DEFAULT_FOLDERS: tuple[tuple[str, str, str | None, str | None], ...] = (
    ("root", "root", None, None),
    ("msgfolderroot", "Top of Information Store", "IPF.Note", "root"),
    ("inbox", "Inbox", "IPF.Note", "msgfolderroot"),
    ("sentitems", "Sent Items", "IPF.Note", "msgfolderroot"),
    ("drafts", "Drafts", "IPF.Note", "msgfolderroot"),
    ("deleteditems", "Deleted Items", "IPF.Note", "msgfolderroot"),
    ("junkemail", "Junk Email", "IPF.Note", "msgfolderroot"),
    ("outbox", "Outbox", "IPF.Note", "msgfolderroot"),
    ("calendar", "Calendar", "IPF.Appointment", "msgfolderroot"),
    ("contacts", "Contacts", "IPF.Contact", "msgfolderroot"),
    ("tasks", "Tasks", "IPF.Task", "msgfolderroot"),
    ("notes", "Notes", "IPF.StickyNote", "msgfolderroot"),
    ("recoverableitemsroot", "Recoverable Items", None, "root"),
    ("recoverableitemsdeletions", "Deletions", None, "recoverableitemsroot"),
)
# Exchange 2016+ creates an "Archive" folder in every mailbox; EWS has no distinguished id for it.
ARCHIVE_FOLDER_NAME = "Archive"


def _encode_id(*parts: str) -> str:
    return base64.b64encode("\x1f".join(("ews-sandbox", *parts)).encode()).decode()


def decode_id(value: str) -> tuple[str, ...] | None:
    """The parts of an id made here, or None for anything else (a foreign or damaged id)."""
    try:
        text = base64.b64decode(value, validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    parts = tuple(text.split("\x1f"))
    if len(parts) < 2 or parts[0] != "ews-sandbox":
        return None
    return parts[1:]


@dataclass(frozen=True)
class PropertyKey:
    """An extended property as EWS names it: by tag, or by property set and name or numeric id."""

    tag: int | None = None
    property_set: str | None = None  # a distinguished set name or a GUID (lower case)
    name: str | None = None
    number: int | None = None

    @classmethod
    def from_attributes(cls, attrs: dict[str, str]) -> PropertyKey:
        tag = attrs.get("PropertyTag")
        if tag is not None:
            return cls(tag=int(tag, 16) if tag.lower().startswith("0x") else int(tag))
        pset = attrs.get("DistinguishedPropertySetId") or attrs.get("PropertySetId") or ""
        number = attrs.get("PropertyId")
        return cls(
            property_set=pset.lower(),
            name=attrs.get("PropertyName"),
            number=int(number) if number is not None else None,
        )


@dataclass(frozen=True)
class PropertyValue:
    """A stored extended property value, as the text EWS sent (a tuple for array types)."""

    property_type: str
    values: tuple[str, ...]
    is_array: bool = False

    @property
    def text(self) -> str:
        return self.values[0] if self.values else ""


@dataclass
class SandboxItem:
    item_id: str
    folder_id: str
    mime: bytes
    properties: dict[PropertyKey, PropertyValue]
    message_flags: int
    received: datetime
    sent: datetime | None
    created: datetime
    internet_message_id: str | None
    subject: str
    sender: str | None = None
    item_class: str = "IPM.Note"
    change: int = 1

    @property
    def is_read(self) -> bool:
        return bool(self.message_flags & MSGFLAG_READ)

    @property
    def is_draft(self) -> bool:
        return bool(self.message_flags & MSGFLAG_UNSENT)

    @property
    def size(self) -> int:
        return len(self.mime)

    @property
    def flag_status(self) -> int | None:
        """PR_FLAG_STATUS as written by the client (2 = flagged for follow-up), or None."""
        value = self.properties.get(PropertyKey(tag=PR_FLAG_STATUS))
        return int(value.text) if value and value.text else None

    def tagged(self, tag: int) -> str | None:
        """The text of a tagged MAPI property, stored or derived from the item (None if absent)."""
        derived = {
            PR_MESSAGE_FLAGS: str(self.message_flags),
            PR_MESSAGE_SIZE: str(self.size),
            PR_MESSAGE_DELIVERY_TIME: format_datetime(self.received),
            PR_CLIENT_SUBMIT_TIME: format_datetime(self.sent) if self.sent else None,
            PR_INTERNET_MESSAGE_ID: self.internet_message_id,
        }
        if tag in derived:
            return derived[tag]
        value = self.properties.get(PropertyKey(tag=tag))
        return value.text if value else None

    @property
    def change_key(self) -> str:
        return base64.b64encode(f"ck{self.change}".encode()).decode()


@dataclass
class SandboxFolder:
    folder_id: str
    name: str
    parent_id: str | None
    folder_class: str | None
    distinguished: str | None = None
    children: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    change: int = 1

    @property
    def change_key(self) -> str:
        return base64.b64encode(f"fk{self.change}".encode()).decode()


@dataclass
class SandboxMailbox:
    address: str
    display_name: str
    folders: dict[str, SandboxFolder] = field(default_factory=dict)
    items: dict[str, SandboxItem] = field(default_factory=dict)
    distinguished: dict[str, str] = field(default_factory=dict)
    serial: int = 0
    quota_bytes: int | None = None  # refuse items beyond it (ErrorQuotaExceeded); None: no limit

    def size(self) -> int:
        return sum(item.size for item in self.items.values())

    def next_id(self, kind: str) -> str:
        self.serial += 1
        return _encode_id(kind, self.address.lower(), str(self.serial))

    # -- inspection helpers for tests ---------------------------------------------------------

    def folder(self, path: str | tuple[str, ...]) -> SandboxFolder:
        """A folder by its path below the message folder root, e.g. "Inbox/Projekte/2024"."""
        parts = tuple(p for p in path.split("/") if p) if isinstance(path, str) else path
        current = self.folders[self.distinguished["msgfolderroot"]]
        for part in parts:
            current = next(
                (
                    self.folders[c]
                    for c in current.children
                    if self.folders[c].name.lower() == part.lower()
                ),
                None,
            ) or _missing(self.address, parts)
        return current

    def well_known(self, distinguished_id: str) -> SandboxFolder:
        return self.folders[self.distinguished[distinguished_id]]

    def folder_paths(self) -> list[str]:
        """Every folder below the message folder root as a "/"-joined path, depth first."""
        out: list[str] = []

        def walk(folder_id: str, prefix: str) -> None:
            for child in self.folders[folder_id].children:
                path = f"{prefix}{self.folders[child].name}"
                out.append(path)
                walk(child, path + "/")

        walk(self.distinguished["msgfolderroot"], "")
        return out

    def items_in(self, path: str | tuple[str, ...]) -> list[SandboxItem]:
        return [self.items[i] for i in self.folder(path).items]

    def subtree(self, folder_id: str) -> list[str]:
        out: list[str] = []
        for child in self.folders[folder_id].children:
            out.append(child)
            out.extend(self.subtree(child))
        return out


def _missing(address: str, parts: tuple[str, ...]) -> SandboxFolder:
    raise KeyError(f"{address}: no folder {'/'.join(parts)!r}")


def format_datetime(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_datetime(text: str) -> datetime:
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class MimeFacts:
    subject: str
    message_id: str | None
    date: datetime | None
    sender: str | None


def mime_facts(raw: bytes) -> MimeFacts:
    """Subject, Message-ID, Date and From from the MIME header (what Exchange shows for them)."""
    try:
        header = email.parser.BytesParser(policy=email.policy.default).parsebytes(
            raw, headersonly=True
        )
    except Exception:  # a broken header still makes an item, as on Exchange
        return MimeFacts("", None, None, None)

    def text(name: str) -> str | None:
        try:
            value = header.get(name)
        except Exception:
            return None
        return str(value).strip() if value is not None else None

    when = None
    date = text("Date")
    if date:
        with contextlib.suppress(TypeError, ValueError, IndexError):
            when = email.utils.parsedate_to_datetime(date)
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
    message_id = text("Message-ID")
    return MimeFacts(text("Subject") or "", message_id or None, when, text("From"))


class MailboxStore:
    """All mailboxes of one stand-in, with their logins, behind one re-entrant lock."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.mailboxes: dict[str, SandboxMailbox] = {}
        self.passwords: dict[str, str] = {}
        self.impersonators: set[str] = set()
        # login -> mailboxes it has full access to (delegate access, without impersonation)
        self.delegates: dict[str, set[str]] = {}
        self.version = 0  # counts changes, so a saver knows when there is something to save

    def add_mailbox(self, address: str, display_name: str | None = None) -> SandboxMailbox:
        key = address.lower()
        with self.lock:
            if key in self.mailboxes:
                return self.mailboxes[key]
            mailbox = SandboxMailbox(address=address, display_name=display_name or address)
            for distinguished, name, folder_class, parent in DEFAULT_FOLDERS:
                folder_id = mailbox.next_id("folder")
                parent_id = mailbox.distinguished[parent] if parent else None
                mailbox.folders[folder_id] = SandboxFolder(
                    folder_id, name, parent_id, folder_class, distinguished
                )
                mailbox.distinguished[distinguished] = folder_id
                if parent_id:
                    mailbox.folders[parent_id].children.append(folder_id)
            self.create_folder(mailbox, mailbox.distinguished["msgfolderroot"], ARCHIVE_FOLDER_NAME)
            self.mailboxes[key] = mailbox
            return mailbox

    def mailbox(self, address: str) -> SandboxMailbox | None:
        return self.mailboxes.get(address.lower())

    def create_folder(
        self,
        mailbox: SandboxMailbox,
        parent_id: str,
        name: str,
        folder_class: str | None = "IPF.Note",
    ) -> SandboxFolder:
        with self.lock:
            folder = SandboxFolder(mailbox.next_id("folder"), name, parent_id, folder_class)
            mailbox.folders[folder.folder_id] = folder
            parent = mailbox.folders[parent_id]
            parent.children.append(folder.folder_id)
            parent.change += 1
            return folder

    # -- persistence ----------------------------------------------------------------------------

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        mime_dir = directory / "mime"
        mime_dir.mkdir(exist_ok=True)
        with self.lock:
            # Logins stay out of the files: whoever starts the stand-in names them again.
            data = {
                "impersonators": sorted(self.impersonators),
                "mailboxes": [_mailbox_to_json(m, mime_dir) for m in self.mailboxes.values()],
            }
        tmp = directory / "mailboxes.json.tmp"
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        tmp.replace(directory / "mailboxes.json")

    def load(self, directory: Path) -> bool:
        path = directory / "mailboxes.json"
        if not path.exists():
            return False
        data = json.loads(path.read_text(encoding="utf-8"))
        with self.lock:
            self.impersonators.update(data["impersonators"])
            for entry in data["mailboxes"]:
                mailbox = _mailbox_from_json(entry, directory / "mime")
                self.mailboxes[mailbox.address.lower()] = mailbox
        return True


def _key_to_json(key: PropertyKey) -> list[object]:
    return [key.tag, key.property_set, key.name, key.number]


def _mailbox_to_json(mailbox: SandboxMailbox, mime_dir: Path) -> dict[str, object]:
    items = []
    for item in mailbox.items.values():
        name = base64.urlsafe_b64encode(item.item_id.encode()).decode() + ".eml"
        target = mime_dir / name
        if not target.exists():
            target.write_bytes(item.mime)
        items.append(
            {
                "id": item.item_id,
                "folder": item.folder_id,
                "mime": name,
                "properties": [
                    [_key_to_json(k), v.property_type, list(v.values), v.is_array]
                    for k, v in item.properties.items()
                ],
                "flags": item.message_flags,
                "received": format_datetime(item.received),
                "sent": format_datetime(item.sent) if item.sent else None,
                "created": format_datetime(item.created),
                "message_id": item.internet_message_id,
                "subject": item.subject,
                "sender": item.sender,
                "class": item.item_class,
                "change": item.change,
            }
        )
    return {
        "address": mailbox.address,
        "display_name": mailbox.display_name,
        "serial": mailbox.serial,
        "quota_bytes": mailbox.quota_bytes,
        "distinguished": mailbox.distinguished,
        "folders": [
            {
                "id": f.folder_id,
                "name": f.name,
                "parent": f.parent_id,
                "class": f.folder_class,
                "distinguished": f.distinguished,
                "children": f.children,
                "items": f.items,
                "change": f.change,
            }
            for f in mailbox.folders.values()
        ],
        "items": items,
    }


def _mailbox_from_json(data: dict, mime_dir: Path) -> SandboxMailbox:  # type: ignore[type-arg]
    mailbox = SandboxMailbox(
        address=data["address"],
        display_name=data["display_name"],
        distinguished=dict(data["distinguished"]),
        serial=data["serial"],
        quota_bytes=data.get("quota_bytes"),
    )
    for f in data["folders"]:
        mailbox.folders[f["id"]] = SandboxFolder(
            f["id"],
            f["name"],
            f["parent"],
            f["class"],
            f["distinguished"],
            list(f["children"]),
            list(f["items"]),
            f["change"],
        )
    for i in data["items"]:
        mailbox.items[i["id"]] = SandboxItem(
            item_id=i["id"],
            folder_id=i["folder"],
            mime=(mime_dir / i["mime"]).read_bytes(),
            properties={
                PropertyKey(*k): PropertyValue(t, tuple(v), a) for k, t, v, a in i["properties"]
            },
            message_flags=i["flags"],
            received=parse_datetime(i["received"]),
            sent=parse_datetime(i["sent"]) if i["sent"] else None,
            created=parse_datetime(i["created"]),
            internet_message_id=i["message_id"],
            subject=i["subject"],
            sender=i["sender"],
            item_class=i["class"],
            change=i["change"],
        )
    return mailbox
