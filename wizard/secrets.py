"""Passwords and tokens: kept in the OS keyring, one service name per session, never on disk here.

When the OS offers no usable keyring backend, secrets are kept in memory for this run only and
``SecretStore.warning`` says so, for the UI and the CLI to show.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import keyring
import keyring.errors

if TYPE_CHECKING:
    from .store import SessionStore

SERVICE_PREFIX = "onboard"

_memory: dict[tuple[str, str], str] = {}
_memory_lock = threading.Lock()


def _backend_usable() -> bool:
    from keyring.backends import chainer, fail

    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring):
        return False
    return not (isinstance(backend, chainer.ChainerBackend) and not backend.backends)


class SecretStore:
    """Secrets of one session (or of ad-hoc CLI use with ``scope="adhoc"``)."""

    def __init__(self, scope: str) -> None:
        self.service = f"{SERVICE_PREFIX}:{scope}"
        self.in_memory = not _backend_usable()

    @property
    def warning(self) -> str:
        if not self.in_memory:
            return ""
        return (
            "No system keyring is available: passwords are kept in memory for this run only and "
            "will be asked for again next time."
        )

    def get(self, key: str) -> str | None:
        if not self.in_memory:
            try:
                return keyring.get_password(self.service, key)
            except keyring.errors.KeyringError:
                self.in_memory = True
        with _memory_lock:
            return _memory.get((self.service, key))

    def set(self, key: str, secret: str) -> None:
        if not self.in_memory:
            try:
                keyring.set_password(self.service, key, secret)
                return
            except keyring.errors.KeyringError:
                self.in_memory = True
        with _memory_lock:
            _memory[(self.service, key)] = secret

    def delete(self, key: str) -> None:
        if not self.in_memory:
            try:
                keyring.delete_password(self.service, key)
            except keyring.errors.PasswordDeleteError:
                pass
            except keyring.errors.KeyringError:
                self.in_memory = True
        with _memory_lock:
            _memory.pop((self.service, key), None)

    def delete_all(self, keys: list[str]) -> None:
        for key in keys:
            self.delete(key)


def source_password_key(login: str) -> str:
    """Keyring key of a mailbox's password on the old IMAP server."""
    return f"source:{login}"


def target_password_key(login: str) -> str:
    """Keyring key of a password on the provider's Exchange."""
    return f"target:{login}"


def session_secret_keys(store: SessionStore) -> list[str]:
    """Every keyring key a session may have used: its mailboxes' and any its engines listed.

    Engines that store other secrets (an admin login, an OAuth token, a service account) add their
    keys to the session setting "secrets.keys" so reports can redact them and deletion removes them.
    """
    keys: list[str] = []
    for mailbox in store.mailboxes():
        keys += [
            source_password_key(mailbox.source_login),
            target_password_key(mailbox.target_address),
            target_password_key(mailbox.source_login),
        ]
    keys += [str(k) for k in store.setting("secrets.keys", []) or []]
    return list(dict.fromkeys(keys))


def remember_secret_key(store: SessionStore, key: str) -> None:
    """Note a keyring key in the session so that reports redact it and deletion removes it."""
    keys = [str(k) for k in store.setting("secrets.keys", []) or []]
    if key not in keys:
        store.set_setting("secrets.keys", [*keys, key])
