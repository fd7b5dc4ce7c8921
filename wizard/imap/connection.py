"""Connect and log in to the IMAP source, with pinned-certificate checks and classified failures.

Certificate verification is always on. Without a pin the system's CA store and the host name
decide; with a pin the certificate's SHA-256 fingerprint must equal it (that is how a self-signed
server is trusted, after the operator confirmed the fingerprint). There is no way to skip both.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import ipaddress
import socket
import ssl
from dataclasses import dataclass

from imapclient import IMAPClient
from imapclient.imapclient import SocketTimeout

from .errors import (
    CertificateMismatch,
    CertificateUntrusted,
    ImapError,
    ResolveFailed,
    StartTlsUnavailable,
    classify,
)
from .settings import AuthMode, ImapServerSettings, Security

MASTER_SEPARATOR = "*"  # Dovecot's auth_master_user_separator, the common choice


def resolve(host: str, port: int) -> None:
    """Look the host name up, so a wrong name gets its own message. RFC 6761: names under
    .invalid never exist, and are answered without asking any DNS server."""
    with contextlib.suppress(ValueError):
        ipaddress.ip_address(host.strip("[]"))
        return
    if host.lower().rstrip(".") == "invalid" or host.lower().rstrip(".").endswith(".invalid"):
        raise ResolveFailed(host, True, f"{host} is under .invalid (RFC 6761)")
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        not_found = exc.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", -5))
        raise ResolveFailed(host, not_found, str(exc)) from None


def pinned_context() -> ssl.SSLContext:
    """A TLS client context for a pinned server (IMAP here, Autodiscover in wizard/exchange)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    # The pin replaces CA trust; the fingerprint is compared right after the handshake.
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def tls_context(settings: ImapServerSettings) -> ssl.SSLContext:
    if settings.pin:
        return pinned_context()
    return ssl.create_default_context()


def peer_certificate(client: IMAPClient) -> bytes:
    """The DER certificate of a TLS connection (b"" on a plain one)."""
    sock = client._imap.sock  # noqa: SLF001 - the TLS socket imapclient opened
    der = sock.getpeercert(binary_form=True) if hasattr(sock, "getpeercert") else None
    return der or b""


def peer_fingerprint(client: IMAPClient) -> str:
    return hashlib.sha256(peer_certificate(client)).hexdigest()


def _name_matches(pattern: str, host: str) -> bool:
    pattern, host = pattern.lower().rstrip("."), host.lower().rstrip(".")
    if pattern.startswith("*."):  # a wildcard stands for exactly one leftmost label
        first, _, rest = host.partition(".")
        return bool(first) and rest == pattern[2:]
    return pattern == host


def pinned_certificate_warnings(
    der: bytes, host: str, now: datetime.datetime | None = None
) -> tuple[str, ...]:
    """What is off with a pinned certificate that is accepted all the same (the pin, not its dates
    or names, is the server's identity): past or before its dates, or made for another name."""
    try:
        from cryptography import x509

        cert = x509.load_der_x509_certificate(der)
    except Exception:  # noqa: BLE001 - nothing readable to warn about; the pin matched
        return ()
    now = now or datetime.datetime.now(datetime.UTC)
    warnings: list[str] = []
    accepted = "accepted because its fingerprint is pinned; ask the server's owner to renew it"
    if cert.not_valid_after_utc < now:
        warnings.append(
            f"the pinned certificate of {host} expired on {cert.not_valid_after_utc:%Y-%m-%d}; "
            + accepted
        )
    elif cert.not_valid_before_utc > now:
        warnings.append(
            f"the pinned certificate of {host} is valid only from "
            f"{cert.not_valid_before_utc:%Y-%m-%d}; " + accepted
        )
    names: list[str] = []
    with contextlib.suppress(x509.ExtensionNotFound):
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [str(n) for n in san.get_values_for_type(x509.DNSName)]
        names += [str(n) for n in san.get_values_for_type(x509.IPAddress)]
    if not names:
        names = [str(a.value) for a in cert.subject.get_attributes_for_oid(x509.OID_COMMON_NAME)]
    if not any(_name_matches(name, host.strip("[]")) for name in names):
        made_for = ", ".join(names[:4]) or "no name"
        warnings.append(
            f"the pinned certificate of {host} is made for {made_for}, not {host}; it is "
            "accepted because its fingerprint is pinned"
        )
    return tuple(warnings)


def _open(settings: ImapServerSettings, context: ssl.SSLContext | None) -> IMAPClient:
    """Connect and, for STARTTLS, upgrade; no login. Raises raw exceptions."""
    timeout = SocketTimeout(connect=settings.timeout, read=settings.timeout)
    implicit = settings.security is Security.IMPLICIT_TLS
    client = IMAPClient(
        settings.host,
        settings.effective_port,
        ssl=implicit,
        ssl_context=context if implicit else None,
        timeout=timeout,
    )
    if settings.security is Security.STARTTLS:
        if not client.has_capability("STARTTLS"):
            with contextlib.suppress(Exception):
                client.shutdown()
            raise StartTlsUnavailable()
        client.starttls(context)
    return client


def open_connection(settings: ImapServerSettings) -> IMAPClient:
    """A connected, not yet logged-in client whose certificate has been checked."""
    resolve(settings.host, settings.effective_port)
    if settings.security is Security.PLAIN:
        return _open(settings, None)
    try:
        client = _open(settings, tls_context(settings))
    except ssl.SSLCertVerificationError as exc:
        seen = fetch_certificate(settings).fingerprint
        raise CertificateUntrusted(seen, exc.verify_message or str(exc)) from None
    if settings.pin:
        seen = peer_fingerprint(client)
        if seen != settings.pin:
            with contextlib.suppress(Exception):
                client.shutdown()
            raise CertificateMismatch(seen, settings.pin)
    return client


def login(client: IMAPClient, settings: ImapServerSettings, login_name: str, secret: str) -> None:
    """Log in with the settings' authentication mode (raises imapclient's LoginError)."""
    if settings.auth is AuthMode.PASSWORD:
        client.login(login_name, secret)
    elif settings.auth is AuthMode.MASTER:
        client.login(f"{login_name}{MASTER_SEPARATOR}{settings.master_user}", secret)
    elif settings.auth is AuthMode.SASL_AUTHZID:
        client.plain_login(settings.master_user, secret, authorization_identity=login_name)
    else:
        client.oauth2_login(login_name, secret)


def connect(settings: ImapServerSettings, login_name: str, secret: str) -> IMAPClient:
    """A logged-in imapclient client for one mailbox; ``secret`` is the mailbox's password, the
    master user's password or the OAuth2 token, as the auth mode says. Raises ImapError."""
    try:
        client = open_connection(settings)
    except Exception as exc:  # noqa: BLE001 - every failure is classified for the operator
        raise ImapError(classify(exc, settings, login_name, stage="connect")) from exc
    try:
        login(client, settings, login_name, secret)
    except Exception as exc:  # noqa: BLE001
        with contextlib.suppress(Exception):
            client.shutdown()
        raise ImapError(classify(exc, settings, login_name, stage="login")) from exc
    return client


def close(client: IMAPClient) -> None:
    """Log out politely, ignoring a connection that is already gone."""
    try:
        client.logout()
    except Exception:  # noqa: BLE001
        with contextlib.suppress(Exception):
            client.shutdown()


@dataclass(frozen=True)
class CertificateInfo:
    """What the server showed, for the operator to confirm before pinning."""

    host: str
    port: int
    fingerprint: str  # SHA-256 hex of the DER certificate
    subject: str = ""
    issuer: str = ""
    not_before: str = ""
    not_after: str = ""
    names: tuple[str, ...] = ()
    self_signed: bool = False
    trusted: bool = False  # a public CA vouches for it and the name matches
    trust_error: str = ""


def fetch_certificate(settings: ImapServerSettings) -> CertificateInfo:
    """Connect without trusting anything, read the certificate, then check if the system trusts
    it. Raises ImapError when the server cannot be reached or speaks no TLS there."""
    if settings.security is Security.PLAIN:
        raise ValueError("a plain-text connection has no certificate: choose TLS or STARTTLS")
    try:
        resolve(settings.host, settings.effective_port)
        client = _open(settings, pinned_context())
        der = client._imap.sock.getpeercert(binary_form=True) or b""  # noqa: SLF001
        close(client)
    except Exception as exc:  # noqa: BLE001
        raise ImapError(classify(exc, settings, stage="connect")) from exc
    trusted, trust_error = True, ""
    try:
        close(_open(settings, ssl.create_default_context()))
    except ssl.SSLCertVerificationError as exc:
        trusted, trust_error = False, exc.verify_message or str(exc)
    except Exception as exc:  # noqa: BLE001 - reachable a moment ago; report, do not fail
        trusted, trust_error = False, str(exc)
    return _describe(settings, der, trusted, trust_error)


def _describe(
    settings: ImapServerSettings, der: bytes, trusted: bool, trust_error: str
) -> CertificateInfo:
    fingerprint = hashlib.sha256(der).hexdigest()
    base = {
        "host": settings.host,
        "port": settings.effective_port,
        "fingerprint": fingerprint,
        "trusted": trusted,
        "trust_error": trust_error,
    }
    try:
        from cryptography import x509
    except ImportError:  # the fingerprint is what matters; the rest is a courtesy
        return CertificateInfo(**base)
    cert = x509.load_der_x509_certificate(der)
    names: list[str] = []
    with contextlib.suppress(x509.ExtensionNotFound):
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [str(n) for n in san.get_values_for_type(x509.DNSName)]
        names += [str(n) for n in san.get_values_for_type(x509.IPAddress)]
    return CertificateInfo(
        **base,
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        not_before=cert.not_valid_before_utc.isoformat(),
        not_after=cert.not_valid_after_utc.isoformat(),
        names=tuple(names),
        self_signed=cert.subject == cert.issuer,
    )
