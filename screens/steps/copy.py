"""The copy steps (initial, differential) with live progress (the verification steps: verify.py).

The copy itself runs in a worker of the App (``OnboardApp.copy``, screens/copy_service.py), so
leaving the step keeps it running; this body starts and steers it and shows its progress, which
reaches it through the copy's signals. Progress is coalesced in the App's queue and a body only
redraws the rows whose progress changed, so 200 busy mailboxes stay smooth.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Label, Static

from wizard.copy.errors import CopyError
from wizard.copy.events import MailboxProgress
from wizard.copy.ledger import RunMode
from wizard.copy.service import CopyService
from wizard.formatting import format_bytes, format_duration
from wizard.playbook import Kind
from wizard.steps.copy import CopyController, MailboxStanding

from ..copy_service import SessionCopy
from ..messages import CopyFinished, CopyProgressed
from ..services import session_work
from ..widgets.fitted_table import FittedTable, TableColumn
from ..widgets.folder_plan import FolderPlanPanel
from .base import StepBody, register_body, reveal

SPARKS = "▁▂▃▄▅▆▇█"
# The mailbox and its message count are never given up; the sparkline goes first, the failed
# count last.
COLUMNS = (
    TableColumn("mailbox", "Mailbox"),
    TableColumn("state", "State", 2),
    TableColumn("bar", "Progress", 4),
    TableColumn("messages", "Messages"),
    TableColumn("bytes", "Size", 3),
    TableColumn("rate", "Rate", 6),
    TableColumn("eta", "ETA", 5),
    TableColumn("spark", "Throughput", 8),
    TableColumn("failed", "Failed", 1),
    TableColumn("folder", "Folder", 7),
)


def progress_bar(fraction: float, width: int = 16) -> str:
    fraction = max(0.0, min(1.0, fraction))
    filled = int(round(fraction * width))
    return "█" * filled + "░" * (width - filled) + f" {fraction * 100:3.0f}%"


def sparkline(values: list[float], width: int = 12) -> str:
    values = values[-width:]
    if not values:
        return ""
    top = max(values) or 1.0
    return "".join(SPARKS[min(len(SPARKS) - 1, int(v / top * (len(SPARKS) - 1)))] for v in values)


def size_cell(done: int, total: int | None) -> str:
    """Copied of total; once all of it is copied, the size alone (a narrower column)."""
    if total is None:
        return ""
    return format_bytes(done) if done == total else f"{format_bytes(done)}/{format_bytes(total)}"


def standing_cells(standing: MailboxStanding) -> list[str]:
    """The row of a mailbox this step's copy is not running: its last run's counts, if any."""
    total, bytes_total = standing.total, standing.bytes_total
    if total is None:
        fraction = 0.0
    elif bytes_total:
        fraction = standing.bytes_done / bytes_total
    else:
        fraction = 1.0 if standing.finished else 0.0
    return [
        standing.mailbox,
        standing.state,
        progress_bar(fraction),
        "" if total is None else f"{standing.done}/{total}",
        size_cell(standing.bytes_done, bytes_total),
        "",
        "",
        "",
        str(standing.failed),
        "",
    ]


@register_body(Kind.COPY, Kind.DIFFERENTIAL)
class CopyBody(StepBody):
    """One row per mailbox: bar, counts, rate, ETA, sparkline; pause, cancel, retry failed."""

    BINDINGS = [
        Binding("s", "start", "Start / resume copy"),
        Binding("space", "toggle_selected", "Pause/resume mailbox"),
        Binding("p", "toggle_all", "Pause/resume all"),
        Binding("c", "cancel_selected", "Cancel mailbox"),
        Binding("x", "cancel_all", "Cancel all"),
        Binding("r", "retry_failed", "Retry failed only"),
        Binding("f", "toggle_failures", "Failures"),
        Binding("l", "show_plan", "Folder plan"),
    ]
    DEFAULT_CSS = """
    CopyBody { height: auto; }
    CopyBody #copy-buttons { height: auto; }
    CopyBody #copy-table { height: auto; max-height: 24; }
    CopyBody #copy-failures { height: auto; display: none; }
    CopyBody #copy-failures.shown { display: block; }
    CopyBody #failures-table { height: auto; max-height: 12; }
    CopyBody #copy-totals { text-style: bold; }
    CopyBody #copy-status { color: $warning; }
    """

    controller: CopyController

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.mode = self.controller.mode
        self._shown: dict[str, MailboxProgress] = {}

    @property
    def copy(self) -> SessionCopy:
        return session_work(self.app).copy

    @property
    def service(self) -> CopyService:
        return self.copy.service

    def compose(self) -> ComposeResult:
        verb = "differential copy" if self.mode is RunMode.DIFFERENTIAL else "copy"
        yield Static("", id="copy-totals")
        with Horizontal(id="copy-buttons"):
            yield Button(f"Start {verb}", id="copy-start", variant="primary")
            yield Button("Pause/resume all", id="copy-pause")
            yield Button("Cancel all", id="copy-cancel", variant="error")
            yield Button("Retry failed only", id="copy-retry")
            yield Button("Failures", id="copy-show-failures")
        yield Static("", id="copy-status")
        yield FittedTable(COLUMNS, id="copy-table", cursor_type="row", zebra_stripes=True)
        if self.mode is RunMode.INITIAL:  # step 9: where each folder goes, before it goes
            yield FolderPlanPanel(self.store, id="copy-plan")
        with Vertical(id="copy-failures"):
            yield Label("Failed messages (retry them with r)")
            failures: DataTable[str] = DataTable(id="failures-table", cursor_type="row")
            for key, label in (
                ("mailbox", "Mailbox"),
                ("folder", "Folder"),
                ("uid", "UID"),
                ("message_id", "Message-ID"),
                ("reason", "Reason"),
            ):
                failures.add_column(label, key=key)
            yield failures

    def on_mount(self) -> None:
        table = self.query_one("#copy-table", FittedTable)
        for standing in self.controller.standings(self.controller.live(self.service)):
            if standing.live is not None:
                cells = self._cells(standing.live)
                self._shown[standing.mailbox] = standing.live
            else:
                cells = standing_cells(standing)
            table.add_row(*cells, key=standing.mailbox)
        # The signals forget this body once it is removed: leaving the step needs no clean-up.
        self.copy.progressed.subscribe(self, self.show_progress)
        self.copy.finished.subscribe(self, self.show_finished)
        self._update_totals()
        self._load_failures()
        self._update_status()

    # ----- the copy's messages (UI thread, through the copy's signals) -------------------------

    def show_progress(self, message: CopyProgressed) -> None:
        if self.service.mode is not self.mode:
            return  # the other copy step's run
        table = self.query_one("#copy-table", FittedTable)
        for mailbox, progress in message.latest.items():
            if self._shown.get(mailbox) is progress:
                continue
            self._shown[mailbox] = progress
            cells = self._cells(progress)
            if mailbox not in table.rows:
                table.add_row(*cells, key=mailbox)
                continue
            for column, value in zip(COLUMNS, cells, strict=True):
                table.update_cell(mailbox, column.key, value)
        self._update_totals(message.latest)

    def show_finished(self, message: CopyFinished) -> None:
        self._load_failures()
        self._update_status()
        self._update_totals()
        self.post_message(StepBody.EvidenceAdded())  # the screen ticks and proposes done

    def _cells(self, p: MailboxProgress) -> list[str]:
        history = list(self.service.history_of(p.subject))
        return [
            p.subject,
            p.state.value,
            progress_bar(p.fraction),
            f"{p.done}/{p.total}",
            f"{format_bytes(p.bytes_done)}/{format_bytes(p.bytes_total)}",
            f"{format_bytes(p.rate_bytes)}/s" if p.rate_bytes else "",
            format_duration(p.eta_seconds) if p.eta_seconds is not None else "",
            sparkline(history),
            str(p.failed),
            "" if p.state.finished else p.folder,
        ]

    def _update_totals(self, latest_of: Mapping[str, MailboxProgress] | None = None) -> None:
        live = self.controller.live(self.service) if latest_of is None else latest_of
        totals = self.controller.totals(live)  # mailboxes not in this run: from the ledger
        self.query_one("#copy-totals", Static).update(totals.describe())

    def _say(self, text: str | None = None) -> None:
        """The answer to a key or button, under the buttons, in view."""
        self._update_status(text)
        reveal(self.query_one("#copy-buttons"), self.query_one("#copy-status"))

    def _update_status(self, text: str | None = None) -> None:
        self.query_one("#copy-status", Static).update(text or self.controller.status(self.service))

    def _load_failures(self) -> None:
        table = self.query_one("#failures-table", DataTable)
        table.clear()
        for row in self.service.failures()[:500]:
            table.add_row(row.mailbox, row.source_folder, str(row.uid), row.message_id, row.reason)

    # ----- actions --------------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        actions = {
            "copy-start": self.action_start,
            "copy-pause": self.action_toggle_all,
            "copy-cancel": self.action_cancel_all,
            "copy-retry": self.action_retry_failed,
            "copy-show-failures": self.action_toggle_failures,
        }
        action = actions.get(event.button.id or "")
        if action is not None:
            action()

    def _start(self, *, only_failed: bool = False) -> None:
        try:
            started = self.copy.start(self.mode, only_failed=only_failed)
        except CopyError as exc:
            self._say(str(exc))
            self.notify(str(exc), severity="error")
            return
        if not started:
            self.notify("A copy is running already.")
        else:
            self.post_message(StepBody.WorkStarted())
        self._say()

    def action_start(self) -> None:
        self._start()

    def action_retry_failed(self) -> None:
        if not self.service.failures():
            self.notify("No failed messages to retry.")
            return
        self._start(only_failed=True)

    def _selected(self) -> str | None:
        table = self.query_one("#copy-table", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return str(key.value) if key.value is not None else None

    def _idle(self) -> bool:
        """True, and says so, when no copy runs for a key that steers one."""
        if self.service.running:
            return False
        self.notify("No copy is running: s starts one.")
        return True

    def action_toggle_selected(self) -> None:
        mailbox = self._selected()
        if self._idle() or mailbox is None:
            return
        if self.service.paused(mailbox):
            self.service.resume(mailbox)
        else:
            self.service.pause(mailbox)

    def action_toggle_all(self) -> None:
        if self._idle():
            return
        if self.service.paused():
            self.service.resume()
            self._say("Resumed.")
        else:
            self.service.pause()
            self._say("Paused. Press p to resume.")

    def action_cancel_selected(self) -> None:
        mailbox = self._selected()
        if not self._idle() and mailbox is not None:
            self.service.cancel(mailbox)
            self.notify(f"Cancelling the copy of {mailbox}.")

    def action_cancel_all(self) -> None:
        if self._idle():
            return
        self.service.cancel()
        self._say("Cancelling; start again later to go on from here.")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Only step 9 has the folder plan panel.
        return action != "show_plan" or self.mode is RunMode.INITIAL

    def action_show_plan(self) -> None:
        self.query_one(FolderPlanPanel).action_show_plan()

    def action_toggle_failures(self) -> None:
        self._load_failures()
        self.query_one("#copy-failures").toggle_class("shown")
