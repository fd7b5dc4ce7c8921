"""The connection factories the copy engine calls, for endpoints named by URL (wizard.endpoint)."""

from __future__ import annotations

from collections.abc import Callable

from imapclient import IMAPClient

from ..endpoint import Endpoint
from ..events import EventSink
from ..imap import ImapError, ImapServerSettings, Security
from ..imap import connect as imap_connect
from ..tls import format_fingerprint
from .errors import ConnectFailed, TransientError
from .source import CopySource, ImapSource
from .target import CopyTarget, ImapTarget, TargetFactory

# The certificate failures of the IMAP and the Exchange engine (same values in both).
CERTIFICATE_CODES = frozenset({"certificate-untrusted", "certificate-mismatch"})


def endpoint_settings(endpoint: Endpoint, timeout: float = 60.0) -> ImapServerSettings:
    """The IMAP engine's settings for an ad-hoc ``imap[s]://`` endpoint (per-user password)."""
    return ImapServerSettings(
        host=endpoint.host,
        port=endpoint.port,
        security=Security.parse(endpoint.security),
        pin=endpoint.pin,
        timeout=timeout,
    )


def login_client(
    settings: ImapServerSettings, login: str, secret: str, *, side: str = "source"
) -> IMAPClient:
    """A logged-in connection through the IMAP engine (every login mode: password, master user,
    SASL PLAIN with an authorization identity, XOAUTH2), its failures in the copy's terms with
    the engine's classified message: TransientError when the server could not be reached (the
    copy retries), ConnectFailed when it refused the login or its certificate is not trusted
    (never retried; the message names the pin flag of ``side``, "source" or "target")."""
    try:
        return imap_connect(settings, login, secret)
    except ImapError as exc:
        failure = exc.failure
        if failure.code.value in CERTIFICATE_CODES:
            raise ConnectFailed(certificate_advice(side, failure.host, failure)) from exc
        if failure.unreachable:
            raise TransientError(failure.message) from exc
        raise ConnectFailed(failure.message) from exc


def certificate_advice(side: str, host: str, failure: object) -> str:
    """What a certificate failure of the source or target means and which flag pins it."""
    code = str(getattr(getattr(failure, "code", ""), "value", ""))
    seen = format_fingerprint(str(getattr(failure, "fingerprint", "") or "")) or "(unknown)"
    who = f"The {side} {host}"
    if side == "target":
        pin = "pin it with --dest-pin (in a session: the target's pin in step 4)"
        admin = "the target's administrators"
    else:
        pin = "pin it with --pin (in a session: in step 3)"
        admin = "the customer's administrator"
    if code == "certificate-mismatch":
        return (
            f"{who} showed a certificate with SHA-256 fingerprint {seen}, not the pinned one. "
            f"Do not continue until {admin} confirm the certificate changed; then {pin}."
        )
    return (
        f"{who} showed a certificate no public authority vouches for; its SHA-256 fingerprint "
        f"is {seen}. Confirm it with {admin}, then {pin}."
    )


def imap_client(
    endpoint: Endpoint, password: str, timeout: float = 60.0, *, side: str = "source"
) -> IMAPClient:
    """A logged-in imapclient connection for an ad-hoc endpoint (see ``login_client``)."""
    return login_client(endpoint_settings(endpoint, timeout), endpoint.user, password, side=side)


def source_factory(endpoint: Endpoint, password: str) -> Callable[[], CopySource]:
    if endpoint.kind != "imap":
        raise ValueError("the source of a copy must be an IMAP server")
    return lambda: ImapSource(imap_client(endpoint, password), endpoint.host)


def session_source_factory(
    settings: ImapServerSettings, login: str, secret: str
) -> Callable[[], CopySource]:
    """Connections to one source mailbox with the session's step-3 settings and login mode."""
    return lambda: ImapSource(login_client(settings, login, secret), settings.host)


def target_factory(
    endpoint: Endpoint, password: str, *, max_message_size: int | None = None
) -> TargetFactory:
    """Connections to a target mailbox; each call takes the engine's event sink."""
    if endpoint.kind == "imap":

        def imap(_sink: EventSink) -> ImapTarget:
            client = imap_client(endpoint, password, side="target")
            return ImapTarget(client, endpoint.host, max_message_size=max_message_size)

        return imap
    from wizard.copy.exchange_target import exchange_target_factory, settings_from_endpoint

    connect = exchange_target_factory(
        settings_from_endpoint(endpoint), endpoint.user, password, max_message_size=max_message_size
    )
    return with_target_pin_advice(connect, endpoint.host)


def with_target_pin_advice(connect: TargetFactory, host: str) -> TargetFactory:
    """An Exchange target factory whose certificate failures name the target's pin flag."""

    def ews(sink: EventSink) -> CopyTarget:
        try:
            return connect(sink)
        except ConnectFailed as exc:
            failure = getattr(exc.__cause__, "failure", None)
            code = str(getattr(getattr(failure, "code", ""), "value", ""))
            if code in CERTIFICATE_CODES:
                raise ConnectFailed(certificate_advice("target", host, failure)) from exc
            raise

    return ews
