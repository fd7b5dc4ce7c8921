"""Pytest fixtures for the real test servers, loaded for every test directory through
``pytest_plugins`` in tests/conftest.py.

- ``dovecot_factory`` (session): call it to start an independent Dovecot, e.g. a source and a
  target: ``source = dovecot_factory(); target = dovecot_factory(separator=".")``. All are
  stopped at the end of the session.
- ``dovecot`` (session): one shared Dovecot; add fresh users per test with ``add_user()``.
- ``dovecot_user`` (function): a fresh user on the shared server with the nested/non-ASCII tree.

Without the dovecot binary the fixtures skip with the reason, except under CI=true, where
they fail: CI must run every server test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from .dovecot import DOVECOT, Account, DovecotFactory, DovecotServer, dovecot_installed


def require_dovecot() -> None:
    if dovecot_installed():
        return
    reason = f"dovecot is not installed ({DOVECOT} missing): apt-get install dovecot-imapd"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI=true needs every server test to run", pytrace=False)
    pytest.skip(reason)


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
