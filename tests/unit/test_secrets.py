"""Secrets go to the keyring, per session; without a keyring they go to an encrypted file opened by
a passphrase, or stay in memory for the run, with a warning that says so."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

import wizard.secrets as secrets_module
from tests.support.keyring_backend import JsonFileKeyring
from wizard.profile import example_profile
from wizard.secrets import (
    PASSPHRASE_ENV,
    SecretsFileError,
    SecretStore,
    SecretsWhere,
    lock_file_store,
    secrets_file,
    set_passphrase_prompt,
    source_password_key,
)
from wizard.session import create_session


def test_secrets_are_kept_per_session_in_the_keyring() -> None:
    acme, other = SecretStore("acme"), SecretStore("other")
    acme.set(source_password_key("tom"), "s3cret")
    assert acme.warning == ""
    assert acme.get(source_password_key("tom")) == "s3cret"
    assert other.get(source_password_key("tom")) is None
    assert "s3cret" in JsonFileKeyring().all_secrets()
    acme.delete(source_password_key("tom"))
    assert acme.get(source_password_key("tom")) is None


def test_without_a_keyring_secrets_stay_in_memory_with_a_warning() -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        store = SecretStore("acme")
        assert store.in_memory
        assert "No system keyring is available" in store.warning
        store.set("source:tom", "only-in-memory")
        assert store.get("source:tom") == "only-in-memory"
    finally:
        keyring.set_keyring(previous)
    assert "only-in-memory" not in JsonFileKeyring().all_secrets()


@pytest.fixture
def no_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A headless box: no system keyring; the secrets file's Argon2 made cheap for the tests."""
    from keyrings.cryptfile.cryptfile import CryptFileKeyring

    monkeypatch.setattr(CryptFileKeyring, "time_cost", 1)
    monkeypatch.setattr(CryptFileKeyring, "memory_cost", 2**10)
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    lock_file_store()
    try:
        yield
    finally:
        keyring.set_keyring(previous)
        lock_file_store()
        set_passphrase_prompt(None)
        secrets_module._memory.clear()


def test_the_encrypted_file_keeps_secrets_for_a_later_run(
    no_keyring: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSPHRASE_ENV, "correct horse battery staple")
    store = SecretStore("acme")
    assert store.where is SecretsWhere.FILE and store.persistent and store.warning == ""
    store.set("source:tom", "kept-for-days")
    assert store.get("source:tom") == "kept-for-days"
    path = secrets_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "kept-for-days" not in path.read_text()  # encrypted, not merely encoded

    lock_file_store()  # a later run: nothing in memory, the file opened again
    secrets_module._memory.clear()
    assert SecretStore("acme").get("source:tom") == "kept-for-days"
    assert SecretStore("other").get("source:tom") is None

    lock_file_store()
    secrets_module._memory.clear()
    monkeypatch.setenv(PASSPHRASE_ENV, "wrong passphrase")
    with pytest.raises(SecretsFileError, match="does not open the secrets file"):
        SecretStore("acme").get("source:tom")

    lock_file_store()
    monkeypatch.setenv(PASSPHRASE_ENV, "correct horse battery staple")
    SecretStore("acme").delete("source:tom")
    secrets_module._memory.clear()
    assert SecretStore("acme").get("source:tom") is None


def test_the_passphrase_is_asked_once_per_run_and_again_when_wrong(no_keyring: None) -> None:
    asked: list[tuple[bool, str]] = []
    answers = iter(["first passphrase", "typo", "first passphrase"])

    def prompt(path: Path, new: bool, again: str) -> str:
        asked.append((new, again))
        return next(answers)

    set_passphrase_prompt(prompt)
    SecretStore("acme").set("source:ann", "pw-ann")
    SecretStore("acme").set("source:bob", "pw-bob")
    assert asked == [(True, "")]  # a new file, asked once for the whole run

    lock_file_store()
    secrets_module._memory.clear()
    assert SecretStore("acme").get("source:ann") == "pw-ann"
    assert asked[1] == (False, "")
    assert "does not open" in asked[2][1]  # the typo was refused and the question asked again

    lock_file_store()
    secrets_module._memory.clear()
    set_passphrase_prompt(lambda _path, _new, _again: "")  # declined: memory for this run
    store = SecretStore("acme")
    assert store.get("source:ann") is None and store.where is SecretsWhere.MEMORY
    assert PASSPHRASE_ENV in store.warning


def test_import_without_a_keyring_says_what_was_really_stored(
    no_keyring: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from wizard.cli import main

    store = create_session("Headless Co", "headless.example", example_profile())
    name = store.name
    store.close()
    csv_file = tmp_path / "list.csv"
    csv_file.write_text(
        "source_login,source_password,target_address\n"
        + "".join(f"u{n},pw-{n},u{n}@headless.example\n" for n in range(5))
    )
    assert main(["mailboxes", "import", name, str(csv_file)]) == 0
    out, err = capsys.readouterr()
    assert "(0 password(s) stored, 5 for this run only)" in out
    assert "5 password(s) from the CSV were NOT stored" in err and PASSPHRASE_ENV in err
    assert "to the keyring" not in out + err


def test_a_headless_box_resumes_with_its_passphrase_in_a_later_process(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = create_session("Later Co", "later.example", example_profile())
    name = store.name
    store.close()
    csv_file = tmp_path / "list.csv"
    csv_file.write_text(
        "source_login,source_password,target_address\nann,pw-ann,ann@later.example\n"
    )
    env = {
        **os.environ,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        PASSPHRASE_ENV: "a long passphrase for the box",
    }

    def onboard(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "wizard.cli", *argv],
            env=env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=120,
        )

    imported = onboard("mailboxes", "import", name, str(csv_file))
    assert imported.returncode == 0, imported.stderr
    assert "1 password(s) to the encrypted secrets file" in imported.stdout
    listed = onboard("mailboxes", "list", name, "--json")  # another run, days later
    assert json.loads(listed.stdout)["mailboxes"][0]["password_stored"] is True
    assert "pw-ann" not in secrets_file().read_text()

    env[PASSPHRASE_ENV] = "not the passphrase"
    refused = onboard("mailboxes", "list", name, "--json")
    assert refused.returncode == 2 and "does not open the secrets file" in refused.stderr
    assert "Traceback" not in refused.stderr
