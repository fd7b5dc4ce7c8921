"""One Exchange mailbox over EWS: does it exist, its folders, and writing messages from MIME.

``ExchangeMailbox`` wraps an exchangelib ``Account`` (one per thread: exchangelib objects are not
shared between threads here). Throttling is waited out by the engine itself, not by exchangelib,
so that every wait is reported as a ``Waiting`` event: ErrorServerBusy with its BackOffMilliseconds,
HTTP 503 (with Retry-After when given) and dropped connections are retried; a batch interrupted
after the server may have stored part of it is reconciled by Message-ID before the rest is sent
again. Per-item errors come back per item; nothing is dropped without an outcome.
"""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import email.utils
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from ..events import Event, EventSink, Failure, Progress, ignore
from ..formatting import format_bytes
from .connection import close_account, open_account
from .errors import ExchangeError, ExchangeFailure, FailureCode, classify
from .settings import ExchangeSettings

T = TypeVar("T")

MB = 1024 * 1024
DEFAULT_MAX_MESSAGE_MB = 48  # EWS requests are limited to about 64 MB; base64 grows MIME by 4/3
TRANSIENT_BACK_OFF = 1.0  # first wait after a 503 without Retry-After or a dropped connection
MAX_TRANSIENT_BACK_OFF = 30.0

# Special-use roles (wizard.imap.folders.Role values) and the mailbox's own folders for them.
ROLE_FOLDERS: dict[str, str] = {
    "inbox": "inbox",
    "sent": "sentitems",
    "drafts": "drafts",
    "trash": "deleteditems",
    "junk": "junkemail",
}
ARCHIVE_ROLE = "archive"
ARCHIVE_FOLDER_NAME = "Archive"  # Exchange 2016+ creates it; EWS has no distinguished id for it

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
class Waiting(Event):
    """The engine waits before retrying because Exchange asked it to (or the link dropped)."""

    seconds: float = 0.0
    reason: str = ""
    attempt: int = 0


@dataclass(frozen=True)
class FolderRef:
    """A folder of the mailbox: its path from the top of the store and its EWS id."""

    path: tuple[str, ...]
    folder_id: str
    role: str = ""  # a special-use role when it is the mailbox's own folder for it

    @property
    def display(self) -> str:
        return "/".join(self.path)


@dataclass(frozen=True)
class FolderInfo:
    path: tuple[str, ...]
    role: str
    total: int
    unread: int
    folder_class: str = ""
    size_bytes: int | None = None  # PR_MESSAGE_SIZE_EXTENDED, where the server gives it

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": "/".join(self.path),
            "role": self.role,
            "total": self.total,
            "unread": self.unread,
            "folder_class": self.folder_class,
            "size_bytes": self.size_bytes,
        }


@dataclass(frozen=True)
class MailboxCheck:
    """What step 4 learns of one target mailbox."""

    mailbox: str
    state: str  # "exists" | "missing" | "error"
    folders: tuple[FolderInfo, ...] = ()
    size_bytes: int | None = None  # where EWS exposes it (PR_MESSAGE_SIZE_EXTENDED of folders)
    quota_bytes: int | None = None  # where EWS exposes it (PR_PROHIBIT_SEND_QUOTA)
    failure: ExchangeFailure | None = None

    @property
    def exists(self) -> bool:
        return self.state == "exists"

    @property
    def message_count(self) -> int:
        return sum(f.total for f in self.folders)

    def as_dict(self) -> dict[str, Any]:
        return {
            "mailbox": self.mailbox,
            "state": self.state,
            "exists": self.exists,
            "folders": [f.as_dict() for f in self.folders],
            "folder_count": len(self.folders),
            "message_count": self.message_count,
            "size_bytes": self.size_bytes,
            "quota_bytes": self.quota_bytes,
            "failure": self.failure.as_dict() if self.failure else None,
        }


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


def _ews_time(when: datetime | None) -> Any:
    if when is None:
        return None
    from exchangelib import EWSDateTime

    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return EWSDateTime.from_datetime(when.astimezone(UTC).replace(tzinfo=UTC))


def _headers(raw: bytes) -> Any:
    head = raw.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in raw else raw.split(b"\n\n", 1)[0]
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


def _reporting_retry_policy() -> Any:
    """exchangelib's FailFast, but HTTP 503 keeps its Retry-After (FailFast drops it)."""
    from exchangelib.errors import ErrorInternalServerTransientError, ErrorServerBusy
    from exchangelib.protocol import FailFast

    class ReportingFailFast(FailFast):
        def raise_response_errors(self, response):  # type: ignore[no-untyped-def]
            try:
                return super().raise_response_errors(response)
            except (ErrorInternalServerTransientError, ErrorServerBusy) as exc:
                after = response.headers.get("Retry-After", "")
                seconds = float(after) if after.strip().isdigit() else TRANSIENT_BACK_OFF
                raise ErrorServerBusy(
                    f"HTTP {response.status_code}: {exc}", back_off=seconds
                ) from exc

    return ReportingFailFast()


def _tls_problem(exc: BaseException) -> bool:
    text = str(exc)
    return "Fingerprints did not match" in text or "CERTIFICATE_VERIFY_FAILED" in text


class ExchangeMailbox:
    """One target mailbox on Exchange. Raises ExchangeError for what stops the whole mailbox."""

    def __init__(
        self,
        account: Any,
        settings: ExchangeSettings,
        *,
        sink: EventSink = ignore,
        limits: WriteLimits | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.account = account
        self.settings = settings
        self.address = str(account.primary_smtp_address)
        self.sink = sink
        self.limits = limits or WriteLimits()
        self.sleep = sleep
        self._folders: dict[str, Any] = {}  # EWS folder id -> exchangelib folder
        self._paths: dict[tuple[str, ...], FolderRef] = {}  # casefolded path -> ref
        account.protocol.config.retry_policy = _reporting_retry_policy()
        account.protocol.TIMEOUT = settings.timeout  # seconds per request (exchangelib: 120)
        register_properties()

    @classmethod
    def open(
        cls,
        settings: ExchangeSettings,
        mailbox: str,
        password: str,
        *,
        sink: EventSink = ignore,
        limits: WriteLimits | None = None,
        connections: int = 2,
        check: bool = True,
    ) -> ExchangeMailbox:
        """Log in and open ``mailbox`` (its top of store is read, so a missing mailbox, denied
        impersonation or a refused login raise ExchangeError here)."""
        account = open_account(settings, mailbox, password, connections=connections, check=check)
        opened = cls(account, settings, sink=sink, limits=limits)
        try:
            opened._root()
        except ExchangeError:
            opened.close()
            raise
        return opened

    def close(self) -> None:
        close_account(self.account)

    def __enter__(self) -> ExchangeMailbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----- retrying ---------------------------------------------------------------------

    def _retry(
        self, what: str, call: Callable[[], T], *, on_interrupt: Callable[[], None] | None = None
    ) -> T:
        """Run ``call``; wait out throttling and transient failures, report each wait."""
        from exchangelib.errors import (
            ErrorServerBusy,
            ErrorTimeoutExpired,
            ErrorTooManyObjectsOpened,
            ResponseMessageError,
            TransportError,
        )

        waited, attempt, back_off = 0.0, 0, TRANSIENT_BACK_OFF
        while True:
            attempt += 1
            try:
                return call()
            except (ErrorServerBusy, ErrorTooManyObjectsOpened, ErrorTimeoutExpired) as exc:
                text = str(exc)
                dropped = isinstance(exc, ErrorTimeoutExpired) or "Reraised from" in text
                if dropped:
                    seconds, back_off = back_off, min(back_off * 2, MAX_TRANSIENT_BACK_OFF)
                    reason = f"the connection dropped during {what}; trying again"
                else:
                    seconds = float(getattr(exc, "back_off", 0) or back_off)
                    reason = f"Exchange is busy ({text}); it asked to wait before {what}"
                failure = exc
            except TransportError as exc:
                if isinstance(exc, ResponseMessageError) or _tls_problem(exc):
                    raise ExchangeError(classify(exc, self.settings, self.address)) from exc
                seconds, back_off = back_off, min(back_off * 2, MAX_TRANSIENT_BACK_OFF)
                reason, dropped, failure = f"the connection failed during {what}", True, exc
            except ExchangeError:
                raise
            except Exception as exc:  # noqa: BLE001 - classified for the operator
                raise ExchangeError(classify(exc, self.settings, self.address)) from exc
            if waited + seconds > self.limits.max_wait:
                raise ExchangeError(
                    classify(failure, self.settings, self.address),
                    {"waited_seconds": waited},
                ) from failure
            self.sink(Waiting(self.address, seconds=seconds, reason=reason, attempt=attempt))
            self.sleep(seconds)
            waited += seconds
            if dropped and on_interrupt is not None:
                on_interrupt()

    # ----- folders ----------------------------------------------------------------------

    def _root(self) -> Any:
        return self._retry("opening the mailbox", lambda: self.account.msg_folder_root)

    def _remember(self, folder: Any, path: tuple[str, ...], role: str = "") -> FolderRef:
        ref = FolderRef(path, str(folder.id), role)
        self._folders[ref.folder_id] = folder
        self._paths[tuple(p.casefold() for p in path)] = ref
        return ref

    def folder(self, ref: FolderRef) -> Any:
        """The exchangelib folder of a ref made by this mailbox."""
        return self._folders[ref.folder_id]

    def special_folder(self, role: str) -> FolderRef:
        """The mailbox's own folder for a special-use role (inbox, sent, drafts, trash, junk,
        archive), never a look-alike created beside it."""
        role = role.lower()
        if role == ARCHIVE_ROLE:
            ref = self.ensure_folder((ARCHIVE_FOLDER_NAME,))
            return FolderRef(ref.path, ref.folder_id, ARCHIVE_ROLE)
        distinguished = ROLE_FOLDERS.get(role)
        if distinguished is None:
            raise ValueError(f"{role!r} is not a special-use role with an Exchange folder")
        for known in self._paths.values():
            if known.role == role:
                return known
        folder = self._retry(
            f"opening the {role} folder", lambda: self._distinguished(distinguished)
        )
        return self._remember(folder, (str(folder.name),), role)

    def _distinguished(self, distinguished: str) -> Any:
        from exchangelib.folders import (
            DeletedItems,
            Drafts,
            Inbox,
            JunkEmail,
            SentItems,
        )

        classes = {
            "inbox": Inbox,
            "sentitems": SentItems,
            "drafts": Drafts,
            "deleteditems": DeletedItems,
            "junkemail": JunkEmail,
        }
        return self.account.root.get_default_folder(classes[distinguished])

    def _child(self, parent: Any, name: str) -> Any | None:
        wanted = name.casefold()

        def look() -> Any | None:
            for child in parent.children:
                if str(child.name).casefold() == wanted:
                    return child
            return None

        return self._retry(f"looking for the folder {name!r}", look)

    def ensure_folder(self, path: Sequence[str], role: str = "") -> FolderRef:
        """Find or create a folder path (any depth, any Unicode) under the top of the store.
        With a special-use ``role`` the mailbox's own folder is used instead of ``path``."""
        if role and (role.lower() in ROLE_FOLDERS or role.lower() == ARCHIVE_ROLE):
            return self.special_folder(role)
        parts = tuple(str(p) for p in path if str(p).strip())
        if not parts:
            raise ValueError("an empty folder path")
        key = tuple(p.casefold() for p in parts)
        if key in self._paths:
            return self._paths[key]
        from exchangelib import Folder

        parent = self._root()
        ref: FolderRef | None = None
        for cut in range(1, len(parts) + 1):
            known = self._paths.get(key[:cut])
            if known is not None:
                parent, ref = self._folders[known.folder_id], known
                continue
            name = parts[cut - 1]
            child = self._child(parent, name)
            if child is None:
                child = Folder(parent=parent, name=name, folder_class="IPF.Note")
                self._retry(f"creating the folder {'/'.join(parts[:cut])!r}", child.save)
            ref = self._remember(child, parts[:cut])
            parent = child
        assert ref is not None
        return ref

    def folders(self) -> list[FolderInfo]:
        """Every mail folder under the top of the store with its counts (one deep listing)."""
        return self._scan(sizes=False)[0]

    def _sizes(self, root: Any, listed: list[Any]) -> tuple[dict[str, int], int | None]:
        """Folder sizes and the mailbox quota (bytes) from their MAPI properties, one GetFolder;
        empty where the server does not give them."""
        from exchangelib.folders import FolderCollection

        register_folder_properties()

        def resolve() -> list[Any]:
            found = FolderCollection(account=self.account, folders=[root, *listed]).resolve()
            return [f for f in found if not isinstance(f, Exception)]

        sizes: dict[str, int] = {}
        quota: int | None = None
        for folder in self._retry("reading folder sizes", resolve):
            size = getattr(folder, "size_extended", None)
            if size is not None:
                sizes[str(folder.id)] = int(size)
            if str(folder.id) == str(root.id):
                kb = getattr(folder, "prohibit_send_quota", None) or getattr(
                    folder, "storage_quota_limit", None
                )
                quota = int(kb) * 1024 if kb else None
        return sizes, quota

    def _scan(self, *, sizes: bool) -> tuple[list[FolderInfo], int | None, int | None]:
        roles = {}
        for role in ROLE_FOLDERS:
            with contextlib.suppress(ExchangeError):
                roles[self.special_folder(role).folder_id] = role
        root = self._root()

        def walk() -> list[Any]:
            from exchangelib.folders import FolderCollection

            # A fresh deep FindFolder (Folder.walk() answers from exchangelib's folder cache).
            found = FolderCollection(account=self.account, folders=[root]).find_folders(
                depth="Deep"
            )
            return [f for f in found if not isinstance(f, Exception)]

        listed = self._retry("listing the folders", walk)
        folder_sizes, quota = self._sizes(root, listed) if sizes else ({}, None)
        by_id = {str(f.id): f for f in listed}
        root_id = str(root.id)
        out: list[FolderInfo] = []
        for folder in listed:
            path: list[str] = []
            node = folder
            while node is not None and str(node.id) != root_id:
                path.insert(0, str(node.name))
                parent_id = str(node.parent_folder_id.id) if node.parent_folder_id else ""
                node = by_id.get(parent_id)
            folder_class = str(getattr(folder, "folder_class", "") or "")
            if folder_class and not folder_class.startswith("IPF.Note"):
                continue  # calendars, contacts and tasks are not mail folders
            role = roles.get(str(folder.id), "")
            if not role and len(path) == 1 and path[0].casefold() == "archive":
                role = ARCHIVE_ROLE
            out.append(
                FolderInfo(
                    tuple(path),
                    role,
                    int(folder.total_count or 0),
                    int(folder.unread_count or 0),
                    folder_class,
                    folder_sizes.get(str(folder.id)),
                )
            )
        out.sort(key=lambda f: [p.casefold() for p in f.path])
        total = sum(folder_sizes.values()) if folder_sizes else None
        return out, total, quota

    def count(self, ref: FolderRef) -> int:
        folder = self.folder(ref)

        def total() -> int:
            from exchangelib.folders import FolderCollection

            (fresh,) = FolderCollection(account=self.account, folders=[folder]).resolve()
            if isinstance(fresh, Exception):
                raise fresh
            return int(fresh.total_count or 0)

        return self._retry(f"counting {ref.display}", total)

    def check(self) -> MailboxCheck:
        """Folders with counts, and the size and quota where the server exposes them."""
        folders, size, quota = self._scan(sizes=True)
        return MailboxCheck(self.address, "exists", tuple(folders), size, quota)

    # ----- messages ---------------------------------------------------------------------

    def find_by_message_id(
        self, ref: FolderRef, message_ids: Iterable[str]
    ) -> dict[str, list[str]]:
        """Item ids of the folder's messages with each Internet Message-ID ([] when none)."""
        folder = self.folder(ref)
        wanted = [m for m in dict.fromkeys(message_ids) if m]
        found: dict[str, list[str]] = {m: [] for m in wanted}
        for start in range(0, len(wanted), 50):
            chunk = wanted[start : start + 50]

            def look(chunk: list[str] = chunk) -> list[tuple[str, str]]:
                return list(folder.filter(message_id__in=chunk).values_list("id", "message_id"))

            for item_id, message_id in self._retry(f"looking up messages in {ref.display}", look):
                found.setdefault(str(message_id), []).append(str(item_id))
        return found

    def find_by_received(self, ref: FolderRef, when: datetime) -> list[str]:
        """Item ids of the folder's messages received at ``when`` (for messages without an id)."""
        folder = self.folder(ref)
        stamp = _ews_time(when)

        def look() -> list[str]:
            return [
                str(i) for i in folder.filter(datetime_received=stamp).values_list("id", flat=True)
            ]

        return self._retry(f"looking up messages in {ref.display}", look)

    def message_ids(self, ref: FolderRef) -> list[str]:
        """The Internet Message-ID of every message in the folder ("" for those without one)."""
        folder = self.folder(ref)

        def read() -> list[str]:
            return [str(m or "") for m in folder.all().values_list("message_id", flat=True)]

        return self._retry(f"listing {ref.display}", read)

    def set_read(self, ref: FolderRef, changes: Sequence[tuple[str, bool]]) -> int:
        """Mark items (by item id) read or unread; returns how many Exchange applied."""
        from exchangelib import Message

        if not changes:
            return 0
        items = []
        for item_id, read in changes:
            item = Message(account=self.account, id=item_id)
            item.is_read = read
            items.append((item, ["is_read"]))

        def update() -> list[Any]:
            return list(self.account.bulk_update(items=items))

        results = self._retry(f"updating read state in {ref.display}", update)
        return sum(1 for r in results if not isinstance(r, Exception))

    def read_messages(self, ref: FolderRef) -> list[StoredMessage]:
        """Every message of the folder with its MIME and state (for verification and tests)."""
        folder = self.folder(ref)
        fields = (
            "id",
            "message_id",
            "mime_content",
            "is_read",
            "message_flags",
            "flag_status",
            "delivery_time",
            "client_submit_time",
            "size",
        )

        def read() -> list[Any]:
            return list(folder.all().only(*fields))

        out = []
        for item in self._retry(f"reading {ref.display}", read):
            flags = int(getattr(item, "message_flags", 0) or 0)
            out.append(
                StoredMessage(
                    item_id=str(item.id),
                    message_id=str(item.message_id or ""),
                    mime=bytes(item.mime_content or b""),
                    is_read=bool(item.is_read),
                    is_draft=bool(flags & MSGFLAG_UNSENT),
                    flagged=int(getattr(item, "flag_status", 0) or 0) == FLAG_STATUS_FLAGGED,
                    received=getattr(item, "delivery_time", None),
                    sent=getattr(item, "client_submit_time", None),
                    size=int(item.size or 0),
                )
            )
        return out

    def _item(self, folder: Any, message: MimeMessage) -> Any:
        from exchangelib import Message

        item = Message(
            account=self.account,
            folder=folder,
            mime_content=message.raw,
            is_read=message.seen,
        )
        item.message_flags = message_flags(message)
        received = message.internaldate
        sent = sent_time_of(message.raw) or received
        if received is not None:
            item.delivery_time = _ews_time(received)
        if sent is not None:
            item.client_submit_time = _ews_time(sent)
        if message.flagged:
            item.flag_status = FLAG_STATUS_FLAGGED
        return item

    def write(
        self, ref: FolderRef, messages: Sequence[MimeMessage], *, done_before: int = 0
    ) -> list[WriteOutcome]:
        """Write messages into a folder from their raw MIME (CreateItem, SaveOnly, in batches
        sized by bytes and count). One outcome per message, in the input order."""
        batches, skipped = plan_batches(messages, self.limits)
        outcomes: dict[int, WriteOutcome] = {}
        for outcome in skipped:
            self.sink(
                Failure(
                    self.address,
                    reason=outcome.reason,
                    code=outcome.code,
                    detail={"key": outcome.key},
                )
            )
        skipped_keys = {id(m) for m in messages if len(m.raw) > self.limits.max_message_bytes}
        index = {id(m): i for i, m in enumerate(messages)}
        for i, message in enumerate(messages):
            if id(message) in skipped_keys:
                outcomes[i] = next(o for o in skipped if o.key == message.key)
        total = len(messages)
        bytes_total = sum(len(m.raw) for m in messages)
        done = len(skipped)
        bytes_done = 0
        for batch in batches:
            for message, outcome in zip(batch, self._write_batch(ref, batch), strict=True):
                outcomes[index[id(message)]] = outcome
                if not outcome.ok:
                    self.sink(
                        Failure(
                            self.address,
                            reason=outcome.reason,
                            code=outcome.code,
                            detail={"key": outcome.key, "folder": ref.display},
                        )
                    )
            done += len(batch)
            bytes_done += sum(len(m.raw) for m in batch)
            self.sink(
                Progress(
                    self.address,
                    done=done_before + done,
                    total=done_before + total,
                    bytes_done=bytes_done,
                    bytes_total=bytes_total,
                    detail=ref.display,
                )
            )
        return [outcomes[i] for i in range(total)]

    def _write_batch(self, ref: FolderRef, batch: list[MimeMessage]) -> list[WriteOutcome]:
        """One CreateItem request per attempt; what the server answered for stays answered."""
        from exchangelib.services import CreateItem

        folder = self.folder(ref)
        results: dict[int, WriteOutcome] = {}
        pending = list(range(len(batch)))

        def send() -> None:
            # What bulk_create(SaveOnly) sends, consumed item by item so that answers received
            # before a mid-response error are kept.
            items = [self._item(folder, batch[i]) for i in pending]
            service = CreateItem(account=self.account, chunk_size=len(items))
            answered = 0
            for result in service.call(
                folder=folder,
                items=items,
                message_disposition="SaveOnly",
                send_meeting_invitations="SendToNone",
            ):
                i = pending[answered]
                results[i] = self._outcome(batch[i], result)
                answered += 1
            del pending[:answered]
            if pending:
                raise ExchangeError(
                    ExchangeFailure(
                        FailureCode.PROTOCOL,
                        self.settings.host,
                        f"{self.settings.host} answered {answered} of {answered + len(pending)} "
                        f"messages written to {ref.display} in {self.address}",
                        mailbox=self.address,
                    )
                )

        def send_rest() -> None:
            try:
                send()
            except BaseException:
                # Keep answers that arrived; the rest is sent again on the next attempt.
                done = [i for i in pending if i in results]
                for i in done:
                    pending.remove(i)
                raise

        def reconcile() -> None:
            # The request may have been stored before the link dropped: do not write twice.
            ids = {i: batch[i].message_id or message_id_of(batch[i].raw) for i in pending}
            found = self.find_by_message_id(ref, [m for m in ids.values() if m])
            for i, mid in ids.items():
                if mid and found.get(mid):
                    results[i] = WriteOutcome(batch[i].key, True, item_id=found[mid][0])
            pending[:] = [i for i in pending if i not in results]

        def attempt() -> None:
            if pending:
                send_rest()

        self._retry(f"writing to {ref.display}", attempt, on_interrupt=reconcile)
        return [results[i] for i in range(len(batch))]

    @staticmethod
    def _outcome(message: MimeMessage, result: Any) -> WriteOutcome:
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
            return WriteOutcome(
                message.key, False, code=code, reason=f"Exchange refused it: {code}: {result}"
            )
        item_id = getattr(result, "id", None) or (result[0] if isinstance(result, tuple) else "")
        return WriteOutcome(message.key, True, item_id=str(item_id or ""))


def check_mailbox(
    settings: ExchangeSettings, mailbox: str, password: str, *, check_transport: bool = True
) -> MailboxCheck:
    """Does ``mailbox`` exist and open; its folders with counts. A missing mailbox or a refusal
    is a result (state "missing"/"error" with the classified failure), never an exception."""
    try:
        with ExchangeMailbox.open(settings, mailbox, password, check=check_transport) as opened:
            return opened.check()
    except ExchangeError as exc:
        state = "missing" if exc.failure.code is FailureCode.MAILBOX_MISSING else "error"
        return MailboxCheck(mailbox, state, failure=exc.failure)


__all__ = [
    "ExchangeMailbox",
    "FolderInfo",
    "FolderRef",
    "MailboxCheck",
    "MimeMessage",
    "StoredMessage",
    "Waiting",
    "WriteLimits",
    "WriteOutcome",
    "check_mailbox",
    "message_flags",
    "message_id_of",
    "plan_batches",
    "register_properties",
    "sent_time_of",
]
