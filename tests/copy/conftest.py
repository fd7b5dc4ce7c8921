"""Fixtures of the copy tests: a source and a target Dovecot, fresh user names per test."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator

import pytest

from .dovecot_dev import Dovecot, DovecotPair


@pytest.fixture(scope="session")
def dovecots() -> Iterator[tuple[Dovecot, Dovecot]]:
    if shutil.which("dovecot") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("dovecot is not installed but CI=true: install dovecot-imapd")
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd)")
    pair = DovecotPair()
    yield pair.source, pair.target
    pair.stop()


@pytest.fixture
def users() -> tuple[str, str]:
    tag = uuid.uuid4().hex[:8]
    return f"src{tag}", f"dst{tag}"
