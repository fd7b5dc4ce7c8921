"""The EWS stand-in (wizard/devservers/ews) for tests and benches, and exchangelib accounts that talk
to it without any probing request.

- ``start_sandbox(**options)``: a running ``EwsSandbox`` with the demo mailbox ``USER`` (password
  ``PASSWORD``) and the service account ``SERVICE_LOGIN`` (``SERVICE_PASSWORD``, allowed to
  impersonate). Call ``stop()`` when done (the pytest fixtures do).
- ``sandbox_account(sandbox, address, ...)``: an exchangelib ``Account`` with the version and
  auth type set explicitly (no version guessing, no auth probing) and no retries unless a
  ``retry_policy`` is given. ``impersonate=True`` logs in as the service account and acts on
  ``address`` through ExchangeImpersonation.
- ``close_exchangelib()``: drops exchangelib's cached protocols (their pooled connections) so the
  next test does not reuse a connection to a stopped server.

Pinning: ``PinnedAdapter`` is a requests adapter that accepts exactly one certificate by its
SHA-256 fingerprint; set ``BaseProtocol.HTTP_ADAPTER_CLS`` to it with ``pinned_adapter()``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from wizard.devservers.ews import EwsSandbox

USER = "anna@example.test"
PASSWORD = "sandbox-Passw0rd"
SERVICE_LOGIN = "svc-migration@example.test"
SERVICE_PASSWORD = "sandbox-Service1"


def start_sandbox(**options: Any) -> EwsSandbox:
    sandbox = EwsSandbox(**options)
    sandbox.add_mailbox(USER, PASSWORD, "Anna Beispiel")
    sandbox.add_service_account(SERVICE_LOGIN, SERVICE_PASSWORD, impersonate=True)
    return sandbox.start()


def sandbox_version() -> Any:
    from exchangelib import Build, Version

    from wizard.devservers.ews import SANDBOX_API_VERSION, SANDBOX_BUILD

    return Version(build=Build(*SANDBOX_BUILD), api_version=SANDBOX_API_VERSION)


def sandbox_account(
    sandbox: EwsSandbox,
    address: str = USER,
    password: str = PASSWORD,
    *,
    login: str | None = None,
    impersonate: bool = False,
    retry_policy: Any = None,
    max_connections: int | None = None,
    auth_type: str = "basic",
) -> Any:
    """An exchangelib Account on the stand-in (Basic or NTLM, Exchange 2016 schema, no
    autodiscover)."""
    from exchangelib import (
        BASIC,
        DELEGATE,
        IMPERSONATION,
        NTLM,
        Account,
        Configuration,
        Credentials,
    )

    if impersonate and login is None:
        login, password = SERVICE_LOGIN, SERVICE_PASSWORD
    config = Configuration(
        service_endpoint=sandbox.url,
        credentials=Credentials(login or address, password),
        auth_type={"basic": BASIC, "ntlm": NTLM}[auth_type],
        version=sandbox_version(),
        retry_policy=retry_policy,
        max_connections=max_connections,
    )
    return Account(
        address,
        config=config,
        autodiscover=False,
        access_type=IMPERSONATION if impersonate else DELEGATE,
    )


def close_exchangelib() -> None:
    from exchangelib.protocol import close_connections

    close_connections()


def pinned_adapter(fingerprint: str) -> type:
    """A requests HTTPAdapter class that accepts only the certificate with this SHA-256."""
    import requests.adapters

    wanted = fingerprint.replace(":", "").lower()

    class PinnedAdapter(requests.adapters.HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            kwargs["assert_fingerprint"] = wanted
            super().init_poolmanager(*args, **kwargs)

        def send(self, request: Any, **kwargs: Any) -> Any:
            # The pin replaces CA verification; urllib3 checks assert_fingerprint on connect.
            kwargs["verify"] = False
            return super().send(request, **kwargs)

    return PinnedAdapter


@contextlib.contextmanager
def exchangelib_adapter(adapter: type) -> Iterator[None]:
    """Use ``adapter`` for every exchangelib session opened inside the block."""
    from exchangelib.protocol import BaseProtocol

    previous = BaseProtocol.HTTP_ADAPTER_CLS
    close_exchangelib()  # pooled sessions were made with the previous adapter
    BaseProtocol.HTTP_ADAPTER_CLS = adapter
    try:
        yield
    finally:
        BaseProtocol.HTTP_ADAPTER_CLS = previous
        close_exchangelib()
