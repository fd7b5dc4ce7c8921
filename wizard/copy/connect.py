"""The connection factories the copy engine calls, for endpoints named by URL (wizard.endpoint)."""

from __future__ import annotations

from collections.abc import Callable

from imapclient import IMAPClient

from ..endpoint import Endpoint
from ..imap import ImapError, ImapServerSettings, Security
from ..imap import connect as imap_connect
from .errors import ConnectFailed, TransientError
from .source import CopySource, ImapSource
from .targets import CopyTarget, ImapTarget


def endpoint_settings(endpoint: Endpoint, timeout: float = 60.0) -> ImapServerSettings:
    """The IMAP engine's settings for an ad-hoc ``imap[s]://`` endpoint (per-user password)."""
    return ImapServerSettings(
        host=endpoint.host,
        port=endpoint.port,
        security=Security.parse(endpoint.security),
        pin=endpoint.pin,
        timeout=timeout,
    )


def login_client(settings: ImapServerSettings, login: str, secret: str) -> IMAPClient:
    """A logged-in connection through the IMAP engine (every login mode: password, master user,
    SASL PLAIN with an authorization identity, XOAUTH2), its failures in the copy's terms with
    the engine's classified message: TransientError when the server could not be reached (the
    copy retries), ConnectFailed when it refused the login or its certificate does not match."""
    try:
        return imap_connect(settings, login, secret)
    except ImapError as exc:
        if exc.failure.unreachable:
            raise TransientError(exc.failure.message) from exc
        raise ConnectFailed(exc.failure.message) from exc


def imap_client(endpoint: Endpoint, password: str, timeout: float = 60.0) -> IMAPClient:
    """A logged-in imapclient connection for an ad-hoc endpoint (see ``login_client``)."""
    return login_client(endpoint_settings(endpoint, timeout), endpoint.user, password)


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
) -> Callable[[], CopyTarget]:
    if endpoint.kind == "imap":
        return lambda: ImapTarget(
            imap_client(endpoint, password), endpoint.host, max_message_size=max_message_size
        )
    from wizard.copy.exchange_target import exchange_target_factory, settings_from_endpoint

    return exchange_target_factory(
        settings_from_endpoint(endpoint), endpoint.user, password, max_message_size=max_message_size
    )
