"""Mailbox review: the customer confirms the mailboxes set up on Exchange and the cutover date.

The table joins the session's mailbox list with the connection test's evidence (target exists,
folder count on Exchange, size measured on the source). The cutover date refuses days in the past
and shows the estimated copy time beside it. The rules and the evidence are
``wizard.steps.mailbox_review``'s; this body shows and asks.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Input, Label, Static

from wizard.formatting import format_bytes, format_time, plural
from wizard.playbook import Kind
from wizard.steps.mailbox_review import (
    CutoverEstimate,
    MailboxReviewController,
    ReviewRow,
    check_cutover,
)

from ..widgets.fitted_table import FittedTable, TableColumn
from .base import StepBody, register_body, reveal


@register_body(Kind.MAILBOX_REVIEW)
class ConfirmBody(StepBody):
    BINDINGS = [
        Binding("ctrl+y", "confirm_mailboxes", "Confirm mailboxes"),
        Binding("ctrl+s", "save_cutover", "Save cutover date"),
    ]
    DEFAULT_CSS = """
    ConfirmBody { height: auto; }
    ConfirmBody Horizontal { height: auto; }
    ConfirmBody Input { width: 1fr; }
    ConfirmBody #cutover-date { width: 20; }
    ConfirmBody #review-table { height: auto; max-height: 20; }
    ConfirmBody #cutover-estimate { width: 2fr; padding: 1 1 0 1; }
    ConfirmBody .status { color: $warning; }
    """
    today: Callable[[], date] = staticmethod(date.today)  # type: ignore[assignment]
    controller: MailboxReviewController
    rows: list[ReviewRow]

    def compose(self) -> ComposeResult:
        yield Label("Mailboxes for the customer to confirm")
        columns = (  # the target and its counts stay; the source login goes first
            TableColumn("source", "Source login", 2),
            TableColumn("target", "Target mailbox"),
            TableColumn("exists", "On Exchange", 1),
            TableColumn("folders", "Folders"),
            TableColumn("size", "Size (source)"),
        )
        yield FittedTable(columns, id="review-table", cursor_type="row", zebra_stripes=True)
        with Horizontal():
            yield Input(placeholder="confirmed by (customer's name)", id="confirmed-by")
            yield Button("Confirm mailboxes (ctrl+y)", id="confirm-mailboxes", variant="primary")
        yield Static("", id="confirm-status", classes="status", markup=False)
        yield Label("Cutover date (YYYY-MM-DD)")
        with Horizontal():
            yield Input(
                self.controller.saved_cutover(),
                placeholder="YYYY-MM-DD: the day users switch",
                id="cutover-date",
            )
            yield Button("Save date (ctrl+s)", id="save-cutover")
            yield Static("", id="cutover-estimate", markup=False)
        yield Static("", id="cutover-status", classes="status", markup=False)

    def on_mount(self) -> None:
        self.refresh_rows()
        self._show_estimate()

    def refresh_rows(self) -> None:
        table = self.query_one("#review-table", FittedTable)
        table.clear()
        self.rows = self.controller.rows()
        for row in self.rows:
            table.add_row(
                row.source,
                row.target,
                row.state,
                "" if row.folders is None else str(row.folders),
                "unknown" if row.bytes is None else f"{format_bytes(row.bytes)}",
                key=row.target,
            )

    def estimate(self) -> CutoverEstimate:
        return self.controller.estimate(self.rows)

    def _show_estimate(self, day: date | None = None) -> None:
        estimate = self.estimate()
        text, seconds = estimate.text, estimate.seconds
        if day is not None and seconds is not None:
            days_left = (day - self.today()).days
            text += f". {days_left} days until the cutover"
            if seconds > days_left * 86400:
                text += ": the copy needs longer, start it now or move the date"
        self.query_one("#cutover-estimate", Static).update(text)

    # ----- actions ----------------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "confirm-mailboxes":
            event.stop()
            self.action_confirm_mailboxes()
        elif event.button.id == "save-cutover":
            event.stop()
            self.action_save_cutover()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id != "cutover-date":
            return
        try:
            day = check_cutover(event.value, self.today())
        except ValueError:
            day = None
        self._show_estimate(day)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "cutover-date":
            self.action_save_cutover()
        else:
            self.action_confirm_mailboxes()

    def action_confirm_mailboxes(self) -> None:
        status = self.query_one("#confirm-status", Static)
        self.refresh_rows()
        try:
            evidence = self.controller.confirm_mailboxes(
                self.query_one("#confirmed-by", Input).value, self.rows
            )
        except ValueError as exc:
            status.update(f"Not confirmed: {exc}.")
            self._reveal(status)
            return
        who, count = evidence.data["confirmed_by"], plural(len(self.rows), "mailbox")
        later = "" if self.controller.saved_cutover() else " Next: the cutover date below."
        status.update(f"{who} confirmed {count}.{later}")
        self._reveal(status)
        self.post_message(StepBody.EvidenceAdded())

    def _reveal(self, status: Static) -> None:
        """The answer in view, with the row of the button (or field) that asked for it."""
        button = "#confirm-mailboxes" if status.id == "confirm-status" else "#save-cutover"
        reveal(self.query_one(button).parent or self, status)

    def action_save_cutover(self) -> None:
        status = self.query_one("#cutover-status", Static)
        text = self.query_one("#cutover-date", Input).value
        try:
            day = self.controller.save_cutover(text, self.today(), self.estimate())
        except ValueError as exc:
            status.update(f"Not saved: {exc}.")
            self._reveal(status)
            return
        self._show_estimate(day)
        status.update(f"Cutover date {format_time(day.isoformat())} saved.")
        self._reveal(status)
        self.post_message(StepBody.EvidenceAdded())
