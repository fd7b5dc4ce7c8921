"""Secrets go to the keyring, per session; without a keyring they stay in memory, with a warning."""

from __future__ import annotations

import keyring
from keyring.backends import fail

from tests.support.keyring_backend import JsonFileKeyring
from wizard.secrets import SecretStore, source_password_key


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
