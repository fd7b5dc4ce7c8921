"""IMAP settings body: how to reach the customer's IMAP server, and the mailboxes to migrate.

The server form saves ``wizard.imap.ImapServerSettings`` in the session; the master password or
OAuth2 token goes to the keyring. Certificates are always verified: a self-signed one is trusted
only by pinning its SHA-256 fingerprint after the operator confirmed it. The mailbox table is the
session's mailbox list (add, edit, remove, import a CSV all or nothing). Saving, pin keeping and
pinning are ``wizard.steps.imap_settings``'s.
"""

from __future__ import annotations

import contextlib
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Input, Label, Select, Static

from wizard.imap import (
    AuthMode,
    CertificateInfo,
    ImapError,
    ImapServerSettings,
    Security,
    fetch_certificate,
)
from wizard.imap.credentials import has_server_secret, save_server_secret, server_secret_label
from wizard.imap.mailbox_list import has_password, remove_mailbox
from wizard.playbook import Kind
from wizard.secrets import SecretStore
from wizard.session_records import Mailbox
from wizard.steps.imap_settings import ImapSettingsController, keep_pin
from wizard.tls import format_fingerprint

from ..dialogs import ConfirmDialog
from ..dialogs.csv_import import CsvImportDialog
from ..dialogs.mailbox import MailboxDialog
from .base import StepBody, register_body, reveal

PLAIN_WARNING = (
    "⚠ PLAIN TEXT: with no encryption every password and every message crosses the network in "
    "clear, readable by anyone on the path. Use it only on a network you trust, and prefer TLS."
)


class MailboxTable(DataTable[str]):
    """The mailbox list; its own keys act on the highlighted row."""

    BINDINGS = [
        Binding("e", "edit_mailbox", "Edit mailbox"),
        Binding("delete", "remove_mailbox", "Remove mailbox"),
    ]

    def action_edit_mailbox(self) -> None:
        self.query_ancestor(SourceSettingsBody).action_edit_mailbox()

    def action_remove_mailbox(self) -> None:
        self.query_ancestor(SourceSettingsBody).action_remove_mailbox()


@register_body(Kind.IMAP_SETTINGS)
class SourceSettingsBody(StepBody):
    BINDINGS = [
        Binding("ctrl+s", "save_server", "Save server"),
        Binding("f7", "fetch_certificate", "Certificate"),
        Binding("f8", "add_mailbox", "Add mailbox"),
        Binding("f9", "import_csv", "Import CSV"),
    ]
    DEFAULT_CSS = """
    SourceSettingsBody { height: auto; }
    SourceSettingsBody .row { height: auto; }
    SourceSettingsBody .field { height: auto; width: 1fr; }
    SourceSettingsBody .field Label { padding: 0 1; color: $text-muted; }
    SourceSettingsBody #field-host { width: 2fr; }
    SourceSettingsBody #field-port { width: 12; }
    SourceSettingsBody #field-security { width: 36; }
    SourceSettingsBody #plain-warning {
        display: none; background: $error; color: $text; text-style: bold; padding: 0 1;
    }
    SourceSettingsBody #plain-warning.shown { display: block; }
    SourceSettingsBody .hidden { display: none; }
    SourceSettingsBody #keyring-warning { color: $warning; }
    SourceSettingsBody #cert-line { margin: 1 0 0 0; }
    SourceSettingsBody .status { margin: 1 0; }
    SourceSettingsBody .status.error { color: $error; }
    SourceSettingsBody .status.ok { color: $success; }
    SourceSettingsBody #mailbox-table { height: auto; max-height: 20; }
    SourceSettingsBody .section { margin-top: 1; text-style: bold; }
    """
    controller: ImapSettingsController

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.secrets = SecretStore(self.store.name)
        self.saved = self.controller.saved()
        self._port_default = (
            self.saved.security if self.saved else Security.IMPLICIT_TLS
        ).default_port

    # ----- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        saved = self.saved
        security = saved.security if saved else Security.IMPLICIT_TLS
        auth = saved.auth if saved else AuthMode.PASSWORD
        yield Label("IMAP server of the customer", classes="section")
        with Horizontal(classes="row"):
            with Vertical(classes="field", id="field-host"):
                yield Label("Host")
                yield Input(
                    saved.host if saved else "", placeholder="imap.customer.example", id="imap-host"
                )
            with Vertical(classes="field", id="field-port"):
                yield Label("Port")
                yield Input(
                    str(saved.effective_port if saved else security.default_port),
                    placeholder="port",
                    type="integer",
                    id="imap-port",
                )
            with Vertical(classes="field", id="field-security"):
                yield Label("Security")
                yield Select(
                    [(s.label, s) for s in Security],
                    value=security,
                    allow_blank=False,
                    id="imap-security",
                )
        yield Static(PLAIN_WARNING, id="plain-warning", markup=False)
        if self.secrets.warning:
            yield Static(self.secrets.warning, id="keyring-warning", markup=False)
        with Horizontal(classes="row"):
            with Vertical(classes="field", id="field-auth"):
                yield Label("Login method")
                yield Select(
                    [(a.label, a) for a in AuthMode], value=auth, allow_blank=False, id="imap-auth"
                )
            with Vertical(classes="field", id="field-master"):
                yield Label("Master / admin user")
                yield Input(
                    saved.master_user if saved else "",
                    placeholder="e.g. migration",
                    id="imap-master",
                )
            with Vertical(classes="field", id="field-secret"):
                yield Label("", id="secret-label")
                yield Input(password=True, id="imap-secret")
        yield Static("", id="cert-line")
        with Horizontal(classes="row"):
            yield Button("Save server (ctrl+s)", id="save-server", variant="primary")
            yield Button("Fetch certificate (F7)", id="fetch-certificate")
        yield Static("", classes="status", id="server-status")
        yield Label("Mailboxes to migrate", classes="section")
        yield Static("", id="mailbox-count")
        table = MailboxTable(id="mailbox-table", cursor_type="row", zebra_stripes=True)
        for key, label in (
            ("login", "Source login"),
            ("target", "Target address"),
            ("display", "Display name"),
            ("password", "Password"),
        ):
            table.add_column(label, key=key)
        yield table
        with Horizontal(classes="row"):
            yield Button("Add (F8)", id="add-mailbox")
            yield Button("Edit (e)", id="edit-mailbox")
            yield Button("Remove (del)", id="remove-mailbox", variant="error")
            yield Button("Import CSV (F9)", id="import-csv")
        yield Static("", classes="status", id="mailbox-status")

    def on_mount(self) -> None:
        self._show_security(self._security())
        self._show_auth(self._auth())
        self._show_certificate()
        self.refresh_mailboxes()

    # ----- reading the form ----------------------------------------------------------------------

    def _security(self) -> Security:
        return Security(self.query_one("#imap-security", Select).value)

    def _auth(self) -> AuthMode:
        return AuthMode(self.query_one("#imap-auth", Select).value)

    def form_settings(self) -> ImapServerSettings:
        """The settings the form shows; the saved pin is kept while host and port stay the same.
        Raises ValueError saying what to fix."""
        port_text = self.query_one("#imap-port", Input).value.strip()
        try:
            port = int(port_text) if port_text else 0
        except ValueError:
            raise ValueError(f"the port {port_text!r} is not a number") from None
        if port_text and not 1 <= port <= 65535:
            raise ValueError(f"the port {port} is not between 1 and 65535")
        auth = self._auth()
        settings = ImapServerSettings(
            host=self.query_one("#imap-host", Input).value,
            port=port,
            security=self._security(),
            auth=auth,
            master_user=self.query_one("#imap-master", Input).value if auth.uses_master else "",
            timeout=self.saved.timeout if self.saved else 20.0,
        )
        return keep_pin(settings, self.saved)

    # ----- showing -----------------------------------------------------------------------------

    def _show_security(self, security: Security) -> None:
        self.query_one("#plain-warning", Static).set_class(security is Security.PLAIN, "shown")

    def _show_auth(self, auth: AuthMode) -> None:
        self.query_one("#field-master").set_class(not auth.uses_master, "hidden")
        secret = self.query_one("#imap-secret", Input)
        label = server_secret_label(auth)
        self.query_one("#field-secret").set_class(not label, "hidden")
        self.query_one("#secret-label", Label).update(label.split(" (")[0])
        if label:
            stored = False
            with contextlib.suppress(ValueError):
                stored = has_server_secret(self.secrets, self.form_settings())
            secret.placeholder = (
                f"{label}: stored in {self.secrets.where.short}, type to replace"
                if stored
                else label
            )

    def _show_certificate(self) -> None:
        line = Text()
        saved = self.saved
        if saved is None:
            line.append("Server not saved yet.", style="dim")
        elif saved.security is Security.PLAIN:
            line.append("No TLS: there is no certificate to check.", style="bold red")
        elif saved.pin:
            line.append("Certificate pinned, SHA-256 ", style="green")
            line.append(format_fingerprint(saved.pin))
        else:
            line.append(
                "Certificate must be trusted by the system's CA store; fetch it (F7) to check, "
                "or to pin a self-signed one.",
                style="dim",
            )
        self.query_one("#cert-line", Static).update(line)

    def say(self, text: str, *, error: bool = False, target: str = "#server-status") -> None:
        """The answer to what the operator just did, in view with where they did it."""
        status = self.query_one(target, Static)
        status.update(text)
        status.set_class(error, "error")
        status.set_class(not error, "ok")
        reveal(None, status)

    def refresh_mailboxes(self, select: int | None = None) -> None:
        table = self.query_one("#mailbox-table", MailboxTable)
        table.clear()
        mailboxes = self.store.mailboxes()
        master = self.saved is not None and self.saved.auth.uses_master
        for mailbox in mailboxes:
            # What the "Password" column says about the secret (never the secret itself).
            if has_password(self.secrets, mailbox.source_login):
                secret_state = {"keyring": "in keyring", "file": "in secrets file"}.get(
                    self.secrets.where.value, "this run only"
                )
            else:
                secret_state = "master login" if master else "—"
            table.add_row(
                mailbox.source_login,
                mailbox.target_address,
                mailbox.display_name,
                secret_state,
                key=str(mailbox.id),
            )
        if select is not None and str(select) in table.rows:
            table.move_cursor(row=table.get_row_index(str(select)))
        count = len(mailboxes)
        self.query_one("#mailbox-count", Static).update(
            f"{count} mailbox{'es' if count != 1 else ''}"
            + ("" if count else ": add them one by one (F8) or import a CSV (F9)")
        )
        self.post_message(StepBody.EvidenceAdded())  # server and list prove checklist items

    # ----- events ------------------------------------------------------------------------------

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.select.id == "imap-security":
            security = self._security()
            port = self.query_one("#imap-port", Input)
            if port.value.strip() in ("", str(self._port_default)):
                port.value = str(security.default_port)
            self._port_default = security.default_port
            self._show_security(security)
        elif event.select.id == "imap-auth":
            self._show_auth(self._auth())

    def on_button_pressed(self, event: Button.Pressed) -> None:
        actions = {
            "save-server": self.action_save_server,
            "fetch-certificate": self.action_fetch_certificate,
            "add-mailbox": self.action_add_mailbox,
            "edit-mailbox": self.action_edit_mailbox,
            "remove-mailbox": self.action_remove_mailbox,
            "import-csv": self.action_import_csv,
        }
        if event.button.id in actions:
            event.stop()
            actions[event.button.id]()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "mailbox-table":
            event.stop()
            self.action_edit_mailbox()

    # ----- server actions ----------------------------------------------------------------------

    def action_save_server(self) -> None:
        try:
            settings = self.form_settings()
        except ValueError as exc:
            self.say(f"Not saved: {exc}.", error=True)
            return
        dropped = bool(self.saved and self.saved.pin and not settings.pin)
        self._save(settings)
        secret_input = self.query_one("#imap-secret", Input)
        notes: list[str] = []
        label = server_secret_label(settings.auth)
        if secret_input.value and label:
            save_server_secret(self.store, self.secrets, settings, secret_input.value)
            secret_input.value = ""
            notes.append(f"The secret is in {self.secrets.where.label}.")
        elif label and not has_server_secret(self.secrets, settings):
            notes.append(
                f"No {label.split(' (')[0].lower()} is stored yet: type it and save again."
            )
        if dropped:
            notes.append("The pinned certificate was dropped because the server changed.")
        self._show_auth(settings.auth)
        note = "".join(f" {n}" for n in notes)
        if settings.security is Security.PLAIN:
            self.say(
                f"Saved {settings.address}, WITHOUT encryption: passwords will cross the network "
                f"in clear.{note}",
                error=True,
            )
        else:
            self.say(f"Server {settings.address} ({settings.security.label}) saved.{note}")

    def _save(self, settings: ImapServerSettings) -> None:
        self.controller.save_server(settings)
        self._saved(settings)

    def _saved(self, settings: ImapServerSettings) -> None:
        self.saved = settings
        self._show_certificate()
        self.refresh_mailboxes()

    def action_fetch_certificate(self) -> None:
        try:
            settings = self.form_settings()
        except ValueError as exc:
            self.say(f"Cannot fetch the certificate: {exc}.", error=True)
            return
        if settings.security is Security.PLAIN:
            self.say(
                "A plain-text connection has no certificate: choose TLS or STARTTLS.", error=True
            )
            return
        self.say(f"Fetching the certificate of {settings.address}…")
        self._fetch(settings)

    @work(thread=True, exclusive=True, group="imap-certificate")
    def _fetch(self, settings: ImapServerSettings) -> None:
        try:
            info = fetch_certificate(settings)
        except ImapError as exc:
            self.app.call_from_thread(self._fetch_failed, exc.failure.message)
            return
        self.app.call_from_thread(self._certificate_fetched, settings, info)

    def _fetch_failed(self, message: str) -> None:
        if self.is_attached:  # the operator may have left the step meanwhile
            self.say(message, error=True)

    def _certificate_fetched(self, settings: ImapServerSettings, info: CertificateInfo) -> None:
        if not self.is_attached:
            return
        shown = format_fingerprint(info.fingerprint)
        if info.trusted:
            self.say(
                f"The certificate of {settings.address} is trusted by the system "
                f"({info.issuer or 'a public CA'}); no pin is needed. SHA-256 {shown}"
            )
            return
        if settings.pin == info.fingerprint:
            self.say(f"The certificate of {settings.address} is the pinned one (SHA-256 {shown}).")
            return
        lines = [
            f"{settings.address} shows a certificate the system does not trust"
            + (f" ({info.trust_error})." if info.trust_error else "."),
            "",
            f"SHA-256 fingerprint:\n{shown}",
            "",
        ]
        if info.subject:
            lines.append(f"Subject: {info.subject}")
        if info.issuer:
            lines.append(
                f"Issuer:  {info.issuer}" + ("  (self-signed)" if info.self_signed else "")
            )
        if info.not_after:
            lines.append(f"Valid:   {info.not_before} to {info.not_after}")
        if settings.pin:
            lines += ["", f"It is NOT the pinned certificate ({format_fingerprint(settings.pin)})."]
        lines += [
            "",
            "Compare the fingerprint with the one the customer's administrator reads on the "
            "server. Pin it only if they match.",
        ]

        def answer(yes: bool | None) -> None:
            if yes:
                self._pin(settings, info)
            else:
                self.say(
                    "Certificate not pinned; connections to this server will be refused.",
                    error=True,
                )

        self.app.push_screen(
            ConfirmDialog(
                "Pin this certificate?",
                "\n".join(lines),
                yes="Pin this certificate",
                no="Do not pin",
            ),
            answer,
        )

    def _pin(self, settings: ImapServerSettings, info: CertificateInfo) -> None:
        self._saved(self.controller.pin_certificate(settings, info))
        self.post_message(StepBody.EvidenceAdded())
        self.say(
            f"Certificate pinned and settings saved: SHA-256 {format_fingerprint(info.fingerprint)}"
        )

    # ----- mailbox actions ---------------------------------------------------------------------

    def _selected(self) -> Mailbox | None:
        table = self.query_one("#mailbox-table", MailboxTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((m for m in self.store.mailboxes() if str(m.id) == key), None)

    def _after_dialog(self, verb: str) -> Any:
        def done(mailbox: Mailbox | None) -> None:
            if mailbox is not None:
                self.refresh_mailboxes(select=mailbox.id)
                self.say(f"Mailbox {mailbox.target_address} {verb}.", target="#mailbox-status")

        return done

    def action_add_mailbox(self) -> None:
        self.app.push_screen(MailboxDialog(self.store, self.secrets), self._after_dialog("added"))

    def action_edit_mailbox(self) -> None:
        mailbox = self._selected()
        if mailbox is None:
            self.say("No mailbox to edit: add one first.", error=True, target="#mailbox-status")
            return
        self.app.push_screen(
            MailboxDialog(self.store, self.secrets, mailbox), self._after_dialog("saved")
        )

    def action_remove_mailbox(self) -> None:
        mailbox = self._selected()
        if mailbox is None:
            self.say("No mailbox to remove.", error=True, target="#mailbox-status")
            return

        def answer(yes: bool | None) -> None:
            if yes:
                remove_mailbox(self.store, self.secrets, mailbox.id)
                self.refresh_mailboxes()
                self.say(f"Mailbox {mailbox.target_address} removed.", target="#mailbox-status")

        self.app.push_screen(
            ConfirmDialog(
                "Remove this mailbox?",
                f"{mailbox.source_login} → {mailbox.target_address} leaves the migration list, "
                "with its stored password.",
                yes="Remove",
                no="Keep",
            ),
            answer,
        )

    def action_import_csv(self) -> None:
        def done(result: Any) -> None:
            if result is None:
                return
            self.refresh_mailboxes()
            count = len(result.added)
            plural = "s" if result.passwords != 1 else ""
            kept = f"{result.passwords} password{plural} to {result.kept_in}"
            if result.not_kept:
                kept = f"no password stored: {result.not_kept} kept for this run only, no keyring"
            self.say(
                f"Imported {count} mailbox{'es' if count != 1 else ''} ({kept}).",
                target="#mailbox-status",
            )

        self.app.push_screen(CsvImportDialog(self.store, self.secrets), done)
