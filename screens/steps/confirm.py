"""Step 5: the customer confirms the mailboxes set up on Exchange and gives the cutover date.

The table joins the session's mailbox list with step 4's evidence (target exists, folder count on
Exchange, size measured on the source). The cutover date refuses days in the past and shows the
estimated copy time beside it. Both the confirmation and the date are saved as evidence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Input, Label, Static

from wizard.estimate import estimate_copy
from wizard.exchange.target_mailboxes import latest_checks
from wizard.formatting import format_bytes
from wizard.forms import check_name, parse_day
from wizard.plan import measured_sizes

from .base import StepBody, register_body

STEP = "5"
CONFIRM_KIND = "mailboxes-confirmed"
CUTOVER_KIND = "cutover-date"
CUTOVER_SETTING = "cutover.date"


@dataclass(frozen=True)
class ReviewRow:
    source: str
    target: str
    display_name: str
    state: str  # exists / missing / error / not checked
    folders: int | None
    messages: int | None
    bytes: int | None


def review_rows(store: Any) -> list[ReviewRow]:
    checks = latest_checks(store)
    sizes = measured_sizes(store)
    rows = []
    for mailbox in store.mailboxes():
        check = checks.get(mailbox.target_address.lower(), {})
        state = str(check.get("state") or "not checked")
        size = sizes.get(mailbox.source_login)
        rows.append(
            ReviewRow(
                mailbox.source_login,
                mailbox.target_address,
                mailbox.display_name,
                state,
                int(check["folder_count"]) if state == "exists" else None,
                size[0] if size else None,
                size[1] if size else None,
            )
        )
    return rows


def check_cutover(text: str, today: date) -> date:
    """The cutover day typed by the operator: a real day, today or later."""
    day = parse_day(text, "cutover date")
    if day < today:
        raise ValueError(
            f"the cutover date {day.isoformat()} is in the past (today is {today.isoformat()})"
        )
    return day


@register_body(STEP)
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

    def compose(self) -> ComposeResult:
        yield Label("Mailboxes for the customer to confirm")
        table: DataTable[str] = DataTable(id="review-table", cursor_type="row", zebra_stripes=True)
        for key, label in (
            ("source", "Source login"),
            ("target", "Target mailbox"),
            ("exists", "On Exchange"),
            ("folders", "Folders"),
            ("size", "Size (source)"),
        ):
            table.add_column(label, key=key)
        yield table
        with Horizontal():
            yield Input(placeholder="confirmed by (customer's name)", id="confirmed-by")
            yield Button("Confirm mailboxes (ctrl+y)", id="confirm-mailboxes", variant="primary")
        yield Static("", id="confirm-status", classes="status", markup=False)
        yield Label("Cutover date (YYYY-MM-DD)")
        saved = self.store.setting(CUTOVER_SETTING, "") or ""
        with Horizontal():
            yield Input(str(saved), placeholder="2026-12-12", id="cutover-date")
            yield Button("Save date (ctrl+s)", id="save-cutover")
            yield Static("", id="cutover-estimate", markup=False)
        yield Static("", id="cutover-status", classes="status", markup=False)

    def on_mount(self) -> None:
        self.refresh_rows()
        self._show_estimate()

    def refresh_rows(self) -> None:
        table = self.query_one("#review-table", DataTable)
        table.clear()
        self.rows = review_rows(self.store)
        for row in self.rows:
            table.add_row(
                row.source,
                row.target,
                row.state,
                "" if row.folders is None else str(row.folders),
                "unknown" if row.bytes is None else f"{format_bytes(row.bytes)}",
                key=row.target,
            )

    def estimate_text(self) -> tuple[str, float | None]:
        measured = [(r.messages or 0, r.bytes or 0) for r in self.rows if r.bytes is not None]
        unknown = sum(1 for r in self.rows if r.bytes is None)
        if not measured:
            return "Copy time unknown until step 4 has measured the mailboxes.", None
        estimate = estimate_copy(measured, measured=self.store.setting("copy.measured_rate"))
        text = f"Estimated copy: {estimate.describe()}"
        if unknown:
            text += f"; {unknown} mailboxes not measured yet"
        return text, estimate.seconds

    def _show_estimate(self, day: date | None = None) -> None:
        text, seconds = self.estimate_text()
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
            who = check_name(self.query_one("#confirmed-by", Input).value, "customer's name")
        except ValueError as exc:
            status.update(f"Not confirmed: {exc}.")
            return
        if not self.rows:
            status.update("Not confirmed: the session has no mailboxes (step 3).")
            return
        absent = [r.target for r in self.rows if r.state != "exists"]
        if absent:
            status.update(
                f"Not confirmed: {len(absent)} mailboxes are not known to exist on Exchange "
                f"(first: {absent[0]}). Create them and check again in step 4."
            )
            return
        self.store.add_evidence(
            STEP,
            CONFIRM_KIND,
            f"{who} confirmed the {len(self.rows)} mailboxes on Exchange",
            {"confirmed_by": who, "confirmed": [asdict(r) for r in self.rows]},
            ok=True,
        )
        self.store.tick(STEP, "objects", True)
        status.update(f"{who} confirmed {len(self.rows)} mailboxes.")
        self.post_message(StepBody.EvidenceAdded())

    def action_save_cutover(self) -> None:
        status = self.query_one("#cutover-status", Static)
        text = self.query_one("#cutover-date", Input).value
        try:
            day = check_cutover(text, self.today())
        except ValueError as exc:
            status.update(f"Not saved: {exc}.")
            return
        estimate, seconds = self.estimate_text()
        self.store.set_setting(CUTOVER_SETTING, day.isoformat())
        self.store.add_evidence(
            STEP,
            CUTOVER_KIND,
            f"Cutover date {day.isoformat()} received; {estimate}",
            {"cutover_date": day.isoformat(), "estimate": estimate, "estimate_seconds": seconds},
            ok=True,
        )
        self.store.tick(STEP, "cutover", True)
        self._show_estimate(day)
        status.update(f"Cutover date {day.isoformat()} saved.")
        self.post_message(StepBody.EvidenceAdded())
