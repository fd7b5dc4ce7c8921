"""Pytest fixtures for the real test servers, loaded for every test directory through
``pytest_plugins`` in tests/conftest.py.

- ``dovecot_factory`` (session): call it to start an independent Dovecot, e.g. a source and a
  target: ``source = dovecot_factory(); target = dovecot_factory(separator=".")``. All are
  stopped at the end of the session.
- ``dovecot`` (session): one shared Dovecot; add fresh users per test with ``add_user()``.
- ``dovecot_user`` (function): a fresh user on the shared server with the nested/non-ASCII tree.
- ``knot_factory`` (function): call it with zones to start a Knot DNS server on its own loopback
  address, ``knot_factory({"example.com": "@ MX 10 mx1.example.net."})``; ``set_zone`` on the
  server rewrites and reloads a zone. Stopped when the test ends (tests/servers/knot.py).
- ``silent_dns`` (function): a UDP socket on loopback that never answers, for timeouts.

Without the dovecot (knotd) binary the fixtures skip with the reason, except under CI=true, where
they fail: CI must run every server test.

- ``ews_sandbox`` (function): a fresh EWS stand-in; ``ews_sandbox_factory`` for options (TLS ...).
- ``cyrus`` (session): one Cyrus IMAP 3.6 ("." separator, ``INBOX.`` prefix, SPECIAL-USE), unpacked
  by scripts/install-cyrus; add fresh users per test with ``add_user()`` (tests/servers/cyrus.py).
  Skips without it, fails under CI=true.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from wizard.devservers.ews import EwsSandbox

from .cyrus import INSTALL_HINT, ROOT, CyrusServer, cyrus_installed
from .dovecot import DOVECOT, Account, DovecotFactory, DovecotServer, dovecot_installed
from .knot import KNOTD, KnotFactory, SilentServer, knot_installed


def require_dovecot() -> None:
    if dovecot_installed():
        return
    reason = f"dovecot is not installed ({DOVECOT} missing): apt-get install dovecot-imapd"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI=true needs every server test to run", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def cyrus() -> Iterator[CyrusServer]:
    reason = ""
    if not cyrus_installed():
        reason = f"Cyrus IMAP is not unpacked in {ROOT}: {INSTALL_HINT}"
    else:
        try:
            server = CyrusServer.start()
        except RuntimeError as exc:
            reason = f"Cyrus IMAP did not start: {exc}"
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI=true needs every server test to run", pytrace=False)
        pytest.skip(reason)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def dovecot_factory() -> Iterator[DovecotFactory]:
    require_dovecot()
    factory = DovecotFactory()
    yield factory
    factory.stop_all()


@pytest.fixture(scope="session")
def dovecot(dovecot_factory: DovecotFactory) -> DovecotServer:
    return dovecot_factory()


@pytest.fixture
def dovecot_user(dovecot: DovecotServer) -> Account:
    return dovecot.add_user(tree=True)


# EWS stand-in (wizard/devservers/ews, pure Python: never skipped). See tests/servers/ews.py.
@pytest.fixture
def ews_sandbox() -> Iterator[EwsSandbox]:
    """A fresh EWS stand-in over HTTP with mailbox ews.USER and impersonating ews.SERVICE_LOGIN."""
    from .ews import close_exchangelib, start_sandbox

    sandbox = start_sandbox()
    yield sandbox
    close_exchangelib()
    sandbox.stop()
    assert not sandbox.errors, "the EWS stand-in failed on requests:\n" + "\n".join(sandbox.errors)


@pytest.fixture
def ews_sandbox_factory() -> Iterator[Callable[..., EwsSandbox]]:
    """Call with EwsSandbox options (tls=True, storage_dir=..., max_message_bytes=...)."""
    from .ews import close_exchangelib, start_sandbox

    started: list[EwsSandbox] = []

    def factory(**options: Any) -> EwsSandbox:
        started.append(start_sandbox(**options))
        return started[-1]

    yield factory
    close_exchangelib()
    for sandbox in started:
        sandbox.stop()
    errors = [e for sandbox in started for e in sandbox.errors]
    assert not errors, "the EWS stand-in failed on requests:\n" + "\n".join(errors)


def require_knot() -> None:
    if knot_installed():
        return
    reason = f"Knot DNS is not installed ({KNOTD} missing): apt-get install knot knot-dnsutils"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI=true needs every server test to run", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def knot_factory() -> Iterator[KnotFactory]:
    require_knot()
    factory = KnotFactory()
    yield factory
    factory.stop_all()


@pytest.fixture
def silent_dns() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()
