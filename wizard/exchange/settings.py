"""How to reach the provider's Exchange over EWS: the settings of step 4's target half, no secret.

Saved in the session as the setting ``exchange.server``. Passwords live in the keyring only, under
``target_password_key(login)`` of the service account (impersonation) or of each mailbox.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..forms import check_plain, refuse_password_in_url

if TYPE_CHECKING:
    from ..store import SessionStore

SETTING_KEY = "exchange.server"
EVIDENCE_KIND = "exchange-mailboxes"

__all__ = [
    "Access",
    "AuthType",
    "ExchangeSettings",
    "load_settings",
    "save_settings",
]


class AuthType(StrEnum):
    NTLM = "ntlm"
    BASIC = "basic"

    @property
    def label(self) -> str:
        return {AuthType.NTLM: "NTLM", AuthType.BASIC: "Basic (over TLS only)"}[self]


class Access(StrEnum):
    IMPERSONATION = "impersonation"  # one service account with ApplicationImpersonation
    DELEGATE = "delegate"  # each mailbox logs in with its own credentials

    @property
    def label(self) -> str:
        return {
            Access.IMPERSONATION: "Service account with ApplicationImpersonation",
            Access.DELEGATE: "Each mailbox's own login",
        }[self]


@dataclass(frozen=True)
class ExchangeSettings:
    """The provider's Exchange as this tool reaches it. Secrets are never part of it."""

    ews_url: str
    auth: AuthType = AuthType.NTLM
    access: Access = Access.IMPERSONATION
    service_account: str = ""  # the impersonating login (DOMAIN\\user or user@domain)
    pin: str = ""  # SHA-256 of the server certificate (hex), to trust a self-signed one
    timeout: float = 60.0
    autodiscover_address: str = ""  # the address the URL was found from, if Autodiscover found it

    def __post_init__(self) -> None:
        object.__setattr__(self, "ews_url", self.ews_url.strip())
        object.__setattr__(self, "auth", AuthType(self.auth))
        object.__setattr__(self, "access", Access(self.access))
        from ..tls import normalise_pin  # not at import: `onboard --help` names these enums

        object.__setattr__(self, "pin", normalise_pin(self.pin))
        object.__setattr__(self, "service_account", self.service_account.strip())
        parts = urlsplit(self.ews_url)
        if parts.password is not None:  # checked first: no message below may echo it
            raise refuse_password_in_url(parts.scheme, parts.username or "", parts.hostname or "")
        check_plain(self.ews_url, "EWS URL")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"{self.ews_url!r} is not an EWS URL like https://mail.example.net/EWS/Exchange.asmx"
            )
        if self.access is Access.IMPERSONATION and not self.service_account:
            raise ValueError("impersonation needs the service account's login name")
        if self.pin and parts.scheme != "https":
            raise ValueError("a certificate pin needs an https:// EWS URL")

    @property
    def host(self) -> str:
        return urlsplit(self.ews_url).hostname or ""

    @property
    def port(self) -> int:
        parts = urlsplit(self.ews_url)
        return parts.port or (443 if parts.scheme == "https" else 80)

    @property
    def tls(self) -> bool:
        return urlsplit(self.ews_url).scheme == "https"

    def login_for(self, mailbox: str) -> str:
        """Who logs in to reach ``mailbox``: the service account, or the mailbox itself."""
        return self.service_account if self.access is Access.IMPERSONATION else mailbox

    def password_key(self, mailbox: str) -> str:
        """The keyring key of the password used to reach ``mailbox``."""
        from ..secrets import target_password_key

        return target_password_key(self.login_for(mailbox))

    def with_pin(self, pin: str) -> ExchangeSettings:
        return replace(self, pin=pin)

    def to_setting(self) -> dict[str, Any]:
        data = asdict(self)
        data["auth"] = self.auth.value
        data["access"] = self.access.value
        return data

    @classmethod
    def from_setting(cls, data: dict[str, Any]) -> ExchangeSettings:
        return cls(
            ews_url=str(data.get("ews_url") or ""),
            auth=AuthType(str(data.get("auth") or AuthType.NTLM.value)),
            access=Access(str(data.get("access") or Access.IMPERSONATION.value)),
            service_account=str(data.get("service_account") or ""),
            pin=str(data.get("pin") or ""),
            timeout=float(data.get("timeout") or 60.0),
            autodiscover_address=str(data.get("autodiscover_address") or ""),
        )


def load_settings(store: SessionStore) -> ExchangeSettings | None:
    """The session's Exchange settings, or None when none were saved yet."""
    data = store.setting(SETTING_KEY)
    if not data or not data.get("ews_url"):
        return None
    return ExchangeSettings.from_setting(data)


def default_settings(store: SessionStore) -> ExchangeSettings | None:
    """Saved settings, else the provider profile's EWS URL with per-mailbox logins (a start)."""
    saved = load_settings(store)
    if saved is not None:
        return saved
    url = store.profile.ews_url
    return ExchangeSettings(url, access=Access.DELEGATE) if url else None


def save_settings(store: SessionStore, settings: ExchangeSettings) -> None:
    store.set_setting(SETTING_KEY, settings.to_setting())
