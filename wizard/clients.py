"""What each mail client needs to reach the new account, generated from the provider profile."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

from .profile import ProviderProfile


@dataclass(frozen=True)
class ClientSetting:
    label: str
    value: str


@dataclass(frozen=True)
class ClientGuide:
    id: str
    name: str
    how: str
    settings: tuple[ClientSetting, ...]


def client_guides(profile: ProviderProfile, domain: str) -> list[ClientGuide]:
    """Outlook, webmail and phones, each with the values the user types or checks."""
    user = f"user@{domain}"
    ews_host = urlparse(profile.ews_url).hostname or profile.ews_url
    return [
        ClientGuide(
            id="outlook",
            name="Outlook (Windows and Mac)",
            how=(
                "Add a new profile or account with the user's full address. Outlook asks "
                f"Autodiscover at autodiscover.{domain} and fills in the rest; only the password "
                "is typed by the user."
            ),
            settings=(
                ClientSetting("Email address", user),
                ClientSetting(
                    "Autodiscover record", f"autodiscover.{domain} → {profile.autodiscover_target}"
                ),
                ClientSetting("Exchange server (if asked)", ews_host),
                ClientSetting("Account type", "Exchange"),
            ),
        ),
        ClientGuide(
            id="webmail",
            name="Webmail (Outlook on the web)",
            how="Replace the old webmail bookmark with the new address and sign in with the full address.",
            settings=(
                ClientSetting("Address", profile.owa_url),
                ClientSetting("User name", user),
            ),
        ),
        ClientGuide(
            id="phones",
            name="Phones and tablets (Exchange ActiveSync)",
            how=(
                "Remove the old IMAP account from the device, then add an Exchange account. Most "
                "devices find the server from the address; otherwise enter it by hand."
            ),
            settings=(
                ClientSetting("Account type", "Exchange / ActiveSync"),
                ClientSetting("Server", profile.activesync_host),
                ClientSetting("User name", user),
                ClientSetting("Domain", "(leave empty)"),
                ClientSetting("Security", "SSL/TLS on"),
            ),
        ),
    ]
