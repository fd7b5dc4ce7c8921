"""Mailbox jobs from a session: its mailbox list, source server, target and stored passwords.

The source server is the one recorded in step 3 (setting ``imap.server``). The target is the
provider's Exchange, written through the Exchange engine (wizard.exchange) with the session's
Exchange settings from step 4 (else the profile's EWS URL, each mailbox logging in as itself) unless the setting ``copy.target`` names an IMAP server for an IMAP-to-IMAP move:
``{"url": "imaps://host:993", "pin": "..."}``. Passwords come from the environment
(ONBOARD_SOURCE_PASSWORD / ONBOARD_DEST_PASSWORD), the session's keyring entries, or a prompt.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from ..activity import add_secret
from ..cliutil import resolve_password
from ..endpoint import Endpoint, parse_endpoint, parse_server
from ..envvars import DEST_PASSWORD_ENV, SOURCE_PASSWORD_ENV
from ..imap.credentials import mailbox_secret, master_secret_key
from ..imap.settings import ImapServerSettings, load_settings
from ..secrets import SecretStore, source_password_key, target_password_key
from ..store import Mailbox, SessionStore
from .connect import session_source_factory, target_factory, with_target_pin_advice
from .engine import MailboxJob
from .errors import CopyError
from .target import TargetFactory

if TYPE_CHECKING:
    from wizard.exchange.settings import ExchangeSettings
from .folder_map import PlanOptions

SOURCE_SETTING = "imap.server"
TARGET_SETTING = "copy.target"


class SessionNotReady(CopyError):
    """The session lacks what a copy needs (step 3's server, its mailboxes): says which step."""


# {"folder_roles": {"Gesendet": "sent"}}: the roles the operator chose in the copy step
PLAN_SETTING = "copy.plan"


def source_settings(store: SessionStore) -> ImapServerSettings:
    """The session's IMAP server as step 3 saved it (host, security, pin, login mode)."""
    try:
        settings = load_settings(store)
    except (ValueError, KeyError) as exc:
        raise SessionNotReady(
            f"session {store.name}: the IMAP server of step 3 is not usable ({exc})"
        ) from exc
    if settings is None:
        raise SessionNotReady(
            f"session {store.name} has no IMAP server yet: enter it in step 3 first"
        )
    return settings


def target_endpoint(store: SessionStore) -> Endpoint:
    configured: dict[str, Any] | None = store.setting(TARGET_SETTING)
    if configured and configured.get("url"):
        url = str(configured["url"])
        named = "@" in url.partition("://")[2]  # the mailbox's address is the login here
        server = parse_endpoint(url) if named else parse_server(url)
        return replace(server, user="", pin=str(configured.get("pin") or ""))
    ews = urlparse(store.profile.ews_url)
    return Endpoint(
        kind="ews",
        host=ews.hostname or "",
        port=ews.port or (443 if ews.scheme == "https" else 80),
        user="",
        security="tls" if ews.scheme == "https" else "none",
        path=ews.path,
    )


def plan_options(store: SessionStore, base: PlanOptions) -> PlanOptions:
    """The caller's plan options, with the profile's largest message when they set no limit and
    the folder roles the operator chose in the copy step (one given on the command line wins)."""
    saved: dict[str, Any] = store.setting(PLAN_SETTING) or {}
    limit = base.size_limit
    if limit is None:
        limit = store.profile.max_message_mb * 1024 * 1024
    chosen = dict(saved.get("folder_roles", {}))
    chosen.update(dict(base.role_overrides))
    return replace(base, size_limit=limit, role_overrides=tuple(sorted(chosen.items())))


def save_folder_role(store: SessionStore, folder: str, role: str | None) -> None:
    """Remember the operator's role for a source folder ("none": a user folder; None: back to
    what the source says) for every copy and verification of the session."""
    saved: dict[str, Any] = dict(store.setting(PLAN_SETTING) or {})
    roles = dict(saved.get("folder_roles", {}))
    if role is None:
        roles.pop(folder, None)
    else:
        roles[folder] = role
    saved["folder_roles"] = roles
    store.set_setting(PLAN_SETTING, saved)


def select_mailboxes(store: SessionStore, wanted: Sequence[str]) -> list[Mailbox]:
    mailboxes = store.mailboxes()
    if not mailboxes:
        raise SessionNotReady(f"session {store.name} has no mailboxes yet: add them in step 3")
    if not wanted:
        return mailboxes
    chosen: list[Mailbox] = []
    for name in wanted:
        match = [
            m
            for m in mailboxes
            if name.lower() in (m.target_address.lower(), m.source_login.lower())
        ]
        if not match:
            raise SessionNotReady(f"session {store.name} has no mailbox {name!r}")
        chosen.extend(m for m in match if m not in chosen)
    return chosen


class MissingPassword(CopyError):
    """A mailbox's password is neither in the environment nor in the keyring."""


def _password(env_var: str, secrets: SecretStore, key: str, prompt: str, interactive: bool) -> str:
    if interactive:
        return resolve_password(env_var=env_var, secrets=secrets, key=key, prompt=prompt)
    value = os.environ.get(env_var) or secrets.get(key)
    if not value:
        raise MissingPassword(
            f"no password stored for {key.split(':', 1)[-1]}: enter it in step 3 or 4 first"
        )
    return value


def session_jobs(
    store: SessionStore,
    wanted: Sequence[str],
    options: PlanOptions,
    *,
    passwords: dict[str, tuple[str, str]] | None = None,
    interactive: bool = True,
) -> list[MailboxJob]:
    """One job per chosen mailbox. ``passwords`` (address → (source, target)) skips the look-up.
    With ``interactive=False`` (the app) a password missing from the environment and the keyring
    raises MissingPassword instead of prompting."""
    imap = source_settings(store)
    target = target_endpoint(store)
    # An Exchange target goes through the Exchange engine with the session's own settings
    # (EWS URL, auth type, impersonation, pin); an IMAP target set in "copy.target" does not.
    exchange = _exchange_settings(store) if target.kind == "ews" else None
    secrets = SecretStore(store.name)
    options = plan_options(store, options)
    jobs: list[MailboxJob] = []
    for mailbox in select_mailboxes(store, wanted):
        if passwords and mailbox.target_address in passwords:
            source_pw, target_pw = passwords[mailbox.target_address]
        else:
            source_pw = _source_secret(imap, secrets, mailbox.source_login, interactive)
            target_pw = _password(
                DEST_PASSWORD_ENV,
                secrets,
                exchange.password_key(mailbox.target_address)
                if exchange
                else target_password_key(mailbox.target_address),
                f"Password of {mailbox.target_address} on {target.host}: ",
                interactive,
            )
        add_secret(store, source_pw)  # a prompted password must not reach the activity log
        add_secret(store, target_pw)
        jobs.append(
            MailboxJob(
                mailbox=mailbox.target_address,
                source=session_source_factory(imap, mailbox.source_login, source_pw),
                target=_target(store, target, exchange, mailbox.target_address, target_pw),
                options=options,
                label=mailbox.source_login,
            )
        )
    return jobs


def _exchange_settings(store: SessionStore) -> ExchangeSettings | None:
    from wizard.exchange.settings import default_settings

    return default_settings(store)


def _target(
    store: SessionStore,
    endpoint: Endpoint,
    exchange: ExchangeSettings | None,
    address: str,
    password: str,
) -> TargetFactory:
    limit = store.profile.max_message_mb * 1024 * 1024
    if exchange is not None:
        from wizard.copy.exchange_target import exchange_target_factory

        connect = exchange_target_factory(exchange, address, password, max_message_size=limit)
        return with_target_pin_advice(connect, exchange.host)
    return target_factory(replace(endpoint, user=address), password, max_message_size=limit)


def _source_secret(
    settings: ImapServerSettings, secrets: SecretStore, login: str, interactive: bool
) -> str:
    """The secret that logs ``login`` in: its password, the master user's password or the
    OAuth2 token, as step 3's login mode says."""
    env = os.environ.get(SOURCE_PASSWORD_ENV)
    if env:
        return env
    kept = mailbox_secret(secrets, settings, login)
    if kept:
        return kept
    if settings.auth.uses_master:
        what, key = (
            f"Password of the master user {settings.master_user} on {settings.host}: ",
            master_secret_key(settings.master_user),
        )
    else:
        what, key = f"Password of {login} on {settings.host}: ", source_password_key(login)
    return _password(SOURCE_PASSWORD_ENV, secrets, key, what, interactive)
