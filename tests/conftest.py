"""Test-wide isolation: a private data directory and a private keyring for every test."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest

ROOT = Path(__file__).resolve().parent.parent

# Times on screen and in reports are the operator's local time: one zone for every test run.
os.environ["TZ"] = "UTC"
time.tzset()

# Real-server fixtures (Dovecot ...) for every test directory.
pytest_plugins = ["tests.servers.plugin"]


@pytest.fixture(autouse=True)
def isolated_onboard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own ONBOARD_DATA_DIR and file keyring; the user's are never touched."""
    data = tmp_path / "onboard-data"
    data.mkdir()
    monkeypatch.setenv("ONBOARD_DATA_DIR", str(data))
    monkeypatch.setenv("ONBOARD_TEST_KEYRING", str(tmp_path / "keyring.json"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.support.keyring_backend.JsonFileKeyring")
    monkeypatch.setenv("ONBOARD_OPERATOR", "tester")
    # Subprocesses (headless CLI runs) must find the tests package for the keyring backend.
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    )
    # Secrets an earlier test used (a wrong password "bad", say) must not be redacted from this
    # test's output: each test starts with none in use, as a new process does.
    import wizard.secrets

    monkeypatch.setattr(wizard.secrets, "_in_use", set())
    from tests.support.keyring_backend import JsonFileKeyring

    previous = keyring.get_keyring()
    keyring.set_keyring(JsonFileKeyring())
    yield data
    keyring.set_keyring(previous)
