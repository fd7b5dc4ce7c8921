"""Which secret logs a mailbox in to the IMAP source, and where step 3 keeps it in the keyring.

- Per-user password: the mailbox's own password, ``source_password_key(login)``.
- Master login and SASL PLAIN with an authorization identity: the master/admin password, one for
  the whole server, under ``master_secret_key(master_user)``.
- XOAUTH2: the mailbox's own token if one was entered with the mailbox, else the token pasted in
  the server form, under ``SHARED_TOKEN_KEY``.

Keys other than the per-mailbox ones are noted with ``remember_secret_key`` so reports redact
them and deleting the session removes them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import activity
from ..secrets import SecretStore, remember_secret_key, source_password_key
from .settings import AuthMode, ImapServerSettings

if TYPE_CHECKING:
    from ..store import SessionStore  # the session is only passed through here

SHARED_TOKEN_KEY = "source-xoauth2:shared"


def master_secret_key(master_user: str) -> str:
    return f"source-master:{master_user}"


def server_secret_key(settings: ImapServerSettings) -> str | None:
    """The keyring key of the secret entered in the server form, or None for per-user mode."""
    if settings.auth.uses_master:
        return master_secret_key(settings.master_user)
    if settings.auth is AuthMode.XOAUTH2:
        return SHARED_TOKEN_KEY
    return None


def server_secret_label(auth: AuthMode) -> str:
    """What the form's secret field holds for this authentication mode ("" for none)."""
    return {
        AuthMode.PASSWORD: "",
        AuthMode.MASTER: "Master user's password",
        AuthMode.SASL_AUTHZID: "Admin password",
        AuthMode.XOAUTH2: "OAuth2 access token (for mailboxes without a token of their own)",
    }[auth]


def save_server_secret(
    store: SessionStore, secrets: SecretStore, settings: ImapServerSettings, secret: str
) -> None:
    """Keep the master password or shared token of these settings in the keyring."""
    key = server_secret_key(settings)
    if key is None:
        raise ValueError(f"the authentication mode {settings.auth.label} has no server secret")
    activity.add_secret(store, secret)  # before anything could log it
    secrets.set(key, secret)
    remember_secret_key(store, key)


def has_server_secret(secrets: SecretStore, settings: ImapServerSettings) -> bool:
    key = server_secret_key(settings)
    return key is not None and bool(secrets.get(key))


def mailbox_secret(secrets: SecretStore, settings: ImapServerSettings, login: str) -> str | None:
    """The secret ``wizard.imap.connect`` needs to log this mailbox in, or None if none is kept."""
    if settings.auth.uses_master:
        return secrets.get(master_secret_key(settings.master_user))
    own = secrets.get(source_password_key(login))
    if settings.auth is AuthMode.XOAUTH2:
        return own or secrets.get(SHARED_TOKEN_KEY)
    return own
