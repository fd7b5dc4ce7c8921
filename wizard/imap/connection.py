"""Connect and log in to the IMAP source, with pinned-certificate checks and classified failures.

Certificate verification is always on (wizard.tls): the system's CA store and the host name, or
the pinned SHA-256 fingerprint. There is no way to skip both.
"""

from __future__ import annotations

import contextlib
import hashlib
import ssl

from imapclient import IMAPClient
from imapclient.imapclient import SocketTimeout

from ..secrets import remember_in_use
from ..tls import (
    CertificateInfo,
    CertificateMismatch,
    CertificateUntrusted,
    describe_certificate,
    pinned_context,
    resolve,
)
from .errors import ImapError, StartTlsUnavailable, classify
from .settings import AuthMode, ImapServerSettings, Security

MASTER_SEPARATOR = "*"  # Dovecot's auth_master_user_separator, the common choice


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
    remember_in_use(secret)  # a server may echo it in its reply; errors leave it out
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
    return describe_certificate(settings.host, settings.effective_port, der, trusted, trust_error)
