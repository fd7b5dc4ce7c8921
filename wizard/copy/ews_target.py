"""Exchange as a copy target, over EWS with exchangelib.

Each message is created from the exact MIME bytes read from the source (``mime_content``), in
bulk, with one result per item. \\Seen becomes "read"; the received time is set from INTERNALDATE
through the MAPI delivery-time property, and the message flags mark it as sent mail, not a draft.
Look-ups after an interrupted batch go by Message-ID (``InternetMessageId``); for messages without
one, by size and received time.

NOTE for the EWS engine (wizard/exchange): this adapter talks to exchangelib directly because the
engine's write API was not there when it was written; it keeps to one class so it can be pointed
at the engine's connection and bulk-write functions without touching the copy engine.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from .errors import ConnectFailed, Throttled, TransientError
from .plan import Role, TargetLayout
from .targets import CopyTarget, OutgoingMessage, Probe, WriteResult

_ROLE_FOLDERS = {
    Role.INBOX: "inbox",
    Role.SENT: "sent",
    Role.DRAFTS: "drafts",
    Role.TRASH: "trash",
    Role.JUNK: "junk",
}
_BUSY = (
    "ErrorServerBusy",
    "ErrorTooManyObjectsOpened",
    "ErrorTimeoutExpired",
    "ErrorInternalServerTransientError",
)


def _ews_errors(host: str, what: str) -> contextlib.AbstractContextManager[None]:
    @contextlib.contextmanager
    def wrapper():  # type: ignore[no-untyped-def]
        from exchangelib.errors import (
            ErrorServerBusy,
            RateLimitError,
            TransportError,
            UnauthorizedError,
        )
        from requests.exceptions import RequestException

        try:
            yield
        except UnauthorizedError as exc:
            raise ConnectFailed(f"{host}: the login was refused ({exc})") from exc
        except ErrorServerBusy as exc:
            raise Throttled(
                f"{host}: Exchange is busy during {what}", float(getattr(exc, "back_off", 0) or 0)
            ) from exc
        except RateLimitError as exc:
            raise Throttled(f"{host}: throttled during {what}", 30.0) from exc
        except (TransportError, RequestException, OSError) as exc:
            raise TransientError(f"{host}: the connection failed during {what} ({exc})") from exc

    return wrapper()


class EwsTarget:
    kind = "ews"
    supports_flags = True  # read / unread

    def __init__(self, account: Any, host: str, *, max_message_size: int | None = None) -> None:
        self.account = account
        self.host = host
        self.max_message_size = max_message_size
        self._folders: dict[str, Any] = {}
        self._layout: TargetLayout | None = None

    def layout(self) -> TargetLayout:
        if self._layout is None:
            roles: dict[Role, tuple[str, ...]] = {}
            with _ews_errors(self.host, "reading the well-known folders"):
                for role, attribute in _ROLE_FOLDERS.items():
                    folder = getattr(self.account, attribute)
                    roles[role] = (folder.name,)
                    self._folders[folder.name] = folder
            roles[Role.ARCHIVE] = ("Archive",)
            self._layout = TargetLayout(
                kind=self.kind, roles=roles, delimiter="/", max_message_size=self.max_message_size
            )
        return self._layout

    def ensure_folder(self, path: tuple[str, ...]) -> str:
        from exchangelib import Folder

        layout = self.layout()
        key = layout.key(path)
        if key in self._folders:
            return key
        with _ews_errors(self.host, f"creating {key}"):
            parent = self.account.msg_folder_root
            for cut in range(1, len(path) + 1):
                part_key = layout.key(path[:cut])
                known = self._folders.get(part_key)
                if known is None:
                    name = path[cut - 1]
                    known = next(
                        (c for c in parent.children if c.name.lower() == name.lower()), None
                    )
                    if known is None:
                        known = Folder(parent=parent, name=name)
                        known.save()
                    self._folders[part_key] = known
                parent = known
        return key

    def _folder(self, key: str) -> Any:
        if key not in self._folders:
            self.ensure_folder(tuple(key.split("/")))
        return self._folders[key]

    def append(self, folder: str, messages: Sequence[OutgoingMessage]) -> list[WriteResult]:
        from exchangelib import Message

        target = self._folder(folder)
        items = [
            Message(
                account=self.account,
                folder=target,
                mime_content=m.raw,
                is_read="\\Seen" in m.flags,
            )
            for m in messages
        ]
        for item, message in zip(items, messages, strict=True):
            _set_received(item, message.internaldate)
        with _ews_errors(self.host, f"writing to {folder}"):
            created = self.account.bulk_create(folder=target, items=items)
        results: list[WriteResult] = []
        for message, outcome in zip(messages, created, strict=True):
            if isinstance(outcome, Exception):
                name = type(outcome).__name__
                if name in _BUSY:
                    raise Throttled(f"{self.host}: Exchange is busy ({name})")
                results.append(
                    WriteResult(message.uid, False, reason=f"Exchange refused it: {outcome}")
                )
            else:
                item_id = getattr(outcome, "id", None) or (
                    outcome[0] if isinstance(outcome, tuple) else ""
                )
                results.append(WriteResult(message.uid, True, target_id=str(item_id or "")))
        return results

    def find(self, folder: str, probes: Sequence[Probe]) -> list[list[str]]:
        target = self._folder(folder)
        out: list[list[str]] = []
        with _ews_errors(self.host, f"looking up messages in {folder}"):
            for probe in probes:
                if probe.message_id:
                    found = target.filter(message_id=probe.message_id).only("id")
                elif probe.internaldate is not None:
                    found = target.filter(datetime_received=probe.internaldate).only("id")
                else:
                    found = []
                out.append([str(item.id) for item in found])
        return out

    def count(self, folder: str) -> int:
        target = self._folder(folder)
        with _ews_errors(self.host, f"counting {folder}"):
            target.refresh()
            return int(target.total_count or 0)

    def message_ids(self, folder: str) -> list[str]:
        target = self._folder(folder)
        with _ews_errors(self.host, f"listing {folder}"):
            return [m or "" for m in target.all().values_list("message_id", flat=True)]

    def set_flags(self, folder: str, changes: Sequence[tuple[str, tuple[str, ...]]]) -> int:
        from exchangelib import Message

        if not changes:
            return 0
        items = []
        for target_id, flags in changes:
            item = Message(account=self.account, id=target_id)
            item.is_read = "\\Seen" in flags
            items.append((item, ["is_read"]))
        with _ews_errors(self.host, f"updating read state in {folder}"):
            results = self.account.bulk_update(items=items)
        return sum(1 for r in results if not isinstance(r, Exception))

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.account.protocol.close()


def _set_received(item: Any, when: datetime | None) -> None:
    """Keep the source's INTERNALDATE as the received time (MAPI PR_MESSAGE_DELIVERY_TIME)."""
    if when is None:
        return
    register_properties()
    with contextlib.suppress(Exception):
        item.delivery_time = when.astimezone(UTC)
        item.message_flags = 1 if getattr(item, "is_read", False) else 0


_registered = False


def register_properties() -> None:
    """Extended MAPI properties for received time and flags (registered once per process)."""
    global _registered
    if _registered:
        return
    from exchangelib import ExtendedProperty, Message

    class DeliveryTime(ExtendedProperty):
        property_tag = 0x0E06
        property_type = "SystemTime"

    class MessageFlags(ExtendedProperty):
        property_tag = 0x0E07
        property_type = "Integer"

    with contextlib.suppress(ValueError):
        Message.register("delivery_time", DeliveryTime)
    with contextlib.suppress(ValueError):
        Message.register("message_flags", MessageFlags)
    _registered = True


def ews_target_factory(
    endpoint: Any, password: str, *, max_message_size: int | None = None
) -> Callable[[], CopyTarget]:
    """A factory of EwsTarget connections for one mailbox (the endpoint's user)."""

    def connect() -> CopyTarget:
        from exchangelib import DELEGATE, Account, Configuration, Credentials

        scheme = "https" if endpoint.security != "none" else "http"
        url = f"{scheme}://{endpoint.host}:{endpoint.port}{endpoint.path or '/EWS/Exchange.asmx'}"
        config = Configuration(
            service_endpoint=url,
            credentials=Credentials(endpoint.user, password),
            max_connections=2,
        )
        with _ews_errors(endpoint.host, "logging in"):
            account = Account(
                endpoint.user, config=config, autodiscover=False, access_type=DELEGATE
            )
            return EwsTarget(account, endpoint.host, max_message_size=max_message_size)

    return connect
