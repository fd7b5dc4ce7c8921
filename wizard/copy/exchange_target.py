"""The Exchange engine as the copy engine's target (wizard.copy.target.CopyTarget).

The copy engine builds its Exchange targets here (wizard.copy.connect.target_factory for an
ad-hoc ``ews://`` endpoint, wizard.copy.session_jobs for a session):
``exchange_target_factory(settings, mailbox, password, max_message_size=...)`` or, from an ad-hoc
``ews://`` endpoint, ``exchange_target_factory(settings_from_endpoint(endpoint), endpoint.user,
password, ...)``; the factory is called with the engine's event sink. Special-use folders go to
the mailbox's own folders; messages are written with the MAPI read state, dates, flag and draft
bit (see messages.py). Every call makes its requests once (the mailbox is opened with
``NO_RETRY``): throttling and drops come back as Throttled / TransientError, and the copy engine's
retry, the only one in a copy, waits and looks up what landed. ``append`` is one CreateItem.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ..events import EventSink
from ..exchange.errors import ExchangeError, FailureCode
from ..exchange.mailbox import (
    ARCHIVE_FOLDER_NAME,
    ROLE_FOLDERS,
    ExchangeMailbox,
    FolderRef,
    MimeMessage,
    WriteLimits,
)
from ..exchange.settings import Access, AuthType, ExchangeSettings
from ..retry import NO_RETRY
from .errors import ConnectFailed, NoAnswer, Throttled, TransientError
from .folder_map import Role, TargetLayout
from .identity import EWS_RULE, MessageIdentity, identity_from_ews
from .message_summary import MessageSummary, summary_from_ews
from .target import CopyTarget, OutgoingMessage, Probe, TargetFactory, WriteResult

_ROLES = {
    Role.INBOX: "inbox",
    Role.SENT: "sent",
    Role.DRAFTS: "drafts",
    Role.TRASH: "trash",
    Role.JUNK: "junk",
}
_RETRYABLE = {FailureCode.THROTTLED, FailureCode.CONNECTION_LOST, FailureCode.TIMEOUT}


@contextmanager
def _copy_errors() -> Iterator[None]:
    """ExchangeError as the copy engine's errors: wait and retry, or give up on the mailbox."""
    try:
        yield
    except ExchangeError as exc:
        failure = exc.failure
        if failure.code is FailureCode.THROTTLED:
            # The server's own back-off hint (exchangelib's ErrorServerBusy.back_off, seconds)
            # lets the copy engine pause the mailbox for as long as the server asked.
            cause = exc.__cause__
            hint = float(getattr(cause, "back_off", 0) or 0)
            # One busy answer in a copy: say what the server said, not "it kept answering".
            message = f"{failure.host}: Exchange is busy ({cause})" if cause else failure.message
            raise Throttled(message, retry_after=hint) from exc
        if failure.code is FailureCode.TIMEOUT:
            raise NoAnswer(failure.message) from exc  # the server may still be at what was sent
        if failure.code in _RETRYABLE:
            raise TransientError(failure.message) from exc
        raise ConnectFailed(failure.message) from exc


class ExchangeCopyTarget:
    """One Exchange mailbox as a copy target (one connection, one thread)."""

    kind = "ews"
    supports_flags = True  # read / unread
    identity_rule = EWS_RULE
    # Exchange's client (exchangelib, requests, NTLM and its cryptography) takes some 37 MB of
    # the process that IMAP does not: a copy into Exchange holds fewer message bytes at once, to
    # stay within the same peak RSS. Exchange takes a message several times slower than IMAP,
    # so the smaller budget costs it little (bench/copy.py --ews --scale 0.5 --big 0: 280 msgs/s
    # with it against 275 without).
    max_held_bytes: int | None = 32 * 1024 * 1024

    def __init__(self, mailbox: ExchangeMailbox, *, max_message_size: int | None = None) -> None:
        self.mailbox = mailbox
        self.host = mailbox.settings.host
        self.max_message_size = max_message_size
        # One CreateItem per append: the engine's batches stay within what one request takes.
        self.max_batch_messages = mailbox.limits.batch_count
        self.max_batch_bytes = mailbox.limits.batch_bytes
        self._refs: dict[str, FolderRef] = {}
        self._layout: TargetLayout | None = None

    def layout(self) -> TargetLayout:
        if self._layout is None:
            roles: dict[Role, tuple[str, ...]] = {}
            with _copy_errors():
                for role, name in _ROLES.items():
                    ref = self.mailbox.special_folder(name)
                    roles[role] = ref.path
                    self._refs["/".join(ref.path)] = ref
            roles[Role.ARCHIVE] = (ARCHIVE_FOLDER_NAME,)
            self._layout = TargetLayout(
                kind=self.kind, roles=roles, delimiter="/", max_message_size=self.max_message_size
            )
        return self._layout

    def ensure_folder(self, path: tuple[str, ...]) -> str:
        layout = self.layout()
        key = layout.key(path)
        if key in self._refs:
            return key
        role = next((r for r, p in layout.roles.items() if p == tuple(path)), None)
        with _copy_errors():
            if role is Role.ARCHIVE:
                ref = self.mailbox.special_folder("archive")
            elif role is not None and _ROLES.get(role) in ROLE_FOLDERS:
                ref = self.mailbox.special_folder(_ROLES[role])
            else:
                ref = self.mailbox.ensure_folder(path)
        self._refs[key] = ref
        return key

    def _ref(self, key: str) -> FolderRef:
        if key not in self._refs:
            self.ensure_folder(tuple(key.split("/")))
        return self._refs[key]

    def append(self, folder: str, messages: Sequence[OutgoingMessage]) -> list[WriteResult]:
        ref = self._ref(folder)
        batch = [
            MimeMessage(m.uid, m.raw, tuple(m.flags), m.internaldate, m.message_id)
            for m in messages
        ]
        with _copy_errors():
            outcomes = self.mailbox.write_batch(ref, batch)
        return [
            WriteResult(
                o.key,
                o.ok,
                target_id=o.item_id,
                reason=o.reason,
                full=o.code == "ErrorQuotaExceeded",
            )
            for o in outcomes
        ]

    def find(self, folder: str, probes: Sequence[Probe]) -> list[list[str]]:
        ref = self._ref(folder)
        with _copy_errors():
            by_id = self.mailbox.find_by_message_id(ref, [p.message_id for p in probes])
            out: list[list[str]] = []
            for probe in probes:
                if probe.message_id:
                    out.append(list(by_id.get(probe.message_id, [])))
                elif probe.internaldate is not None:
                    out.append(self.mailbox.find_by_received(ref, probe.internaldate))
                else:
                    out.append([])
        return out

    def count(self, folder: str) -> int:
        with _copy_errors():
            return self.mailbox.count(self._ref(folder))

    def message_ids(self, folder: str) -> list[str]:
        with _copy_errors():
            return self.mailbox.message_ids(self._ref(folder))

    def identities(self, folder: str) -> list[MessageIdentity] | None:
        with _copy_errors():
            ref = self._existing_ref(folder)
            if ref is None:
                return None
            items = self.mailbox.folder(ref).all()

            def read() -> list[Any]:
                return list(items.values_list("id", "message_id", "size", "datetime_received"))

            rows = self.mailbox._retry(f"listing {ref.display}", read)  # noqa: SLF001
        return [identity_from_ews(str(i), m, s, r) for i, m, s, r in rows]

    def summaries(self, folder: str, messages: Sequence[MessageIdentity]) -> list[MessageSummary]:
        """One GetItem of subject, From, Sender and sent time for the listed items (by id)."""
        ids = [(m.ref, None) for m in messages if m.ref]
        if not ids:
            return [MessageSummary(m.label) for m in messages]
        account = self.mailbox.account

        def read() -> list[Any]:
            fields = ("subject", "author", "sender", "datetime_sent")
            return list(account.fetch(ids=ids, only_fields=fields))

        with _copy_errors():
            items = self.mailbox._retry(f"reading {len(ids)} items in {folder}", read)  # noqa: SLF001
        found = {str(i.id): i for i in items if not isinstance(i, Exception)}
        out = []
        for m in messages:
            item = found.get(m.ref)
            if item is None:
                out.append(MessageSummary(m.label))
                continue
            sender = getattr(item, "author", None) or getattr(item, "sender", None)
            out.append(summary_from_ews(m, item.subject, sender, item.datetime_sent))
        return out

    def folder_identity(self, folder: str) -> str | None:
        with _copy_errors():
            ref = self._existing_ref(folder)
        return ref.folder_id if ref is not None else None

    def _existing_ref(self, key: str) -> FolderRef | None:
        """The folder at ``key`` if it exists; unlike ``_ref`` it never creates one."""
        self.layout()
        if key in self._refs:
            return self._refs[key]
        mailbox = self.mailbox
        # The mailbox's own lookups, one level at a time, without its create-if-missing step.
        parent = mailbox._root()  # noqa: SLF001
        parts = tuple(key.split("/"))
        ref: FolderRef | None = None
        for cut in range(1, len(parts) + 1):
            child = mailbox._child(parent, parts[cut - 1])  # noqa: SLF001
            if child is None:
                return None
            ref = mailbox._remember(child, parts[:cut])  # noqa: SLF001
            parent = child
        if ref is not None:
            self._refs[key] = ref
        return ref

    def set_subscribed(self, folder: str, subscribed: bool) -> bool:
        """Exchange shows every folder: there is no subscription to carry."""
        return True

    def set_flags(self, folder: str, changes: Sequence[tuple[str, tuple[str, ...]]]) -> int:
        reads = [(item_id, any(f.lower() == "\\seen" for f in flags)) for item_id, flags in changes]
        with _copy_errors():
            return self.mailbox.set_read(self._ref(folder), reads)

    def close(self) -> None:
        self.mailbox.close()


def settings_from_endpoint(endpoint: Any, *, auth: AuthType = AuthType.BASIC) -> ExchangeSettings:
    """ExchangeSettings for the copy engine's ad-hoc ``ews://user@host:port/path`` endpoint
    (the user logs in to its own mailbox)."""
    scheme = "https" if endpoint.security != "none" else "http"
    path = endpoint.path or "/EWS/Exchange.asmx"
    return ExchangeSettings(
        f"{scheme}://{endpoint.host}:{endpoint.port}{path}",
        auth=auth,
        access=Access.DELEGATE,
        pin=endpoint.pin or "",
    )


def exchange_target_factory(
    settings: ExchangeSettings,
    mailbox: str,
    password: str,
    *,
    max_message_size: int | None = None,
) -> TargetFactory:
    """Connections to one target mailbox for the copy engine (a new one after a drop), each
    reporting through the engine's event sink and retrying nothing itself."""
    limits = WriteLimits()
    if max_message_size:
        limits = WriteLimits(max_message_bytes=max_message_size)

    def connect(sink: EventSink) -> CopyTarget:
        with _copy_errors():
            opened = ExchangeMailbox.open(
                settings, mailbox, password, sink=sink, limits=limits, retry=NO_RETRY
            )
        return ExchangeCopyTarget(opened, max_message_size=max_message_size)

    return connect


__all__ = ["ExchangeCopyTarget", "exchange_target_factory", "settings_from_endpoint"]
