"""Reaching a server safely, for every engine: the name look-up, TLS contexts, certificate pins and
what a certificate says.

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


class ResolveFailed(Exception):
    """The host name does not resolve (``not_found``) or the look-up itself failed."""

    def __init__(self, host: str, not_found: bool, detail: str) -> None:
        super().__init__(detail)
        self.host = host
        self.not_found = not_found


class CertificateMismatch(ssl.SSLError):
    """The server's certificate is not the pinned one."""

    def __init__(self, seen: str, pinned: str) -> None:
        super().__init__(f"certificate fingerprint {seen} is not the pinned {pinned}")
        self.seen = seen
        self.pinned = pinned


class CertificateUntrusted(ssl.SSLError):
    """No public CA vouches for the certificate and no fingerprint is pinned."""

    def __init__(self, seen: str, reason: str) -> None:
        super().__init__(reason)
        self.seen = seen
        self.reason = reason


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
    """A TLS client context for a pinned server: the fingerprint is checked after the handshake."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    # The pin replaces CA trust; the fingerprint is compared right after the handshake.
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def normalise_pin(pin: str | None) -> str:
    """A SHA-256 fingerprint as 64 lowercase hex digits (colons and spaces removed)."""
    text = (pin or "").replace(":", "").replace(" ", "").strip().lower()
    if text.startswith("sha256"):
        text = text.removeprefix("sha256").lstrip("/=")
    if text and (len(text) != 64 or any(c not in "0123456789abcdef" for c in text)):
        raise ValueError(f"{pin!r} is not a SHA-256 fingerprint (64 hex digits, colons allowed)")
    return text


def format_fingerprint(fingerprint: str) -> str:
    """AB:CD:... as certificate viewers show it."""
    return ":".join(fingerprint[i : i + 2] for i in range(0, len(fingerprint), 2)).upper()


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


def describe_certificate(
    host: str, port: int, der: bytes, trusted: bool, trust_error: str
) -> CertificateInfo:
    """What a server's DER certificate says, for the operator to confirm before pinning."""
    fingerprint = hashlib.sha256(der).hexdigest()
    base = {
        "host": host,
        "port": port,
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
