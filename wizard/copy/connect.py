"""Endpoints of a copy and the connection factories the engine calls.

An endpoint is written as a URL in the ad-hoc CLI form:
``imaps://user@host:993`` (TLS), ``imap://user@host:143`` (STARTTLS), ``imap://user@host:143?tls=none``
(plain text, for local test servers only) and ``ews://user@host`` or ``ews://user@host:port/path``
(``?tls=none`` again for a local stand-in). A user name may hold "@"; the host is after the last one.
"""

from __future__ import annotations

import hashlib
import imaplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, replace
from urllib.parse import parse_qs, unquote

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, LoginError

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


def normalise_pin(pin: str | None) -> str:
    return (pin or "").replace(":", "").strip().lower()


def parse_endpoint(url: str) -> Endpoint:
    """Parse an endpoint URL; ValueError says what is wrong with it."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"{url!r} is not an endpoint: expected imap://, imaps:// or ews://")
    scheme = scheme.lower()
    rest, _, query = rest.partition("?")
    options = {k: v[-1] for k, v in parse_qs(query).items()}
    userinfo, at, hostpart = rest.rpartition("@")
    if not at or not userinfo:
        raise ValueError(f"{url!r} names no user: write {scheme}://USER@HOST")
    hostport, slash, path = hostpart.partition("/")
    host, colon, port_text = hostport.rpartition(":")
    if not colon:
        host, port_text = hostport, ""
    host = host.strip("[]")
    if not host:
        raise ValueError(f"{url!r} names no host")
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
    return Endpoint(
        kind=kind,
        host=host,
        port=port,
        user=unquote(userinfo),
        security=security,
        path=("/" + path) if slash else "",
        pin=normalise_pin(options.get("pin")),
    )


def _context(endpoint: Endpoint) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if endpoint.pin:
        # A pinned certificate is checked by its fingerprint instead of a CA chain.
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _check_pin(endpoint: Endpoint, client: IMAPClient) -> None:
    if not endpoint.pin:
        return
    sock = client._imap.sock  # noqa: SLF001 - the TLS socket imapclient opened
    der = sock.getpeercert(binary_form=True) if hasattr(sock, "getpeercert") else None
    seen = hashlib.sha256(der or b"").hexdigest()
    if seen != endpoint.pin:
        raise ConnectFailed(
            f"{endpoint.host}: the certificate fingerprint is {seen}, not the pinned "
            f"{endpoint.pin}; check the server before trusting it"
        )


def imap_client(endpoint: Endpoint, password: str, timeout: float = 60.0) -> IMAPClient:
    """A logged-in imapclient connection. TransientError when unreachable, ConnectFailed when
    the login is refused or the certificate does not match."""
    try:
        client = IMAPClient(
            endpoint.host,
            endpoint.port,
            ssl=endpoint.security == "tls",
            ssl_context=_context(endpoint) if endpoint.security == "tls" else None,
            timeout=timeout,
        )
        if endpoint.security == "starttls":
            client.starttls(_context(endpoint))
        if endpoint.security != "none":
            _check_pin(endpoint, client)
        client.login(endpoint.user, password)
    except LoginError as exc:
        raise ConnectFailed(
            f"{endpoint.host}: the login of {endpoint.user} was refused ({exc})"
        ) from None
    except ssl.SSLCertVerificationError as exc:
        raise ConnectFailed(
            f"{endpoint.host}: the certificate is not trusted ({exc.verify_message}); "
            "pass its SHA-256 fingerprint with --pin to trust it"
        ) from exc
    except (OSError, TimeoutError, imaplib.IMAP4.abort, IMAPClientAbortError) as exc:
        raise TransientError(f"{endpoint.host}:{endpoint.port} cannot be reached ({exc})") from exc
    return client


def source_factory(endpoint: Endpoint, password: str) -> Callable[[], CopySource]:
    if endpoint.kind != "imap":
        raise ValueError("the source of a copy must be an IMAP server")
    return lambda: ImapSource(imap_client(endpoint, password), endpoint.host)


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
