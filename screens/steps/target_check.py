"""Step 4, target half: do the customer's mailboxes exist on the provider's Exchange?

The operator enters how to reach EWS (URL from the provider profile or found by Autodiscover for an
address, login mode, password kept in the keyring, certificate pin), checks every target mailbox in a worker (rows turn exists / missing
/ error as answers come), and exports the provisioning list of the missing ones for the provider's
admins as CSV and as a PowerShell script of New-Mailbox lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, DataTable, Input, Label, Select, Static

from wizard import activity
from wizard.dns import DnsConfigError, DnsResolver
from wizard.events import Done, Event, Started
from wizard.exchange import (
    Access,
    AuthType,
    Autodiscovery,
    ExchangeError,
    ExchangeSettings,
    discover_ews_url,
    fetch_certificate,
)
from wizard.exchange.mailbox import MailboxCheck
from wizard.exchange.settings import default_settings, load_settings, save_settings
from wizard.exchange.target_mailboxes import (
    check_mailboxes,
    export_provisioning,
    latest_checks,
    provisioning_rows,
    save_checks,
    session_passwords,
)
from wizard.formatting import format_bytes, plural
from wizard.playbook import Kind, Step
from wizard.secrets import SecretStore, remember_secret_key, target_password_key
from wizard.session import exports_dir
from wizard.session_records import SessionError
from wizard.steps.connection_test import target_refusal
from wizard.tls import format_fingerprint, normalise_pin

from ..widgets.fitted_table import FittedTable, TableColumn
from .base import StepBody, reveal
from .dns_view import session_resolver

if TYPE_CHECKING:
    from wizard.store import SessionStore

# The counts are never given up; the detail goes first (the line under the table has it whole).
COLUMNS = (
    TableColumn("mailbox", "Target mailbox"),
    TableColumn("name", "Display name", 2),
    TableColumn("state", "State", 1),
    TableColumn("folders", "Folders"),
    TableColumn("messages", "Messages"),
    TableColumn("size", "Size"),
    TableColumn("detail", "Detail", 3),
)
STATE_LABELS = {
    None: "not checked",
    "checking": "checking…",
    "exists": "exists",
    "missing": "missing",
    "error": "error",
}


def _size(size: object, quota: object) -> str:
    if not isinstance(size, int):
        return ""
    text = format_bytes(size)
    return f"{text} of {format_bytes(quota)}" if isinstance(quota, int) and quota else text


class TargetCheckPanel(Widget):
    """The target mailboxes of the session with their state on Exchange."""

    BINDINGS = [
        Binding("c", "check_all", "Check all"),
        Binding("k", "check_row", "Check this row"),
        Binding("e", "export_list", "Export list"),
        Binding("a", "autodiscover", "Find URL by Autodiscover"),
    ]
    DEFAULT_CSS = """
    TargetCheckPanel { height: auto; }
    TargetCheckPanel Horizontal { height: auto; }
    TargetCheckPanel .field { width: 1fr; }
    TargetCheckPanel Select { width: 1fr; }
    TargetCheckPanel #target-buttons Button { width: auto; min-width: 0; margin: 0 1 0 0; }
    TargetCheckPanel #target-table { height: auto; max-height: 20; }
    TargetCheckPanel #target-status { color: $warning; }
    TargetCheckPanel #target-totals { text-style: bold; }
    TargetCheckPanel #target-detail { color: $text-muted; }
    TargetCheckPanel #target-autodiscover-result { color: $text-muted; }
    """

    class RowChecked(Message):
        """A mailbox's check started or ended (posted from the worker thread)."""

        def __init__(self, address: str, state: str, result: MailboxCheck | None) -> None:
            super().__init__()
            self.address = address
            self.state = state
            self.result = result

    class RunFinished(Message):
        def __init__(self, settings: ExchangeSettings, results: list[MailboxCheck]) -> None:
            super().__init__()
            self.settings = settings
            self.results = results

    class CertificateFetched(Message):
        def __init__(self, text: str, fingerprint: str) -> None:
            super().__init__()
            self.text = text
            self.fingerprint = fingerprint

    class AutodiscoverFinished(Message):
        def __init__(self, result: Autodiscovery) -> None:
            super().__init__()
            self.result = result

    def __init__(self, store: SessionStore, step: Step, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.store = store
        self.step = step
        self.states: dict[str, str | None] = {}  # target address (lower) -> state
        self.results: dict[str, dict[str, object]] = {}  # target address (lower) -> check dict
        self.addresses: dict[str, str] = {}  # lower -> as written
        self.names: dict[str, str] = {}
        self._busy: set[str] = set()

    # ----- layout -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        settings = default_settings(self.store)
        yield Label("Provider's Exchange (EWS)")
        with Horizontal():
            yield Input(
                settings.ews_url if settings else "",
                placeholder="https://mail.provider.example/EWS/Exchange.asmx",
                id="ews-url",
                classes="field",
            )
            yield Select(
                [(a.label, a.value) for a in Access],
                value=(settings.access if settings else Access.IMPERSONATION).value,
                allow_blank=False,
                id="ews-access",
            )
            yield Select(
                [(a.label, a.value) for a in AuthType],
                value=(settings.auth if settings else AuthType.NTLM).value,
                allow_blank=False,
                id="ews-auth",
            )
        with Horizontal():
            yield Input(
                settings.service_account if settings else "",
                placeholder="service account (DOMAIN\\user or user@domain)",
                id="ews-service-account",
                classes="field",
            )
            yield Input(
                "",
                placeholder=f"password (kept in {SecretStore(self.store.name).where.short}; "
                "own logins: the highlighted row's)",
                password=True,
                id="ews-password",
                classes="field",
            )
            yield Input(
                settings.pin if settings else "",
                placeholder="SHA-256 pin of a self-signed certificate (optional)",
                id="ews-pin",
                classes="field",
            )
        with Horizontal():
            yield Input(
                "",
                placeholder="address to find the EWS URL for by Autodiscover (empty: the "
                "highlighted row's)",
                id="ews-autodiscover-address",
                classes="field",
            )
            yield Button("Find URL by Autodiscover (a)", id="target-autodiscover")
        with Horizontal(id="target-buttons"):
            yield Button("Save and check all (c)", id="target-check-all", variant="primary")
            yield Button("Check this row (k)", id="target-check-row")
            yield Button("Fetch certificate", id="target-fetch-cert")
            yield Button("Export list of missing (e)", id="target-export")
        yield Static("", id="target-status", markup=False)
        yield Static("", id="target-autodiscover-result", markup=False)
        yield FittedTable(COLUMNS, id="target-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="target-detail", markup=False)
        yield Static("", id="target-totals", markup=False)

    def on_mount(self) -> None:
        table = self.query_one("#target-table", DataTable)
        saved = latest_checks(self.store)
        for mailbox in self.store.mailboxes():
            key = mailbox.target_address.lower()
            if key in self.states:
                continue
            self.addresses[key] = mailbox.target_address
            self.names[key] = mailbox.display_name
            entry = saved.get(key)
            self.states[key] = str(entry.get("state")) if entry else None
            if entry:
                self.results[key] = entry
            table.add_row(*self._cells(key), key=key)
        self._show_totals()

    # ----- showing ----------------------------------------------------------------------------

    def _cells(self, key: str) -> list[str]:
        state = self.states.get(key)
        entry = self.results.get(key) or {}
        failure = entry.get("failure") if state in ("missing", "error") else None
        detail = ""
        if isinstance(failure, dict):
            detail = str(failure.get("message", "")).split(". ")[0][:60]
        exists = state == "exists"
        return [
            self.addresses[key],
            self.names.get(key, ""),
            STATE_LABELS.get(state, str(state)),
            str(entry.get("folder_count", "")) if exists else "",
            str(entry.get("message_count", "")) if exists else "",
            _size(entry.get("size_bytes"), entry.get("quota_bytes")) if exists else "",
            detail,
        ]

    def _show_row(self, key: str) -> None:
        table = self.query_one("#target-table", DataTable)
        for column, value in zip(COLUMNS, self._cells(key), strict=True):
            table.update_cell(key, column.key, value)

    def _show_totals(self) -> None:
        counts = {s: 0 for s in ("exists", "missing", "error", None)}
        for state in self.states.values():
            counts[state if state in counts else None] += 1
        text = (
            f"{counts['exists']} exist, {counts['missing']} missing, {counts['error']} with "
            f"errors, {counts[None]} not checked, of {len(self.states)} target mailboxes"
        )
        self.query_one("#target-totals", Static).update(text)

    def _status(self, text: str) -> None:
        """Say what an action did, under the buttons, scrolled into view."""
        self.query_one("#target-status", Static).update(text)
        reveal(self.query_one("#target-buttons"), self.query_one("#target-autodiscover-result"))

    def _highlighted(self) -> str | None:
        table = self.query_one("#target-table", DataTable)
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail(str(event.row_key.value) if event.row_key is not None else "")

    def _show_detail(self, key: str) -> None:
        entry = self.results.get(key) or {}
        failure = entry.get("failure")
        text = str(failure.get("message", "")) if isinstance(failure, dict) else ""
        self.query_one("#target-detail", Static).update(text)

    def done_refusal(self) -> str:
        return target_refusal(self.states, self.addresses)

    # ----- settings ---------------------------------------------------------------------------

    def _read_settings(self, found_for: str = "") -> ExchangeSettings | None:
        """The form as settings, saved with the password in the keyring; None (and a status
        line saying why) when something is missing or wrong. ``found_for``: the address
        Autodiscover found the URL for (kept while the URL stays the same)."""
        url = self.query_one("#ews-url", Input).value
        access = Access(str(self.query_one("#ews-access", Select).value))
        auth = AuthType(str(self.query_one("#ews-auth", Select).value))
        service = self.query_one("#ews-service-account", Input).value
        pin = self.query_one("#ews-pin", Input).value
        saved = load_settings(self.store)
        if not found_for and saved is not None and saved.ews_url == url.strip():
            found_for = saved.autodiscover_address
        try:
            settings = ExchangeSettings(
                url,
                auth=auth,
                access=access,
                service_account=service,
                pin=pin,
                autodiscover_address=found_for,
            )
        except ValueError as exc:
            self._status(f"Not saved: {exc}.")
            return None
        save_settings(self.store, settings)
        password_input = self.query_one("#ews-password", Input)
        if password_input.value:
            if access is Access.IMPERSONATION:
                login = settings.service_account
            else:
                row = self._highlighted()
                login = found_for or self.addresses.get(row or "", "")
            if login:
                key = settings.password_key(login)
                SecretStore(self.store.name).set(key, password_input.value)
                remember_secret_key(self.store, key)
                password_input.value = ""
        return settings

    # ----- actions ----------------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        actions = {
            "target-check-all": self.action_check_all,
            "target-check-row": self.action_check_row,
            "target-export": self.action_export_list,
            "target-fetch-cert": self.action_fetch_certificate,
            "target-autodiscover": self.action_autodiscover,
        }
        action = actions.get(event.button.id or "")
        if action is not None:
            event.stop()
            action()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "ews-autodiscover-address":
            self.action_autodiscover()
        else:
            self.action_check_all()

    def action_check_all(self) -> None:
        self.start(list(self.states))

    def action_check_row(self) -> None:
        key = self._highlighted()
        if key is not None:
            self.start([key])

    def start(self, keys: Sequence[str]) -> None:
        settings = self._read_settings()
        if settings is None:
            return
        if not keys:
            settings_step = self.store.playbook.number_of(Kind.IMAP_SETTINGS)
            self._status(f"The session has no mailboxes yet: add them in step {settings_step}.")
            return
        todo = [k for k in keys if k not in self._busy]
        if not todo:
            self.notify("Those mailboxes are being checked already.")
            return
        self._busy.update(todo)
        self.post_message(StepBody.WorkStarted())
        for key in todo:
            self.states[key] = "checking"
            self._show_row(key)
        self._status(f"Checking {plural(len(todo), 'mailbox')} on {settings.host}…")
        self._run(settings, [self.addresses[k] for k in todo])

    @work(thread=True, group="exchange-target-check", exit_on_error=False)
    def _run(self, settings: ExchangeSettings, addresses: list[str]) -> None:
        try:
            passwords = session_passwords(self.store, settings)
            results = check_mailboxes(settings, addresses, passwords, sink=self._on_event)
        except SessionError:  # the session was closed while checking
            return
        self.post_message(self.RunFinished(settings, results))

    def _on_event(self, event: Event) -> None:
        if isinstance(event, Started):
            self.post_message(self.RowChecked(event.subject, "checking", None))
        elif isinstance(event, Done) and isinstance(event.result, MailboxCheck):
            self.post_message(self.RowChecked(event.subject, event.result.state, event.result))

    def on_target_check_panel_row_checked(self, message: RowChecked) -> None:
        message.stop()
        key = message.address.lower()
        if key not in self.states:
            return
        self.states[key] = message.state
        if message.result is not None:
            self.results[key] = message.result.as_dict()
            self._busy.discard(key)
        self._show_row(key)
        self._show_totals()
        if key == self._highlighted():
            self._show_detail(key)

    def on_target_check_panel_run_finished(self, message: RunFinished) -> None:
        message.stop()
        evidence = save_checks(self.store, message.settings, message.results)
        for result in message.results:
            self._busy.discard(result.mailbox.lower())
        self._status(f"{evidence.summary}. {self._next_step()}")
        self.post_message(StepBody.EvidenceAdded())

    def _next_step(self) -> str:
        """What to do after a check, by what the rows show now."""
        states = list(self.states.values())
        if "missing" in states:
            return (
                "Next: export the list of the missing ones (e) for the provider's admins, and "
                "check again (c) once they are made."
            )
        if "error" in states:
            return "The highlighted row's error is under the table: fix it and check again (c)."
        if None in states:
            return "Some mailboxes are not checked yet: check all (c)."
        review = self.store.playbook.number_of(Kind.MAILBOX_REVIEW)
        return f"Every target mailbox exists: the customer confirms them in step {review}."

    def action_export_list(self) -> None:
        rows = provisioning_rows(self.store)
        if not rows:
            self._status("No mailbox is known to be missing: check them first.")
            return
        csv_path, ps_path = export_provisioning(self.store, exports_dir(), rows)
        self._status(
            f"Provisioning list of {len(rows)} mailboxes written to {csv_path} and {ps_path}"
        )
        self.post_message(StepBody.EvidenceAdded())

    def action_fetch_certificate(self) -> None:
        url = self.query_one("#ews-url", Input).value
        try:
            settings = ExchangeSettings(url, access=Access.DELEGATE)
        except ValueError as exc:
            self._status(f"{exc}.")
            return
        self._status(f"Reading the certificate of {settings.host}…")
        self._fetch(settings)

    @work(thread=True, group="exchange-certificate", exit_on_error=False)
    def _fetch(self, settings: ExchangeSettings) -> None:
        try:
            info = fetch_certificate(settings)
        except (ExchangeError, ValueError) as exc:
            self.post_message(self.CertificateFetched(str(exc), ""))
            return
        if info.trusted:
            text = f"{settings.host}'s certificate is trusted by a public authority: no pin needed."
            self.post_message(self.CertificateFetched(text, ""))
            return
        text = (
            f"{settings.host} shows a certificate no public authority vouches for "
            f"({info.subject or 'no subject'}, valid until {info.not_after or '?'}). SHA-256 "
            f"{format_fingerprint(info.fingerprint)}, filled in as the pin: save it only once "
            "the provider confirms this fingerprint."
        )
        self.post_message(self.CertificateFetched(text, info.fingerprint))

    def on_target_check_panel_certificate_fetched(self, message: CertificateFetched) -> None:
        message.stop()
        self._status(message.text)
        if message.fingerprint:
            self.query_one("#ews-pin", Input).value = message.fingerprint

    def action_autodiscover(self) -> None:
        """Find the EWS URL for the address typed (or the highlighted row's) with the login of
        the form: the service account, or the address itself."""
        address = self.query_one("#ews-autodiscover-address", Input).value.strip()
        address = address or self.addresses.get(self._highlighted() or "", "")
        if "@" not in address:
            self._status("Type the address to find the EWS URL for (or highlight a mailbox).")
            return
        access = Access(str(self.query_one("#ews-access", Select).value))
        login = address
        if access is Access.IMPERSONATION:
            login = self.query_one("#ews-service-account", Input).value.strip()
            if not login:
                self._status("Enter the service account's login first, or choose own logins.")
                return
        secret = self.query_one("#ews-password", Input).value or SecretStore(self.store.name).get(
            target_password_key(login)
        )
        if not secret:
            self._status(f"Enter the password of {login} first (it is kept in the keyring).")
            return
        try:
            pin = normalise_pin(self.query_one("#ews-pin", Input).value)
            resolver = session_resolver(self.store)
        except (ValueError, DnsConfigError) as exc:
            self._status(f"{exc}.")
            return
        auth = AuthType(str(self.query_one("#ews-auth", Select).value))
        self._status(f"Asking Autodiscover for {address} (DNS: {resolver.describe()})…")
        self.query_one("#target-autodiscover-result", Static).update("")
        self._discover(address, login, secret, resolver, auth, pin)

    @work(thread=True, group="exchange-autodiscover", exclusive=True, exit_on_error=False)
    def _discover(
        self,
        address: str,
        login: str,
        secret: str,
        resolver: DnsResolver,
        auth: AuthType,
        pin: str,
    ) -> None:
        result = discover_ews_url(address, login, secret, resolver, auth=auth, pin=pin)
        self.post_message(self.AutodiscoverFinished(result))

    def on_target_check_panel_autodiscover_finished(self, message: AutodiscoverFinished) -> None:
        message.stop()
        result = message.result
        lines = ["Candidates tried:"]
        for attempt in result.attempts:
            lines.append(f"{'✔' if attempt.ok else '✖'} {attempt.candidate}: {attempt.outcome}")
        self.query_one("#target-autodiscover-result", Static).update("\n".join(lines))
        found = result.ews_url or (result.failure.message if result.failure else "")
        activity.log_event(
            self.store,
            "info" if result.ews_url else "warning",
            "exchange",
            "autodiscover",
            f"Autodiscover for {result.address}: {found}",
            result.address,
            attempts=[a.as_dict() for a in result.attempts],
        )
        if result.failure is not None:
            self._status(result.failure.message)
            return
        self.query_one("#ews-url", Input).value = result.ews_url
        if self._read_settings(found_for=result.address) is not None:
            self._status(f"Autodiscover found {result.ews_url} for {result.address}: saved.")
