"""How to reach the customer's IMAP server: the settings of step 3, without any secret.

Saved in the session as the setting ``imap.server`` (``to_setting``/``from_setting``); the copy
engine reads the same keys (host, port, security "tls"/"starttls"/"none", pin).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from ..forms import check_host, check_plain

if TYPE_CHECKING:
    from ..store import SessionStore

SETTING_KEY = "imap.server"


class Security(StrEnum):
    IMPLICIT_TLS = "tls"  # TLS from the first byte, usually port 993
    STARTTLS = "starttls"  # plain connect, then STARTTLS before login, usually port 143
    PLAIN = "none"  # no encryption at all: passwords cross the network in clear

    @property
    def label(self) -> str:
        return {
            Security.IMPLICIT_TLS: "Implicit TLS (IMAPS)",
            Security.STARTTLS: "STARTTLS",
            Security.PLAIN: "Plain text (no encryption)",
        }[self]

    @property
    def default_port(self) -> int:
        return 993 if self is Security.IMPLICIT_TLS else 143

    @classmethod
    def parse(cls, text: str) -> Security:
        aliases = {
            "tls": cls.IMPLICIT_TLS,
            "ssl": cls.IMPLICIT_TLS,
            "implicit": cls.IMPLICIT_TLS,
            "implicit-tls": cls.IMPLICIT_TLS,
            "imaps": cls.IMPLICIT_TLS,
            "starttls": cls.STARTTLS,
            "none": cls.PLAIN,
            "plain": cls.PLAIN,
        }
        try:
            return aliases[text.strip().lower()]
        except KeyError:
            raise ValueError(
                f"security {text!r} is not one of tls, starttls, none (plain)"
            ) from None


class AuthMode(StrEnum):
    PASSWORD = "password"  # each mailbox logs in with its own password
    MASTER = "master"  # Dovecot-style "user*master" with the master's password
    SASL_AUTHZID = "sasl-plain-authzid"  # SASL PLAIN: admin authenticates, acts as the user
    XOAUTH2 = "xoauth2"  # an OAuth2 access token pasted by the operator

    @property
    def label(self) -> str:
        return {
            AuthMode.PASSWORD: "Per-user password",
            AuthMode.MASTER: "Master user (user*master)",
            AuthMode.SASL_AUTHZID: "Admin login (SASL PLAIN with authorization identity)",
            AuthMode.XOAUTH2: "OAuth2 token (XOAUTH2)",
        }[self]

    @property
    def uses_master(self) -> bool:
        return self in (AuthMode.MASTER, AuthMode.SASL_AUTHZID)


@dataclass(frozen=True)
class ImapServerSettings:
    """The IMAP server of a migration. Secrets (passwords, tokens) are never part of it."""

    host: str
    port: int = 0  # 0: the security's default port
    security: Security = Security.IMPLICIT_TLS
    auth: AuthMode = AuthMode.PASSWORD
    master_user: str = ""
    pin: str = ""  # SHA-256 of the server certificate (hex), to trust a self-signed one
    timeout: float = 20.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "host", self.host.strip())
        object.__setattr__(self, "security", Security(self.security))
        object.__setattr__(self, "auth", AuthMode(self.auth))
        from ..tls import normalise_pin  # not at import: `onboard --help` names AuthMode

        object.__setattr__(self, "pin", normalise_pin(self.pin))
        object.__setattr__(self, "master_user", self.master_user.strip())
        if not self.host:
            raise ValueError("the IMAP server has no host name")
        object.__setattr__(self, "host", check_host(self.host, "IMAP server's host"))
        check_plain(self.master_user, "master user name")
        if not 0 <= int(self.port) <= 65535:
            raise ValueError(f"port {self.port} is not between 1 and 65535")
        if self.auth.uses_master and not self.master_user:
            raise ValueError(f"the authentication mode {self.auth.label} needs a master user name")

    @property
    def effective_port(self) -> int:
        return int(self.port) or self.security.default_port

    @property
    def address(self) -> str:
        return f"{self.host}:{self.effective_port}"

    def with_pin(self, pin: str) -> ImapServerSettings:
        return replace(self, pin=pin)

    def to_setting(self) -> dict[str, Any]:
        data = asdict(self)
        data["port"] = self.effective_port
        data["security"] = self.security.value
        data["auth"] = self.auth.value
        return data

    @classmethod
    def from_setting(cls, data: dict[str, Any]) -> ImapServerSettings:
        security = Security.parse(str(data.get("security") or "tls"))
        return cls(
            host=str(data.get("host") or ""),
            port=int(data.get("port") or 0),
            security=security,
            auth=AuthMode(str(data.get("auth") or AuthMode.PASSWORD.value)),
            master_user=str(data.get("master_user") or ""),
            pin=str(data.get("pin") or data.get("fingerprint") or ""),
            timeout=float(data.get("timeout") or 20.0),
        )


def load_settings(store: SessionStore) -> ImapServerSettings | None:
    """The session's IMAP server settings, or None when step 3 has not been filled in."""
    data = store.setting(SETTING_KEY)
    if not data or not data.get("host"):
        return None
    return ImapServerSettings.from_setting(data)


def save_settings(store: SessionStore, settings: ImapServerSettings) -> None:
    store.set_setting(SETTING_KEY, settings.to_setting())
