"""Every way a connection to the IMAP source can fail, classified for the operator.

A failure has a stable ``code`` (for JSON, evidence and tests) and a message that names the host
or mailbox, says what happened and what to do next.
"""

from __future__ import annotations

import errno
import imaplib
import logging
import socket
import ssl
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from imapclient.exceptions import IMAPClientError, LoginError

from ..redaction import redact_in_use
from ..tls import CertificateMismatch, CertificateUntrusted, ResolveFailed, format_fingerprint
from .settings import AuthMode, ImapServerSettings

# imapclient warns through an unconfigured logger, which Python prints raw on the operator's
# terminal (a server's UTF-8 reply text); its failures reach the operator classified instead.
logging.getLogger("imapclient").addHandler(logging.NullHandler())


class FailureCode(StrEnum):
    DNS_NOT_FOUND = "dns-not-found"
    DNS_FAILURE = "dns-failure"
    CONNECTION_REFUSED = "connection-refused"
    UNREACHABLE = "unreachable"
    TIMEOUT = "timeout"
    TLS_HANDSHAKE = "tls-handshake"
    STARTTLS_UNAVAILABLE = "starttls-unavailable"
    CERTIFICATE_UNTRUSTED = "certificate-untrusted"
    CERTIFICATE_MISMATCH = "certificate-mismatch"
    LOGIN_REJECTED = "login-rejected"
    MASTER_NOT_ALLOWED = "master-not-allowed"
    AUTH_UNSUPPORTED = "auth-unsupported"
    FOLDER_UNREADABLE = "folder-unreadable"
    CONNECTION_LOST = "connection-lost"
    PROTOCOL = "protocol-error"


@dataclass(frozen=True)
class ImapFailure:
    """A classified failure: what went wrong, where, and what the operator should do."""

    code: FailureCode
    host: str
    message: str
    mailbox: str = ""
    folder: str = ""
    fingerprint: str = ""  # the certificate the server showed, for certificate failures
    detail: str = ""  # the underlying error text, for the log

    def __post_init__(self) -> None:
        # Server replies end up in these texts: no secret of this process may ride along.
        for name in ("message", "detail"):
            object.__setattr__(self, name, redact_in_use(getattr(self, name)))

    @property
    def unreachable(self) -> bool:
        """The server could not be talked to at all (as opposed to refusing a login)."""
        return self.code in {
            FailureCode.DNS_NOT_FOUND,
            FailureCode.DNS_FAILURE,
            FailureCode.CONNECTION_REFUSED,
            FailureCode.UNREACHABLE,
            FailureCode.TIMEOUT,
            FailureCode.TLS_HANDSHAKE,
            FailureCode.STARTTLS_UNAVAILABLE,
            FailureCode.CERTIFICATE_UNTRUSTED,
            FailureCode.CERTIFICATE_MISMATCH,
            FailureCode.CONNECTION_LOST,
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code.value,
            "host": self.host,
            "mailbox": self.mailbox,
            "folder": self.folder,
            "message": self.message,
            "fingerprint": self.fingerprint,
            "detail": self.detail,
        }


@dataclass
class ImapError(Exception):
    """Raised by the engine; carries the classified failure."""

    failure: ImapFailure
    extra: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.failure.message


class StartTlsUnavailable(Exception):
    """The server does not offer STARTTLS."""


def _login_text(exc: BaseException) -> str:
    text = str(exc)
    if text.startswith("b'") or text.startswith('b"'):
        text = text[2:-1]
    return text


def classify(
    exc: BaseException,
    settings: ImapServerSettings,
    login: str = "",
    *,
    folder: str = "",
    stage: str = "",
) -> ImapFailure:
    """Turn an exception from connecting, logging in or reading into an operator message."""
    host = settings.host
    where = f"{host} port {settings.effective_port}"
    who = f" for {login}" if login else ""

    def make(code: FailureCode, message: str, **kw: Any) -> ImapFailure:
        return ImapFailure(code, host, message, mailbox=login, detail=str(exc), **kw)

    if isinstance(exc, ImapError):
        return exc.failure
    if isinstance(exc, ResolveFailed):
        if exc.not_found:
            return make(
                FailureCode.DNS_NOT_FOUND,
                f"The server name {host} does not exist in DNS. Check the spelling of the host "
                "name in step 3 (the customer's IMAP server, e.g. imap.example.com).",
            )
        return make(
            FailureCode.DNS_FAILURE,
            f"The server name {host} could not be looked up ({exc}). Check this computer's "
            "DNS/network connection and try again.",
        )
    if isinstance(exc, CertificateMismatch):
        return make(
            FailureCode.CERTIFICATE_MISMATCH,
            f"{where} showed a certificate with SHA-256 fingerprint "
            f"{format_fingerprint(exc.seen)}, not the pinned {format_fingerprint(exc.pinned)}. "
            "Do not continue until the customer confirms the server's certificate changed; then "
            "fetch and pin the new fingerprint in step 3.",
            fingerprint=exc.seen,
        )
    if isinstance(exc, CertificateUntrusted):
        return make(
            FailureCode.CERTIFICATE_UNTRUSTED,
            f"{where} showed a certificate no public authority vouches for ({exc.reason}). "
            f"Its SHA-256 fingerprint is {format_fingerprint(exc.seen)}: confirm it with the "
            "customer's administrator, then pin it in step 3 (or --pin).",
            fingerprint=exc.seen,
        )
    if isinstance(exc, StartTlsUnavailable):
        return make(
            FailureCode.STARTTLS_UNAVAILABLE,
            f"{where} does not offer STARTTLS. Choose implicit TLS (usually port 993) in step 3, "
            "or ask the customer to enable TLS on the server.",
        )
    if isinstance(exc, LoginError) or (isinstance(exc, imaplib.IMAP4.error) and stage == "login"):
        text = _login_text(exc)
        if settings.auth.uses_master and (
            "AUTHORIZATIONFAILED" in text.upper() or "AUTHORIZATION" in text.upper()
        ):
            return make(
                FailureCode.MASTER_NOT_ALLOWED,
                f"{host} accepted the master user {settings.master_user} but does not let it act "
                f"as {login} ({text}). Check that the mailbox {login} exists and that the master "
                "user may access it on the server.",
            )
        if "not supported" in text.lower() or "unsupported" in text.lower():
            return make(
                FailureCode.AUTH_UNSUPPORTED,
                f"{host} does not support the login method {settings.auth.label} ({text}). "
                "Choose another authentication mode in step 3.",
            )
        if settings.auth is AuthMode.MASTER or settings.auth is AuthMode.SASL_AUTHZID:
            advice = (
                f"Check the master user {settings.master_user}'s password and that {login} is "
                "the mailbox's login name on the server."
            )
        elif settings.auth is AuthMode.XOAUTH2:
            advice = "The token may have expired or belong to another user: paste a fresh one."
        else:
            advice = f"Check the login name and password of {login} with the customer."
        return make(
            FailureCode.LOGIN_REJECTED,
            f"{host} rejected the login{who} ({text}). {advice}",
        )
    if isinstance(exc, ssl.SSLCertVerificationError):
        return make(
            FailureCode.CERTIFICATE_UNTRUSTED,
            f"{where}: the certificate is not trusted ({exc.verify_message}). Fetch its "
            "fingerprint in step 3 and pin it once the customer confirms it.",
        )
    if isinstance(exc, ssl.SSLError):
        return make(
            FailureCode.TLS_HANDSHAKE,
            f"The TLS handshake with {where} failed ({exc.reason or exc}). Check that the port "
            f"speaks {settings.security.label} (993 is implicit TLS, 143 is STARTTLS).",
        )
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return make(
            FailureCode.TIMEOUT,
            f"{where} did not answer within {settings.timeout:.0f} s{who}. A firewall may be "
            "dropping the connection: check the port and that the server allows connections from "
            "this network.",
        )
    if isinstance(exc, ConnectionRefusedError):
        return make(
            FailureCode.CONNECTION_REFUSED,
            f"{where} refused the connection: nothing listens on that port. Check the port "
            f"(993 for implicit TLS, 143 for STARTTLS) and that the IMAP service runs on {host}.",
        )
    if isinstance(exc, (ConnectionResetError, BrokenPipeError, EOFError, imaplib.IMAP4.abort)):
        return make(
            FailureCode.CONNECTION_LOST,
            f"{where} closed the connection{who} ({exc}). If it happens again, the server may "
            "limit connections per user or per address: test fewer mailboxes at once.",
        )
    if isinstance(exc, OSError) and exc.errno in (
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.EADDRNOTAVAIL,
    ):
        return make(
            FailureCode.UNREACHABLE,
            f"{where} cannot be reached from here ({exc.strerror}). Check this computer's "
            "network and any firewall between it and the server.",
        )
    if folder or stage == "folder":
        return make(
            FailureCode.FOLDER_UNREADABLE,
            f"The folder {folder!r} of {login} on {host} could not be read ({exc}). Check the "
            "folder on the server (permissions, damage); the other folders are unaffected.",
            folder=folder,
        )
    if isinstance(exc, OSError):
        return make(
            FailureCode.UNREACHABLE,
            f"{where} cannot be reached ({exc}). Check the host name, port and network.",
        )
    if isinstance(exc, (IMAPClientError, imaplib.IMAP4.error)):
        return make(
            FailureCode.PROTOCOL,
            f"{host} answered something unexpected{who} ({exc}). Try again; if it repeats, "
            "send the log to the developers.",
        )
    return make(FailureCode.PROTOCOL, f"Unexpected error talking to {where}{who}: {exc!r}")
