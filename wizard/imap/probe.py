"""The connection test of step 4: can each mailbox be reached, logged in to, listed and sized?

``probe_mailbox`` tests one mailbox and returns a ``ProbeResult`` (never raises for a server
problem: a failure is part of the result). ``run_probes`` tests many at once with a concurrency
limit, emits a ``ProbeUpdate`` per state change (waiting, connecting, sizing, ok, failed) and
saves each result as step-4 evidence (kind ``imap-test``) that ``wizard.migration_plan.measured_sizes``
reads. Secrets never reach a result, an event or the evidence.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from .. import activity
from ..events import Event, EventSink, ignore
from ..playbook import Kind
from ..secrets import SecretStore
from ..tls import format_fingerprint, pinned_certificate_warnings
from .connection import close, connect, peer_certificate
from .credentials import mailbox_secret
from .errors import ImapError, ImapFailure, classify
from .folders import list_folders
from .settings import ImapServerSettings
from .sizing import DEFAULT_SIZE_BATCH, size_mailbox

if TYPE_CHECKING:
    from ..store import SessionStore  # the session is only passed through here

EVIDENCE_STEP_KIND = Kind.CONNECTION_TEST  # the step whose evidence a probe is
EVIDENCE_KIND = "imap-test"
DEFAULT_CONCURRENCY = 8
NO_SECRET = "no-secret"  # a probe-level code: nothing to log in with was entered


class ProbeState(StrEnum):
    WAITING = "waiting"
    CONNECTING = "connecting"
    SIZING = "sizing"
    OK = "ok"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        return self in (ProbeState.OK, ProbeState.FAILED)


@dataclass(frozen=True)
class FolderReport:
    name: str
    delimiter: str
    flags: tuple[str, ...]
    special_use: str  # the RFC 6154 attribute the server gave, or ""
    role: str  # "inbox", "sent", ... or ""
    role_from: str  # "special-use", "name" or ""
    selectable: bool
    messages: int | None  # None: not sized (not selectable, or unreadable)
    bytes: int | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "delimiter": self.delimiter,
            "flags": list(self.flags),
            "special_use": self.special_use,
            "role": self.role,
            "role_from": self.role_from,
            "selectable": self.selectable,
            "messages": self.messages,
            "bytes": self.bytes,
        }


@dataclass(frozen=True)
class ProbeResult:
    """What testing one mailbox found. ``ok`` means login, listing and sizing all worked."""

    login: str
    host: str
    port: int
    ok: bool
    code: str = ""  # FailureCode value, NO_SECRET, or "" when ok
    reason: str = ""  # the operator message of the failure
    fingerprint: str = ""  # the certificate the server showed, for certificate failures
    logged_in: bool = False
    capabilities: tuple[str, ...] = ()
    folders: tuple[FolderReport, ...] = ()
    sizing_method: str = ""
    unreadable: tuple[ImapFailure, ...] = ()
    seconds: float = 0.0
    warnings: tuple[str, ...] = ()  # accepted all the same, e.g. a pinned certificate expired

    @property
    def listed(self) -> bool:
        """Login and folder listing worked (sizing may still have missed a folder)."""
        return self.logged_in and bool(self.folders)

    @property
    def measured(self) -> bool:
        """Folders were listed and sized (so ``messages`` and ``bytes`` mean something)."""
        return self.listed and bool(self.sizing_method)

    @property
    def folder_count(self) -> int:
        return len(self.folders)

    @property
    def messages(self) -> int:
        return sum(f.messages or 0 for f in self.folders)

    @property
    def bytes(self) -> int:
        return sum(f.bytes or 0 for f in self.folders)

    def summary(self) -> str:
        if self.ok:
            return (
                f"{self.login}: logged in, {self.folder_count} folders, "
                f"{self.messages} messages, {self.bytes} bytes"
            )
        return f"{self.login}: {self.reason}"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready; also the evidence data (``messages``/``bytes`` only when measured)."""
        data: dict[str, Any] = {
            "login": self.login,
            "host": self.host,
            "port": self.port,
            "ok": self.ok,
            "code": self.code,
            "reason": self.reason,
            "fingerprint": self.fingerprint,
            "logged_in": self.logged_in,
            "capabilities": list(self.capabilities),
            "folder_count": self.folder_count,
            "folders": [f.as_dict() for f in self.folders],
            "sizing_method": self.sizing_method,
            "unreadable": [u.as_dict() for u in self.unreadable],
            "seconds": round(self.seconds, 3),
            "warnings": list(self.warnings),
        }
        if self.measured:  # a failed test must not erase an earlier measurement in the plan
            data["messages"] = self.messages
            data["bytes"] = self.bytes
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProbeResult:
        """A result read back from evidence (unreadable folders keep only their messages)."""
        return cls(
            login=str(data.get("login", "")),
            host=str(data.get("host", "")),
            port=int(data.get("port", 0) or 0),
            ok=bool(data.get("ok")),
            code=str(data.get("code", "")),
            reason=str(data.get("reason", "")),
            fingerprint=str(data.get("fingerprint", "")),
            logged_in=bool(data.get("logged_in")),
            capabilities=tuple(data.get("capabilities") or ()),
            folders=tuple(
                FolderReport(
                    name=str(f.get("name", "")),
                    delimiter=str(f.get("delimiter", "")),
                    flags=tuple(f.get("flags") or ()),
                    special_use=str(f.get("special_use", "")),
                    role=str(f.get("role", "")),
                    role_from=str(f.get("role_from", "")),
                    selectable=bool(f.get("selectable", True)),
                    messages=f.get("messages"),
                    bytes=f.get("bytes"),
                )
                for f in data.get("folders") or ()
            ),
            sizing_method=str(data.get("sizing_method", "")),
            seconds=float(data.get("seconds", 0.0) or 0.0),
            warnings=tuple(str(w) for w in data.get("warnings") or ()),
        )


@dataclass(frozen=True)
class ProbeUpdate(Event):
    """A mailbox's test changed state; ``subject`` is the source login."""

    state: ProbeState = ProbeState.WAITING
    result: ProbeResult | None = None


def _failed(
    settings: ImapServerSettings,
    login: str,
    failure: ImapFailure,
    started: float,
    **found: Any,
) -> ProbeResult:
    return ProbeResult(
        login=login,
        host=settings.host,
        port=settings.effective_port,
        ok=False,
        code=failure.code.value,
        reason=failure.message,
        fingerprint=failure.fingerprint,
        seconds=time.monotonic() - started,
        **found,
    )


def probe_mailbox(
    settings: ImapServerSettings,
    login: str,
    secret: str,
    *,
    size: bool = True,
    use_status_size: bool | None = None,
    batch: int = DEFAULT_SIZE_BATCH,
    on_state: Callable[[ProbeState], None] | None = None,
) -> ProbeResult:
    """Connect, read capabilities, log in, list folders (with special-use) and size them.

    Read-only: folders are sized with STATUS or EXAMINE + RFC822.SIZE, nothing is selected for
    writing. ``use_status_size=False`` forces the RFC822.SIZE path. A pinned certificate that is
    past its dates or made for another name is accepted, and said in ``warnings``.
    """
    warnings: list[str] = []
    result = _probe(settings, login, secret, size, use_status_size, batch, on_state, warnings)
    return replace(result, warnings=tuple(warnings)) if warnings else result


def _probe(
    settings: ImapServerSettings,
    login: str,
    secret: str,
    size: bool,
    use_status_size: bool | None,
    batch: int,
    on_state: Callable[[ProbeState], None] | None,
    warnings: list[str],
) -> ProbeResult:
    started = time.monotonic()
    notify = on_state or (lambda _state: None)
    notify(ProbeState.CONNECTING)
    try:
        client = connect(settings, login, secret)
    except ImapError as exc:
        return _failed(settings, login, exc.failure, started)
    if settings.pin:
        warnings.extend(pinned_certificate_warnings(peer_certificate(client), settings.host))
    capabilities: tuple[str, ...] = ()
    folders: list[FolderReport] = []
    try:
        capabilities = tuple(
            c.decode() if isinstance(c, bytes) else str(c) for c in client.capabilities()
        )
        listed = list_folders(client)
        folders = [
            FolderReport(
                f.name,
                f.delimiter,
                f.flags,
                f.special_use,
                f.role.value if f.role else "",
                f.role_from,
                f.selectable,
                None,
                None,
            )
            for f in listed
        ]
        sized = None
        if size:
            notify(ProbeState.SIZING)
            sized = size_mailbox(
                client,
                listed,
                settings=settings,
                login=login,
                use_status_size=use_status_size,
                batch=batch,
            )
    except Exception as exc:  # noqa: BLE001 - classified for the operator
        failure = exc.failure if isinstance(exc, ImapError) else classify(exc, settings, login)
        return _failed(
            settings,
            login,
            failure,
            started,
            logged_in=True,
            capabilities=capabilities,
            folders=tuple(folders),
        )
    finally:
        close(client)
    if sized is None:
        return ProbeResult(
            login,
            settings.host,
            settings.effective_port,
            True,
            logged_in=True,
            capabilities=capabilities,
            folders=tuple(folders),
            seconds=time.monotonic() - started,
        )
    by_name = {s.name: s for s in sized.folders}
    folders = [
        replace(
            f,
            messages=by_name[f.name].messages if f.name in by_name else None,
            bytes=by_name[f.name].bytes if f.name in by_name else None,
        )
        for f in folders
    ]
    common = {
        "logged_in": True,
        "capabilities": capabilities,
        "folders": tuple(folders),
        "sizing_method": sized.method,
        "unreadable": sized.unreadable,
    }
    if sized.unreadable:
        first = sized.unreadable[0]
        more = (
            f" (and {len(sized.unreadable) - 1} more folders)" if len(sized.unreadable) > 1 else ""
        )
        return ProbeResult(
            login,
            settings.host,
            settings.effective_port,
            False,
            code=first.code.value,
            reason=first.message + more,
            seconds=time.monotonic() - started,
            **common,  # type: ignore[arg-type]
        )
    return ProbeResult(
        login,
        settings.host,
        settings.effective_port,
        True,
        seconds=time.monotonic() - started,
        **common,  # type: ignore[arg-type]
    )


def no_secret_result(settings: ImapServerSettings, login: str) -> ProbeResult:
    if settings.auth.uses_master:
        what = f"the master user {settings.master_user}'s password"
    elif settings.auth.value == "xoauth2":
        what = f"an OAuth2 token for {login}"
    else:
        what = f"a password for {login}"
    return ProbeResult(
        login,
        settings.host,
        settings.effective_port,
        False,
        code=NO_SECRET,
        reason=f"No secret to log in with: enter {what} in step 3, then test again.",
    )


def save_result(store: SessionStore, result: ProbeResult) -> None:
    """Record one mailbox's test as step-4 evidence (no secret in it)."""
    summary = result.summary()
    if result.ok:
        from ..formatting import format_bytes

        summary = (
            f"{result.login}: connection test passed, {result.folder_count} folders, "
            f"{result.messages} messages, {format_bytes(result.bytes)}"
        )
    elif result.fingerprint:
        summary += f" (certificate {format_fingerprint(result.fingerprint)})"
    if result.warnings:
        summary += "; WARNING: " + "; ".join(result.warnings)
    store.add_evidence(
        store.playbook.number_of(EVIDENCE_STEP_KIND),
        EVIDENCE_KIND,
        summary,
        result.as_dict(),
        ok=result.ok,
    )


def latest_results(store: SessionStore) -> dict[str, ProbeResult]:
    """The newest saved test per source login."""
    found: dict[str, ProbeResult] = {}
    for evidence in store.evidence(store.playbook.number_of(EVIDENCE_STEP_KIND), EVIDENCE_KIND):
        login = str(evidence.data.get("login", ""))
        if login:
            found[login] = ProbeResult.from_dict(evidence.data)
    return found


SecretLookup = Callable[[str], "str | None"]


def session_secrets(store: SessionStore, settings: ImapServerSettings) -> SecretLookup:
    """Look a mailbox's login secret up in the session's keyring, as step 3 stored it. One look-up
    at a time: a keyring backend (D-Bus, a file) is not made for many threads at once."""
    secrets = SecretStore(store.name)
    lock = threading.Lock()

    def lookup(login: str) -> str | None:
        with lock:
            return mailbox_secret(secrets, settings, login)

    return lookup


def run_probes(
    settings: ImapServerSettings,
    logins: Sequence[str],
    secret_for: SecretLookup,
    *,
    sink: EventSink = ignore,
    store: SessionStore | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    cancel: threading.Event | None = None,
    size: bool = True,
    use_status_size: bool | None = None,
) -> list[ProbeResult]:
    """Test many mailboxes, at most ``concurrency`` at once, in the order given.

    Every login first gets a WAITING update, then CONNECTING, SIZING and OK or FAILED as its test
    goes. With ``store`` each result is saved as evidence as soon as it is known. Setting
    ``cancel`` stops mailboxes not yet started (they are left out of the result).
    """
    logins = list(dict.fromkeys(logins))
    for login in logins:
        sink(ProbeUpdate(login, ProbeState.WAITING))

    broken = threading.Event()  # saving failed (session closed): start no more tests

    def one(login: str) -> ProbeResult | None:
        if broken.is_set() or (cancel is not None and cancel.is_set()):
            return None
        secret = secret_for(login)
        if not secret:
            result = no_secret_result(settings, login)
        else:
            result = probe_mailbox(
                settings,
                login,
                secret,
                size=size,
                use_status_size=use_status_size,
                on_state=lambda state: sink(ProbeUpdate(login, state)),
            )
        if store is not None:
            try:
                save_result(store, result)
            except Exception:
                broken.set()
                raise
            activity.log_event(
                store,
                "info" if result.ok else "warning",
                "imap",
                "connection-test",
                result.summary(),
                mailbox=login,
                code=result.code,
                host=result.host,
                port=result.port,
                seconds=round(result.seconds, 3),
            )
        state = ProbeState.OK if result.ok else ProbeState.FAILED
        sink(ProbeUpdate(login, state, result))
        return result

    if not logins:
        return []
    with ThreadPoolExecutor(
        max_workers=max(1, min(concurrency, len(logins))), thread_name_prefix="imap-probe"
    ) as pool:
        results = list(pool.map(one, logins))
    return [r for r in results if r is not None]
