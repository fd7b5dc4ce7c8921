"""One Exchange mailbox over EWS: does it exist, its folders, and writing messages from MIME.

``ExchangeMailbox`` wraps an exchangelib ``Account`` (one per thread: exchangelib objects are not
shared between threads here). Failures are retried under the one retry policy (wizard.retry, with
Exchange's failures told apart in ``retrying.py``), never by exchangelib, so that every wait is
reported as a ``Waiting`` event. On its own (checks, verification) a mailbox waits out throttling
for up to ``WriteLimits.max_wait`` and tries again a few times after a drop or a timeout (a check
once); in a copy it is opened with ``NO_RETRY`` and the copy engine's retry, the only one, takes
over. A standalone ``write`` interrupted after the server may have stored part of a batch is
reconciled by Message-ID before the rest is sent again, and after a request Exchange did not
answer in time, what was not found is looked for again once it had time to land. Per-item errors
come back per item; nothing is dropped without an outcome.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

from ..events import EventSink, Failure, Progress, ignore
from ..retry import (
    LANDING_SECONDS,
    Retryable,
    RetryCancelled,
    RetryPolicy,
    Wait,
    Waiting,
    retry_call,
)
from .connection import close_account, open_account
from .errors import ExchangeError, ExchangeFailure, FailureCode, classify
from .folders import (
    ARCHIVE_FOLDER_NAME,
    ARCHIVE_ROLE,
    ROLE_FOLDERS,
    FolderInfo,
    FolderRef,
    MailboxCheck,
)
from .messages import (
    FLAG_STATUS_FLAGGED,
    MSGFLAG_UNSENT,
    MimeMessage,
    StoredMessage,
    WriteLimits,
    WriteOutcome,
    ews_time,
    message_flags,
    message_id_of,
    outcome_of,
    plan_batches,
    register_folder_properties,
    register_properties,
    sent_time_of,
)
from .retrying import (
    CHECK_RETRIES,
    exchange_policy,
    exchange_retryable,
    reporting_retry_policy,
)
from .settings import ExchangeSettings
from .streamed_create import streamed_create_item

T = TypeVar("T")


class ExchangeMailbox:
    """One target mailbox on Exchange. Raises ExchangeError for what stops the whole mailbox."""

    def __init__(
        self,
        account: Any,
        settings: ExchangeSettings,
        *,
        sink: EventSink = ignore,
        limits: WriteLimits | None = None,
        sleep: Callable[[float], bool | None] = time.sleep,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.account = account
        self.settings = settings
        self.address = str(account.primary_smtp_address)
        self.sink = sink
        self.limits = limits or WriteLimits()
        self.sleep = sleep
        self.retry = retry  # None: wait as long as limits.max_wait allows (see exchange_policy)
        # After a request Exchange did not answer in time, how long what it was sent may still
        # be being stored before a lookup can tell "not there" from "not there yet".
        self.landing_seconds = LANDING_SECONDS
        self._folders: dict[str, Any] = {}  # EWS folder id -> exchangelib folder
        self._paths: dict[tuple[str, ...], FolderRef] = {}  # casefolded path -> ref
        account.protocol.config.retry_policy = reporting_retry_policy()
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
        retry: RetryPolicy | None = None,
    ) -> ExchangeMailbox:
        """Log in and open ``mailbox`` (its top of store is read, so a missing mailbox, denied
        impersonation or a refused login raise ExchangeError here)."""
        account = open_account(settings, mailbox, password, connections=connections, check=check)
        opened = cls(account, settings, sink=sink, limits=limits, retry=retry)
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
        self, what: str, call: Callable[[], T], *, on_interrupt: Callable[[], int] | None = None
    ) -> T:
        """Run ``call`` under this mailbox's retry policy, each wait reported as ``Waiting``;
        ``on_interrupt`` runs before a retry after a dropped connection (part may have landed)
        and returns how many of what was sent it did not find; after a request that was not
        answered in time, what it did not find is looked for again once it had time to land."""

        def recover(why: Retryable) -> None:
            if not why.dropped or on_interrupt is None:
                return
            missing = on_interrupt()
            if why.unanswered and missing:
                self.sink(
                    Waiting(
                        self.address,
                        seconds=self.landing_seconds,
                        reason=f"Exchange may still be storing {missing} messages sent before "
                        f"it stopped answering; looking for them again before {what}",
                    )
                )
                if self.sleep(self.landing_seconds) is False:
                    raise RetryCancelled(what)
                on_interrupt()

        def give_up(exc: Exception, wait: Wait) -> ExchangeError:
            return ExchangeError(
                classify(exc, self.settings, self.address), {"waited_seconds": wait.seconds}
            )

        try:
            return retry_call(
                call,
                what=what,
                policy=self.retry or exchange_policy(self.limits.max_wait),
                retryable=lambda exc: exchange_retryable(what, exc),
                on_wait=lambda wait: self.sink(
                    Waiting(
                        self.address,
                        seconds=wait.seconds,
                        reason=wait.why.reason,
                        attempt=wait.attempt,
                    )
                ),
                sleep=self.sleep,
                recover=recover,
                give_up=give_up,
            )
        except ExchangeError:
            raise
        except Exception as exc:  # noqa: BLE001 - classified for the operator
            raise ExchangeError(classify(exc, self.settings, self.address)) from exc

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

    def _create_folder(self, parent: Any, name: str, path: Sequence[str]) -> Any:
        """CreateFolder under the retry policy. After a drop or a timeout the server may have
        made the folder before the link went: it is looked for (in a fresh folder listing)
        before it is created again, which Exchange would refuse (ErrorFolderExists)."""
        from exchangelib import Folder

        found: list[Any] = []

        def look_again() -> int:
            self.account.root.clear_cache()  # the listing cached before the drop lacks it
            wanted = name.casefold()
            found[:] = [c for c in parent.children if str(c.name).casefold() == wanted][:1]
            return 0 if found else 1

        def create() -> Any:
            if found:
                return found[0]
            made = Folder(parent=parent, name=name, folder_class="IPF.Note")
            made.save()
            return made

        return self._retry(
            f"creating the folder {'/'.join(path)!r}", create, on_interrupt=look_again
        )

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
                child = self._create_folder(parent, name, parts[:cut])
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
        return self._by_message_id(ref, message_ids, retried=True)

    def _by_message_id(
        self, ref: FolderRef, message_ids: Iterable[str], *, retried: bool
    ) -> dict[str, list[str]]:
        folder = self.folder(ref)
        wanted = [m for m in dict.fromkeys(message_ids) if m]
        found: dict[str, list[str]] = {m: [] for m in wanted}
        for start in range(0, len(wanted), 50):
            chunk = wanted[start : start + 50]

            def look(chunk: list[str] = chunk) -> list[tuple[str, str]]:
                return list(folder.filter(message_id__in=chunk).values_list("id", "message_id"))

            what = f"looking up messages in {ref.display}"
            for item_id, message_id in self._retry(what, look) if retried else look():
                found.setdefault(str(message_id), []).append(str(item_id))
        return found

    def find_by_received(self, ref: FolderRef, when: datetime) -> list[str]:
        """Item ids of the folder's messages received at ``when`` (for messages without an id)."""
        folder = self.folder(ref)
        stamp = ews_time(when)

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

    def write_batch(self, ref: FolderRef, messages: Sequence[MimeMessage]) -> list[WriteOutcome]:
        """One CreateItem request for all of ``messages`` (under this mailbox's retry policy: in a
        copy, where the copy engine retries, exactly one). Messages over the size limit are
        skipped, not sent. One outcome per message, in order; no events."""
        batches, skipped = plan_batches(messages, replace(self.limits, batch_count=len(messages)))
        too_large = {id(m) for m in messages if len(m.raw) > self.limits.max_message_bytes}
        sent = iter(self._write_batch(ref, [m for m in messages if id(m) not in too_large]))
        refused = iter(skipped)
        return [next(refused) if id(m) in too_large else next(sent) for m in messages]

    def _write_batch(self, ref: FolderRef, batch: list[MimeMessage]) -> list[WriteOutcome]:
        """One CreateItem request per attempt; what the server answered for stays answered."""
        if not batch:
            return []
        folder = self.folder(ref)
        results: dict[int, WriteOutcome] = {}
        pending = list(range(len(batch)))

        def send() -> None:
            # What bulk_create(SaveOnly) sends, consumed item by item so that answers received
            # before a mid-response error are kept; each MIME is streamed, never held as XML.
            messages = [batch[i] for i in pending]
            service = streamed_create_item(self.account, messages)
            answered = 0
            for result in service.call(
                folder=folder,
                items=messages,
                message_disposition="SaveOnly",
                send_meeting_invitations="SendToNone",
            ):
                i = pending[answered]
                results[i] = outcome_of(batch[i], result)
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

        def reconcile() -> int:
            # The request may have been stored before the link dropped: do not write twice.
            ids = {i: batch[i].message_id or message_id_of(batch[i].raw) for i in pending}
            found = self._by_message_id(ref, [m for m in ids.values() if m], retried=False)
            for i, mid in ids.items():
                if mid and found.get(mid):
                    results[i] = WriteOutcome(batch[i].key, True, item_id=found[mid][0])
            pending[:] = [i for i in pending if i not in results]
            return len(pending)

        def attempt() -> None:
            if pending:
                send_rest()

        self._retry(f"writing to {ref.display}", attempt, on_interrupt=reconcile)
        return [results[i] for i in range(len(batch))]


def check_mailbox(
    settings: ExchangeSettings, mailbox: str, password: str, *, check_transport: bool = True
) -> MailboxCheck:
    """Does ``mailbox`` exist and open; its folders with counts. A missing mailbox or a refusal
    is a result (state "missing"/"error" with the classified failure), never an exception."""
    try:
        retry = exchange_policy(WriteLimits().max_wait, CHECK_RETRIES)
        with ExchangeMailbox.open(
            settings, mailbox, password, check=check_transport, retry=retry
        ) as opened:
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
