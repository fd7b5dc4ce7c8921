"""IMAP-settings step: how to reach the customer's IMAP server, and the mailboxes to migrate.

The server is ``wizard.imap.ImapServerSettings`` (the setting "imap.server"); a self-signed
certificate is trusted only by pinning its fingerprint after the operator confirmed it, recorded
as "imap-certificate-pin" evidence. A saved pin is kept while host, port and TLS stay the same.
The saved server ticks "server" and "auth" (the login method is part of it), a mailbox list
ticks "mailboxes"; with both the step's work is done.
"""

from __future__ import annotations

from .. import activity
from ..imap import CertificateInfo, ImapServerSettings, Security, load_settings, save_settings
from ..imap.settings import SETTING_KEY
from ..playbook import Kind
from .base import Proof, StepController

PIN_KIND = "imap-certificate-pin"


def keep_pin(settings: ImapServerSettings, saved: ImapServerSettings | None) -> ImapServerSettings:
    """The form's settings with the saved pin, while they still name the pinned server."""
    if (
        saved
        and saved.pin
        and settings.security is not Security.PLAIN
        and saved.host.lower() == settings.host.lower()
        and saved.effective_port == settings.effective_port
    ):
        return settings.with_pin(saved.pin)
    return settings


class ImapSettingsController(StepController):
    kind = Kind.IMAP_SETTINGS
    records = (PIN_KIND,)
    engines = ("wizard.imap",)

    def saved(self) -> ImapServerSettings | None:
        return load_settings(self.store)

    def save_server(self, settings: ImapServerSettings) -> None:
        """Save the server and say so in the activity log (a warning when it is plain text)."""
        save_settings(self.store, settings)
        activity.log_event(
            self.store,
            "warning" if settings.security is Security.PLAIN else "info",
            "imap",
            "settings",
            f"IMAP server {settings.address} saved ({settings.security.label}, {settings.auth.label})",
        )

    def pin_certificate(
        self, settings: ImapServerSettings, info: CertificateInfo
    ) -> ImapServerSettings:
        """Trust this certificate from now on: saved with the server, as evidence and in the log."""
        pinned = settings.with_pin(info.fingerprint)
        save_settings(self.store, pinned)
        self.record(
            PIN_KIND,
            f"Certificate of {pinned.address} pinned after the operator confirmed its fingerprint",
            {
                "host": info.host,
                "port": info.port,
                "fingerprint": info.fingerprint,
                "subject": info.subject,
                "issuer": info.issuer,
                "not_after": info.not_after,
                "self_signed": info.self_signed,
            },
            ok=True,
        )
        activity.log_event(
            self.store,
            "info",
            "imap",
            "pin",
            f"certificate of {pinned.address} pinned after the operator confirmed it",
            fingerprint=info.fingerprint,
        )
        return pinned

    def proofs(self) -> dict[str, Proof]:
        found: dict[str, Proof] = {}
        server = self.saved()
        if server is not None:
            at = self.setting_time(SETTING_KEY)
            found["server"] = Proof(f"IMAP server {server.address} ({server.security.label})", at)
            found["auth"] = Proof(f"Login method: {server.auth.label}", at)
        mailboxes = self.store.mailboxes()
        if mailboxes:
            found["mailboxes"] = Proof(f"{len(mailboxes)} mailboxes in the list")
        return found

    def work_result(self) -> str:
        server, count = self.saved(), len(self.store.mailboxes())
        if server is None or not count:
            return ""
        return f"IMAP server {server.address} saved and {count} mailboxes listed."
