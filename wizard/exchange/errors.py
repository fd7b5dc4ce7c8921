"""Every way reaching a mailbox on Exchange can fail, classified for the operator.

A failure has a stable ``code`` (for JSON, evidence and tests) and a message that names the server
or mailbox, says what happened and what to do next.
"""

from __future__ import annotations

import re
import socket
import ssl
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ..redaction import redact_in_use
from ..tls import CertificateMismatch, CertificateUntrusted, ResolveFailed, format_fingerprint
from .settings import Access, ExchangeSettings


class FailureCode(StrEnum):
    DNS_NOT_FOUND = "dns-not-found"
    DNS_FAILURE = "dns-failure"
    CONNECTION_REFUSED = "connection-refused"
    UNREACHABLE = "unreachable"
    TIMEOUT = "timeout"
    TLS_HANDSHAKE = "tls-handshake"
    CERTIFICATE_UNTRUSTED = "certificate-untrusted"
    CERTIFICATE_MISMATCH = "certificate-mismatch"
    AUTH_REJECTED = "auth-rejected"
    IMPERSONATION_DENIED = "impersonation-denied"
    ACCESS_DENIED = "access-denied"
    MAILBOX_MISSING = "mailbox-missing"
    AUTODISCOVER_FAILED = "autodiscover-failed"
    THROTTLED = "throttled"
    CONNECTION_LOST = "connection-lost"
    PROTOCOL = "protocol-error"


__all__ = [
    "CertificateMismatch",  # the IMAP engine's, shared: same meaning for both servers
    "CertificateUntrusted",
    "ExchangeError",
    "ExchangeFailure",
    "FailureCode",
    "classify",
    "read_timed_out",
]

UNREACHABLE_CODES = frozenset(
    {
        FailureCode.DNS_NOT_FOUND,
        FailureCode.DNS_FAILURE,
        FailureCode.CONNECTION_REFUSED,
        FailureCode.UNREACHABLE,
        FailureCode.TIMEOUT,
        FailureCode.TLS_HANDSHAKE,
        FailureCode.CERTIFICATE_UNTRUSTED,
        FailureCode.CERTIFICATE_MISMATCH,
        FailureCode.CONNECTION_LOST,
        FailureCode.AUTODISCOVER_FAILED,
    }
)


@dataclass(frozen=True)
class ExchangeFailure:
    code: FailureCode
    host: str
    message: str
    mailbox: str = ""
    fingerprint: str = ""  # the certificate the server showed, for certificate failures
    detail: str = ""  # the underlying error text, for the log

    def __post_init__(self) -> None:
        # Server replies end up in these texts: no secret of this process may ride along.
        for name in ("message", "detail"):
            object.__setattr__(self, name, redact_in_use(getattr(self, name)))

    @property
    def unreachable(self) -> bool:
        """The server could not be talked to (as opposed to refusing a login or a mailbox)."""
        return self.code in UNREACHABLE_CODES

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code.value,
            "host": self.host,
            "mailbox": self.mailbox,
            "message": self.message,
            "fingerprint": self.fingerprint,
            "detail": self.detail,
        }


@dataclass
class ExchangeError(Exception):
    """Raised by the engine; carries the classified failure."""

    failure: ExchangeFailure
    extra: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.failure.message


_MISSING = ("ErrorNonExistentMailbox", "ErrorMailboxMoveInProgress", "ErrorMailboxStoreUnavailable")
_IMPERSONATION = ("ErrorImpersonateUserDenied", "ErrorImpersonationDenied")
_ACCESS = ("ErrorAccessDenied", "ErrorFolderNotFound")
_BUSY = ("ErrorServerBusy", "ErrorTooManyObjectsOpened", "ErrorInternalServerTransientError")


def read_timed_out(exc: BaseException) -> bool:
    """Whether a request was sent and its answer never came in time, so the server may still be
    carrying it out: exchangelib reports requests' ReadTimeout as ErrorTimeoutExpired "Reraised
    from ReadTimeout(...)", which otherwise reads as a lost connection."""
    seen: BaseException | None = exc
    while seen is not None:
        if "ReadTimeout" in f"{type(seen).__name__} {seen}":
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def classify(
    exc: BaseException, settings: ExchangeSettings, mailbox: str = "", *, stage: str = ""
) -> ExchangeFailure:
    """Turn an exception from reaching or reading a mailbox into an operator message."""
    host = settings.host
    where = f"{host} port {settings.port}"
    login = settings.login_for(mailbox) if mailbox else settings.service_account
    name = type(exc).__name__
    text = str(exc)

    def make(code: FailureCode, message: str, **kw: Any) -> ExchangeFailure:
        return ExchangeFailure(code, host, message, mailbox=mailbox, detail=text, **kw)

    if isinstance(exc, ExchangeError):
        return exc.failure
    if isinstance(exc, ResolveFailed):
        if exc.not_found:
            return make(
                FailureCode.DNS_NOT_FOUND,
                f"The server name {host} does not exist in DNS. Check the EWS URL "
                f"{settings.ews_url} (the provider profile's ews_url) or run Autodiscover.",
            )
        return make(
            FailureCode.DNS_FAILURE,
            f"The server name {host} could not be looked up ({exc}). Check this computer's "
            "DNS and network connection, then try again.",
        )
    if isinstance(exc, CertificateMismatch):
        return make(
            FailureCode.CERTIFICATE_MISMATCH,
            f"{where} showed a certificate with SHA-256 fingerprint {format_fingerprint(exc.seen)}"
            f", not the pinned {format_fingerprint(exc.pinned)}. Do not continue until the "
            "provider confirms the certificate changed; then pin the new fingerprint.",
            fingerprint=exc.seen,
        )
    if isinstance(exc, CertificateUntrusted):
        return make(
            FailureCode.CERTIFICATE_UNTRUSTED,
            f"{where} showed a certificate no public authority vouches for ({exc.reason}). Its "
            f"SHA-256 fingerprint is {format_fingerprint(exc.seen)}: confirm it with the "
            "provider's administrators, then pin it (--pin).",
            fingerprint=exc.seen,
        )
    if "Fingerprints did not match" in text:
        seen = re.search(r'got "?([0-9a-fA-F:]+)', text)
        fingerprint = seen.group(1).replace(":", "").lower() if seen else ""
        return make(
            FailureCode.CERTIFICATE_MISMATCH,
            f"{where} showed a certificate whose SHA-256 fingerprint "
            f"{format_fingerprint(fingerprint) or '(unknown)'} is not the pinned "
            f"{format_fingerprint(settings.pin)}. Do not continue until the provider confirms "
            "the certificate changed; then pin the new fingerprint.",
            fingerprint=fingerprint,
        )
    if name == "UnauthorizedError":
        return make(
            FailureCode.AUTH_REJECTED,
            f"{host} rejected the login of {login} ({settings.auth.label}). Check the user name "
            "(DOMAIN\\user or user@domain) and password, and the authentication type.",
        )
    if name in _IMPERSONATION:
        return make(
            FailureCode.IMPERSONATION_DENIED,
            f"{host} does not let {settings.service_account} act as {mailbox} ({text}). Ask the "
            "provider to give the service account the ApplicationImpersonation role for it.",
        )
    if name in _MISSING:
        return make(
            FailureCode.MAILBOX_MISSING,
            f"There is no mailbox {mailbox} on {host} yet. Create it (the provisioning list of "
            "step 4 has a New-Mailbox line for it), then check again.",
        )
    if name in _ACCESS:
        advice = (
            f"Check that {settings.service_account} has the ApplicationImpersonation role."
            if settings.access is Access.IMPERSONATION
            else f"Check that {login} is the login of {mailbox} itself."
        )
        return make(
            FailureCode.ACCESS_DENIED,
            f"{host} refused access to the mailbox {mailbox} ({text}). {advice}",
        )
    if name in _BUSY or name == "RateLimitError":
        return make(
            FailureCode.THROTTLED,
            f"{host} kept answering that it is busy ({text}). Wait a few minutes and try again, "
            "with fewer mailboxes at once.",
        )
    if read_timed_out(exc):
        return make(
            FailureCode.TIMEOUT,
            f"{where} took the request but did not answer within {settings.timeout:.0f} s. "
            "The server may be overloaded: try again later, or allow it longer (--timeout).",
        )
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return make(
            FailureCode.TIMEOUT,
            f"{where} did not answer within {settings.timeout:.0f} s. A firewall may drop the "
            "connection: check the URL's port and this network's way out.",
        )
    if isinstance(exc, ConnectionRefusedError):
        return make(
            FailureCode.CONNECTION_REFUSED,
            f"{where} refused the connection: nothing listens there. Check the EWS URL "
            f"{settings.ews_url}.",
        )
    if isinstance(exc, ssl.SSLCertVerificationError):
        return make(
            FailureCode.CERTIFICATE_UNTRUSTED,
            f"{where}: the certificate is not trusted ({exc.verify_message}). Fetch its "
            "fingerprint and pin it once the provider confirms it.",
        )
    if isinstance(exc, ssl.SSLError):
        return make(
            FailureCode.TLS_HANDSHAKE,
            f"The TLS handshake with {where} failed ({exc.reason or exc}). Check that the URL's "
            "scheme (https) and port are right.",
        )
    if isinstance(exc, (ConnectionResetError, BrokenPipeError, EOFError)) or name in (
        "ErrorTimeoutExpired",
        "TransportError",
        "ConnectionError",
    ):
        return make(
            FailureCode.CONNECTION_LOST,
            f"The connection to {where} failed ({text}). Check that the EWS service runs and "
            "try again.",
        )
    if isinstance(exc, OSError):
        return make(
            FailureCode.UNREACHABLE,
            f"{where} cannot be reached ({exc}). Check the EWS URL and this computer's network.",
        )
    return make(
        FailureCode.PROTOCOL,
        f"{host} answered something unexpected for {mailbox or login} ({name}: {text}). Try "
        "again; if it repeats, send the log to the developers.",
    )
