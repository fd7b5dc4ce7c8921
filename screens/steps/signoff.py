"""Sign-off body: the figures both parties look at, open items, the sign-off and the report export.

The figures, the sign-off record and the export are ``wizard.steps.signoff``'s.
"""

from __future__ import annotations

from datetime import date

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Checkbox, Input, Label, Static

from wizard.formatting import format_bytes
from wizard.playbook import Kind
from wizard.report import export_report
from wizard.session import exports_dir
from wizard.steps.signoff import SignoffController

from ..widgets.fitted_table import FittedTable, TableColumn
from ..widgets.tick_box import TickBox
from .base import StepBody, register_body, reveal


@register_body(Kind.SIGNOFF)
class SignoffBody(StepBody):
    BINDINGS = [
        Binding("ctrl+s", "sign_off", "Record sign-off"),
        Binding(
            "ctrl+e", "export('html')", "Export HTML report", priority=True
        ),  # before Input's end-of-line
    ]
    DEFAULT_CSS = """
    SignoffBody { height: auto; }
    SignoffBody Horizontal { height: auto; }
    SignoffBody Input { width: 1fr; }
    SignoffBody DataTable { height: auto; max-height: 14; }
    SignoffBody #signoff-status.error { color: $error; }
    SignoffBody .open-item { color: $warning; }
    """
    controller: SignoffController

    def compose(self) -> ComposeResult:
        figures = self.controller.figures()
        yield Static(
            f"{len(figures.mailboxes)} mailboxes · {figures.copied} messages copied "
            f"({format_bytes(figures.copied_bytes)}) · {figures.skipped} skipped · "
            f"{figures.failed} failed\nVerification: {figures.verification_text}",
            id="figures",
        )
        columns = (  # the figures are never given up; the verdict first (the line above has it)
            TableColumn("mailbox", "Mailbox"),
            TableColumn("copied", "Copied"),
            TableColumn("size", "Size"),
            TableColumn("skipped", "Skipped"),
            TableColumn("failed", "Failed"),
            TableColumn("verified", "Verified", 1),
        )
        table = FittedTable(columns, id="mailbox-figures", cursor_type="row")
        for m in figures.mailboxes:
            table.add_row(
                m.mailbox,
                str(m.copied),
                format_bytes(m.copied_bytes),
                str(m.skipped),
                str(m.failed),
                {True: "ok", False: "needs attention", None: "not yet"}[m.verified],
            )
        yield table
        yield Label(f"Open items ({len(figures.open_items)})")
        for item in figures.open_items[:12]:
            yield Static(
                f"  Step {item.step} ({item.owner}) {item.title}: {item.what}", classes="open-item"
            )
        if len(figures.open_items) > 12:
            yield Static(f"  … and {len(figures.open_items) - 12} more (see the report)")
        last = self.controller.last_signoff()
        data = last.data if last else {}
        yield Label("Sign-off")
        with Horizontal():
            yield Input(
                data.get("provider", ""),
                placeholder=f"Engineer at {self.store.profile.name}",
                id="provider-name",
            )
            yield Input(
                data.get("customer", ""),
                placeholder=f"Representative of {self.store.customer}",
                id="customer-name",
            )
            yield Input(
                data.get("date", date.today().isoformat()),
                placeholder="YYYY-MM-DD",
                id="signoff-date",
            )
        with Horizontal():
            yield TickBox(
                "Both parties agree the migration is complete",
                value=bool(data.get("complete")),
                id="complete",
            )
            yield Button("Record sign-off", id="record-signoff", variant="primary")
        with Horizontal():
            yield Button("Report (HTML)", id="export-html")
            yield Button("Report (Markdown)", id="export-md")
            yield Button("Report (JSON)", id="export-json")
        yield Static(last.summary if last else "", id="signoff-status")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        button = event.button.id or ""
        if button == "record-signoff":
            event.stop()
            self.action_sign_off()
        elif button.startswith("export-"):
            event.stop()
            self.action_export(button.removeprefix("export-"))

    def _status(self, text: str, error: bool = False, *, row: str = "#record-signoff") -> None:
        """Say what the sign-off or an export did, in view with the buttons' ``row``."""
        status = self.query_one("#signoff-status", Static)
        status.update(text)
        status.set_class(error, "error")
        reveal(self.query_one(row).parent or self, status)

    def action_sign_off(self) -> None:
        try:
            evidence = self.controller.sign_off(
                provider_name=self.query_one("#provider-name", Input).value,
                customer_name=self.query_one("#customer-name", Input).value,
                day=self.query_one("#signoff-date", Input).value,
                complete=self.query_one("#complete", Checkbox).value,
            )
        except ValueError as exc:
            self._status(f"Not recorded: {exc}.", error=True)
            return
        self._status(evidence.summary)
        self.post_message(StepBody.EvidenceAdded())

    def action_export(self, fmt: str) -> None:
        path = export_report(self.store, fmt, exports_dir())
        self._status(f"Report written to {path}", row="#export-html")
        self.post_message(StepBody.EvidenceAdded())
