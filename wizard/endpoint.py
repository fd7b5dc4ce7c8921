"""A mail server as the operator names it: a URL, with the SHA-256 pin of its certificate.

An endpoint URL has the ad-hoc CLI form:
``imaps://user@host:993`` (TLS), ``imap://user@host:143`` (STARTTLS), ``imap://user@host:143?tls=none``
(plain text, for local test servers only) and ``ews://user@host`` or ``ews://user@host:port/path``
(``?tls=none`` again for a local stand-in); ``?pin=...`` pins a self-signed certificate. A user
name may hold "@"; the host is after the last one. A server URL (``parse_server``, the bulk form of
`onboard copy`, whose logins come from a mailbox list) is the same without the user.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import parse_qs, unquote

from .forms import check_host, check_plain, refuse_password_in_url
from .tls import normalise_pin

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

    @property
    def server(self) -> str:
        """The server alone, without the user: ``imap://host:993``."""
        return f"{self.kind}://{self.host}:{self.port}{self.path}"

    def with_pin(self, pin: str | None) -> Endpoint:
        return replace(self, pin=normalise_pin(pin)) if pin else self


def parse_endpoint(url: str) -> Endpoint:
    """Parse an endpoint URL; ValueError says what is wrong with it."""
    return _parse(url, with_user=True)


def parse_server(url: str) -> Endpoint:
    """Parse a server URL, ``imaps://HOST[:PORT]`` (user ""); a URL naming a user is refused."""
    return _parse(url, with_user=False)


def _parse(url: str, *, with_user: bool) -> Endpoint:
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"{url!r} is not an endpoint: expected imap://, imaps:// or ews://")
    scheme = scheme.lower()
    rest, _, query = rest.partition("?")
    options = {k: v[-1] for k, v in parse_qs(query).items()}
    userinfo, at, hostpart = rest.rpartition("@")
    user, colon, _password = userinfo.partition(":")
    if colon:  # checked first: no message below may echo the password
        raise refuse_password_in_url(scheme, unquote(user), hostpart.partition("/")[0])
    if with_user and (not at or not userinfo):
        raise ValueError(f"{url!r} names no user: write {scheme}://USER@HOST")
    if not with_user and at:
        raise ValueError(
            f"{url!r} names a user, but here the logins come from the mailbox list: "
            f"write {scheme}://HOST[:PORT] without one"
        )
    hostport, slash, path = hostpart.partition("/")
    host, colon, port_text = hostport.rpartition(":")
    if not colon:
        host, port_text = hostport, ""
    host = host.strip("[]")
    if not host:
        raise ValueError(f"{url!r} names no host")
    host = check_host(host, "host of the URL")
    user = check_plain(unquote(userinfo), "user name of the URL") if with_user else ""
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
