"""Passwords and tokens: kept in the OS keyring, one service name per session, never in a session
file, a log or a report.

A machine without a usable keyring (any headless Linux box) can keep them in an encrypted file
instead: keyrings.cryptfile's store (Argon2id from the passphrase, AES-GCM per secret) at
``<data dir>/secrets.cfg``, unlocked once per run by a passphrase the operator types (the CLI
asks before it starts the app or a verb) or gives in ``ONBOARD_SECRETS_PASSPHRASE`` (headless
use). Without either, secrets are kept in memory for this run only, and ``SecretStore.warning``
says so, for the UI and the CLI to show.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .envvars import PASSPHRASE_ENV
from .paths import data_dir

if TYPE_CHECKING:
    from .store import SessionStore

SERVICE_PREFIX = "onboard"
SECRETS_FILE = "secrets.cfg"

_memory: dict[tuple[str, str], str] = {}
_memory_lock = threading.Lock()
# The unlocked encrypted file store of this process (None: not unlocked), and whether the
# operator was already asked for its passphrase this run (asked once, even when they declined).
_file_store: dict[str, Any] = {"backend": None, "asked": False}
_file_lock = threading.RLock()
# Set by the command line: asks for the passphrase, (path, new file, why asked again) -> it or "".
PassphrasePrompt = Callable[[Path, bool, str], str]
PROMPT_TRIES = 3
_prompt: list[PassphrasePrompt] = []


class SecretsWhere(StrEnum):
    """Where a SecretStore keeps what it is given."""

    KEYRING = "keyring"
    FILE = "file"  # the encrypted secrets file
    MEMORY = "memory"  # this run only

    @property
    def label(self) -> str:
        """Where, said in a sentence: "stored in <label>"."""
        if self is SecretsWhere.FILE:
            return f"the encrypted secrets file {secrets_file()}"
        return self.short

    @property
    def short(self) -> str:
        return {
            SecretsWhere.KEYRING: "the keyring",
            SecretsWhere.FILE: "the encrypted secrets file",
            SecretsWhere.MEMORY: "memory, for this run only (no keyring)",
        }[self]


class SecretsFileError(Exception):
    """The encrypted secrets file cannot be opened (wrong passphrase, unreadable file)."""


def _keyring() -> Any:
    """The keyring package, imported when a secret is first looked up (it is slow to load)."""
    import keyring
    import keyring.errors

    return keyring


def _backend_usable() -> bool:
    keyring = _keyring()
    from keyring.backends import chainer, fail

    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring):
        return False
    return not (isinstance(backend, chainer.ChainerBackend) and not backend.backends)


def secrets_file() -> Path:
    """Where the encrypted secrets file is (beside the sessions, in onboard's data directory)."""

    return data_dir() / SECRETS_FILE


def set_passphrase_prompt(prompt: PassphrasePrompt | None) -> None:
    """Let the file store ask the operator (the CLI, on a terminal); None: never ask."""
    _prompt[:] = [prompt] if prompt else []


def unlock_file_store(passphrase: str) -> None:
    """Open (or create) the encrypted secrets file with `passphrase` for the rest of this run."""
    from keyrings.cryptfile.cryptfile import CryptFileKeyring

    path = secrets_file()
    backend = CryptFileKeyring()
    backend.file_path = str(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        backend.keyring_key = passphrase  # creates the file, or checks the passphrase against it
    except ValueError:
        raise SecretsFileError(
            f"the passphrase does not open the secrets file {path}: type it again (or set "
            f"{PASSPHRASE_ENV} to the right one)"
        ) from None
    except OSError as exc:
        raise SecretsFileError(
            f"cannot open the secrets file {path}: {exc.strerror or exc}"
        ) from None
    with _file_lock:
        _file_store["backend"] = backend


def lock_file_store() -> None:
    """Forget the unlocked file store (tests; the end of a run)."""
    with _file_lock:
        _file_store["backend"] = None
        _file_store["asked"] = False


def open_file_store(*, ask: bool = True) -> bool:
    """Unlock the encrypted file store when there is no system keyring: from the environment, or
    by asking the operator once per run. False when secrets stay in memory."""
    if _backend_usable():
        return False
    with _file_lock:
        if _file_store["backend"] is not None:
            return True
        passphrase = os.environ.get(PASSPHRASE_ENV, "")
        if passphrase:
            unlock_file_store(passphrase)
            return True
        if not (ask and _prompt) or _file_store["asked"]:
            return False
        _file_store["asked"] = True
        again = ""
        for attempt in range(PROMPT_TRIES):
            passphrase = _prompt[0](secrets_file(), not secrets_file().exists(), again)
            if not passphrase:
                return False
            try:
                unlock_file_store(passphrase)
                return True
            except SecretsFileError as exc:
                if attempt == PROMPT_TRIES - 1:
                    raise
                again = str(exc)
        return False


# Every secret this process has read or been given: a server may echo one back in an error, and
# wizard.redaction removes them (and their encodings) from what comes from servers.
_in_use: set[str] = set()
_in_use_lock = threading.Lock()


def remember_in_use(secret: str | None) -> str | None:
    """Note a secret this process holds (and hand it back), so its echoes can be redacted."""
    if secret:
        with _in_use_lock:
            _in_use.add(secret)
    return secret


def secrets_in_use() -> tuple[str, ...]:
    """The secrets this process has held so far."""
    with _in_use_lock:
        return tuple(_in_use)


class SecretStore:
    """Secrets of one session (or of ad-hoc CLI use with ``scope="adhoc"``)."""

    def __init__(self, scope: str) -> None:
        self.service = f"{SERVICE_PREFIX}:{scope}"
        self._in_memory: bool | None = None  # asked of the keyring on first use

    @property
    def in_memory(self) -> bool:
        """Whether there is no usable system keyring (secrets go to the file, or to memory)."""
        if self._in_memory is None:
            self._in_memory = not _backend_usable()
        return self._in_memory

    @in_memory.setter
    def in_memory(self, value: bool) -> None:
        self._in_memory = value

    @property
    def where(self) -> SecretsWhere:
        if not self.in_memory:
            return SecretsWhere.KEYRING
        with contextlib.suppress(SecretsFileError):  # a wrong passphrase: said where it is used
            open_file_store(ask=False)
        with _file_lock:
            return SecretsWhere.FILE if _file_store["backend"] is not None else SecretsWhere.MEMORY

    @property
    def persistent(self) -> bool:
        """Whether what is stored here is still there for the next run."""
        return self.where is not SecretsWhere.MEMORY

    @property
    def warning(self) -> str:
        if self.where is not SecretsWhere.MEMORY:
            return ""
        return (
            "No system keyring is available: passwords are kept in memory for this run only and "
            "will be asked for again next time. To keep them in an encrypted file instead, start "
            f"onboard in a terminal and give it a passphrase, or set {PASSPHRASE_ENV}."
        )

    def _file(self) -> Any:
        if not self.in_memory or not open_file_store():
            return None
        with _file_lock:
            return _file_store["backend"]

    def get(self, key: str) -> str | None:
        return remember_in_use(self._get(key))

    def _get(self, key: str) -> str | None:
        if not self.in_memory:
            keyring = _keyring()
            try:
                return keyring.get_password(self.service, key)
            except keyring.errors.KeyringError:
                self.in_memory = True
        with _memory_lock:
            if (self.service, key) in _memory:
                return _memory[(self.service, key)]
        backend = self._file()
        if backend is None:
            return None
        with _file_lock:  # one Argon2 derivation per secret and run: it is slow on purpose
            value = backend.get_password(self.service, key)
        if value is not None:
            with _memory_lock:
                _memory[(self.service, key)] = value
        return value

    def set(self, key: str, secret: str) -> None:
        remember_in_use(secret)
        if not self.in_memory:
            keyring = _keyring()
            try:
                keyring.set_password(self.service, key, secret)
                return
            except keyring.errors.KeyringError:
                self.in_memory = True
        backend = self._file()
        if backend is not None:
            with _file_lock:
                backend.set_password(self.service, key, secret)
        with _memory_lock:
            _memory[(self.service, key)] = secret

    def delete(self, key: str) -> None:
        keyring = _keyring()
        if not self.in_memory:
            try:
                keyring.delete_password(self.service, key)
            except keyring.errors.PasswordDeleteError:
                pass
            except keyring.errors.KeyringError:
                self.in_memory = True
        backend = self._file()
        if backend is not None:
            with _file_lock, contextlib.suppress(keyring.errors.PasswordDeleteError):
                backend.delete_password(self.service, key)
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
