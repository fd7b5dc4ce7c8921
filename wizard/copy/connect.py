"""Endpoints of a copy and the connection factories the engine calls.

An endpoint is written as a URL in the ad-hoc CLI form:
``imaps://user@host:993`` (TLS), ``imap://user@host:143`` (STARTTLS), ``imap://user@host:143?tls=none``
(plain text, for local test servers only) and ``ews://user@host`` or ``ews://user@host:port/path``
(``?tls=none`` again for a local stand-in). A user name may hold "@"; the host is after the last one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from urllib.parse import parse_qs, unquote

from imapclient import IMAPClient

from ..forms import check_host, check_plain, refuse_password_in_url
from ..imap import ImapError, ImapServerSettings, Security
from ..imap import connect as imap_connect
from ..imap.settings import normalise_pin
from .errors import ConnectFailed, TransientError
from .source import CopySource, ImapSource
from .targets import CopyTarget, ImapTarget

SECURITY = ("tls", "starttls", "none")


@dataclass(frozen=True)
class Endpoint:
    kind: str  # "imap" or "ews"
    host: str
    port: int
    user: str
    security: str = "tls"  # tls, starttls or none
    path: str = ""  # EWS path
    pin: str = ""  # sha256 of the server certificate (hex), for self-signed servers

    @property
    def display(self) -> str:
        return f"{self.kind}://{self.user}@{self.host}:{self.port}{self.path}"

    def with_pin(self, pin: str | None) -> Endpoint:
        return replace(self, pin=normalise_pin(pin)) if pin else self


def parse_endpoint(url: str) -> Endpoint:
    """Parse an endpoint URL; ValueError says what is wrong with it."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"{url!r} is not an endpoint: expected imap://, imaps:// or ews://")
    scheme = scheme.lower()
    rest, _, query = rest.partition("?")
    options = {k: v[-1] for k, v in parse_qs(query).items()}
    userinfo, at, hostpart = rest.rpartition("@")
    user, colon, password = userinfo.partition(":")
    if colon:  # checked first: no message below may echo the password
        raise refuse_password_in_url(scheme, unquote(user), hostpart.partition("/")[0])
    if not at or not userinfo:
        raise ValueError(f"{url!r} names no user: write {scheme}://USER@HOST")
    hostport, slash, path = hostpart.partition("/")
    host, colon, port_text = hostport.rpartition(":")
    if not colon:
        host, port_text = hostport, ""
    host = host.strip("[]")
    if not host:
        raise ValueError(f"{url!r} names no host")
    host = check_host(host, "host of the URL")
    user = check_plain(unquote(userinfo), "user name of the URL")
    if scheme in ("imap", "imaps"):
        kind = "imap"
        security = "tls" if scheme == "imaps" else "starttls"
        default_port = 993 if scheme == "imaps" else 143
    elif scheme in ("ews", "ewss"):
        kind = "ews"
        security = "tls"
        default_port = 443
    else:
        raise ValueError(f"{url!r}: unknown scheme {scheme!r}; use imap, imaps or ews")
    tls = options.get("tls")
    if tls is not None:
        if tls not in SECURITY:
            raise ValueError(f"{url!r}: tls must be one of {', '.join(SECURITY)}")
        security = tls
        if kind == "ews" and tls == "none" and not port_text:
            default_port = 80
    try:
        port = int(port_text) if port_text else default_port
    except ValueError:
        raise ValueError(f"{url!r}: {port_text!r} is not a port number") from None
    if not 0 < port < 65536:
        raise ValueError(f"{url!r}: port {port} is not between 1 and 65535")
    return Endpoint(
        kind=kind,
        host=host,
        port=port,
        user=user,
        security=security,
        path=("/" + path) if slash else "",
        pin=normalise_pin(options.get("pin")),
    )


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
    from wizard.exchange.copy_target import exchange_target_factory, settings_from_endpoint

    return exchange_target_factory(
        settings_from_endpoint(endpoint), endpoint.user, password, max_message_size=max_message_size
    )
