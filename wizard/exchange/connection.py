"""Reach EWS: certificate checks with SHA-256 pinning, exchangelib accounts.

Certificate verification is always on. Without a pin the system's CA store and the host name
decide; with a pin the certificate's SHA-256 fingerprint must equal it. exchangelib's HTTP adapter
is process-wide, so pins are kept in a small registry keyed by host and port that the adapter
consults for every new connection; hosts without a pin keep the ordinary CA checks.
"""

from __future__ import annotations

import contextlib
import hashlib
import socket
import ssl
import threading
from typing import Any

import requests.adapters

from ..secrets import remember_in_use
from ..tls import CertificateInfo, describe_certificate, pinned_certificate_warnings, resolve
from .errors import (
    CertificateMismatch,
    CertificateUntrusted,
    ExchangeError,
    classify,
)
from .settings import Access, AuthType, ExchangeSettings

EXCHANGE_BUILD = (15, 1)  # Exchange 2016 schema: no version probing requests
_pins: dict[tuple[str, int], str] = {}
_pins_lock = threading.Lock()
# (host, port, pin) -> what the last transport check found off with that pinned certificate
_pinned_warnings: dict[tuple[str, int, str], tuple[str, ...]] = {}


def _pin_for(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme != "https":
        return ""
    with _pins_lock:
        return _pins.get(((parts.hostname or "").lower(), parts.port or 443), "")


class PinningHTTPAdapter(requests.adapters.HTTPAdapter):
    """requests adapter that checks a pinned fingerprint instead of the CA chain for pinned hosts."""

    def build_connection_pool_key_attributes(  # type: ignore[no-untyped-def]
        self, request, verify, cert=None
    ):
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert
        )
        pin = _pin_for(request.url or "")
        if pin:
            pool_kwargs.pop("ca_certs", None)
            pool_kwargs.pop("ca_cert_dir", None)
            pool_kwargs["cert_reqs"] = "CERT_NONE"
            pool_kwargs["assert_fingerprint"] = pin
        return host_params, pool_kwargs

    def cert_verify(self, conn, url, verify, cert):  # type: ignore[no-untyped-def]
        pin = _pin_for(url)
        if not pin:
            return super().cert_verify(conn, url, verify, cert)
        conn.cert_reqs = "CERT_NONE"
        conn.ca_certs = None
        conn.ca_cert_dir = None
        conn.assert_fingerprint = pin
        return None


def install_pin(settings: ExchangeSettings) -> None:
    """Make exchangelib trust the settings' pinned certificate (and only it) for their host."""
    from exchangelib.protocol import BaseProtocol

    if not issubclass(BaseProtocol.HTTP_ADAPTER_CLS, PinningHTTPAdapter):
        BaseProtocol.HTTP_ADAPTER_CLS = PinningHTTPAdapter
    key = (settings.host.lower(), settings.port)
    with _pins_lock:
        if settings.pin:
            _pins[key] = settings.pin
        else:
            _pins.pop(key, None)


def _raw_certificate(settings: ExchangeSettings) -> bytes:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection((settings.host, settings.port), timeout=settings.timeout) as raw,
        context.wrap_socket(raw, server_hostname=settings.host) as tls,
    ):
        return tls.getpeercert(binary_form=True) or b""


def _system_trust(settings: ExchangeSettings) -> str:
    """'' when a public CA vouches for the server's certificate and name, else why not."""
    context = ssl.create_default_context()
    try:
        with (
            socket.create_connection((settings.host, settings.port), settings.timeout) as raw,
            context.wrap_socket(raw, server_hostname=settings.host),
        ):
            return ""
    except ssl.SSLCertVerificationError as exc:
        return exc.verify_message or str(exc)


def fetch_certificate(settings: ExchangeSettings) -> CertificateInfo:
    """Read the server's certificate without trusting it, for the operator to confirm and pin."""
    if not settings.tls:
        raise ValueError(f"{settings.ews_url} is plain http: there is no certificate to pin")
    try:
        resolve(settings.host, settings.port)
        der = _raw_certificate(settings)
        trust_error = _system_trust(settings)
    except Exception as exc:  # noqa: BLE001 - every failure is classified for the operator
        raise ExchangeError(classify(exc, settings)) from exc
    return describe_certificate(settings.host, settings.port, der, not trust_error, trust_error)


def check_transport(settings: ExchangeSettings) -> None:
    """Name resolution, TCP and the certificate (pin or CA), each with its own classified failure."""
    try:
        resolve(settings.host, settings.port)
        if not settings.tls:
            with socket.create_connection((settings.host, settings.port), settings.timeout):
                return
        der = _raw_certificate(settings)
        seen = hashlib.sha256(der).hexdigest()
        if settings.pin:
            if seen != settings.pin:
                raise CertificateMismatch(seen, settings.pin)
            with _pins_lock:
                _pinned_warnings[(settings.host.lower(), settings.port, seen)] = (
                    pinned_certificate_warnings(der, settings.host)
                )
        else:
            reason = _system_trust(settings)
            if reason:
                raise CertificateUntrusted(seen, reason)
    except Exception as exc:  # noqa: BLE001
        raise ExchangeError(classify(exc, settings)) from exc


def connection_warnings(settings: ExchangeSettings) -> tuple[str, ...]:
    """What a check of these settings accepted but must say: plain http with a password, and what
    is off with the pinned certificate the last transport check saw (its dates, its names)."""
    if not settings.tls:
        return (
            f"plain-text connection to {settings.host}:{settings.port} (http): the password "
            "crosses the network unencrypted",
        )
    if not settings.pin:
        return ()
    with _pins_lock:
        return _pinned_warnings.get((settings.host.lower(), settings.port, settings.pin), ())


def make_config(settings: ExchangeSettings, login: str, password: str, *, connections: int = 2):
    """An exchangelib Configuration that sends no probing requests and fails fast (the engine
    does its own waiting on throttling, so it can report it)."""
    from exchangelib import BASIC, NTLM, Build, Configuration, Credentials, FailFast, Version

    remember_in_use(password)  # Exchange's error texts may quote it; errors leave it out
    install_pin(settings)
    return Configuration(
        service_endpoint=settings.ews_url,
        credentials=Credentials(login, password),
        auth_type=NTLM if settings.auth is AuthType.NTLM else BASIC,
        version=Version(build=Build(*EXCHANGE_BUILD)),
        retry_policy=FailFast(),
        max_connections=connections,
    )


# exchangelib shares one protocol (and its session pool) per endpoint and login between every
# account and thread; closing it while another account uses it corrupts the pool's count, and
# that account's next request then waits for a session forever. So accounts are counted per
# protocol, and the pool is closed only when the last account using it closes.
_open_accounts: dict[int, int] = {}
_open_accounts_lock = threading.Lock()


def open_account(
    settings: ExchangeSettings,
    mailbox: str,
    password: str,
    *,
    connections: int = 2,
    check: bool = True,
) -> Any:
    """An exchangelib Account for ``mailbox``; ``password`` is the service account's (with
    impersonation) or the mailbox's own. With ``check`` the transport is tested first so that
    DNS, TCP and certificate problems get their own messages. Raises ExchangeError. Every
    account opened here is closed with ``close_account``."""
    from exchangelib import DELEGATE, IMPERSONATION, Account

    if check:
        check_transport(settings)
    login = settings.login_for(mailbox)
    try:
        config = make_config(settings, login, password, connections=connections)
        access = IMPERSONATION if settings.access is Access.IMPERSONATION else DELEGATE
        with _open_accounts_lock:  # no close of the shared pool while an account joins it
            account = Account(mailbox, config=config, autodiscover=False, access_type=access)
            key = id(account.protocol)
            _open_accounts[key] = _open_accounts.get(key, 0) + 1
        return account
    except Exception as exc:  # noqa: BLE001
        raise ExchangeError(classify(exc, settings, mailbox)) from exc


def close_account(account: Any) -> None:
    """Let go of an account; the idle HTTP sessions of its protocol are closed once no other
    open account (in any thread) shares that protocol."""
    with _open_accounts_lock:
        key = id(account.protocol)
        left = _open_accounts.get(key, 1) - 1
        if left > 0:
            _open_accounts[key] = left
            return
        _open_accounts.pop(key, None)
        with contextlib.suppress(Exception):
            account.protocol.close()
