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
from wizard.copy.events import MailboxProgress, MailboxState
from wizard.copy.ledger import RunMode
from wizard.copy.service import CopyService
from wizard.formatting import UNKNOWN, format_bytes, format_duration
from wizard.playbook import Kind
from wizard.steps.copy import CopyController

from ..copy_service import SessionCopy
from ..messages import CopyFinished, CopyProgressed
from ..services import session_work
from ..widgets.folder_plan import FolderPlanPanel
from .base import StepBody, register_body, reveal

SPARKS = "▁▂▃▄▅▆▇█"
COLUMNS = (
    ("mailbox", "Mailbox"),
    ("state", "State"),
    ("bar", "Progress"),
    ("messages", "Messages"),
    ("bytes", "Size"),
    ("rate", "Rate"),
    ("eta", "ETA"),
    ("spark", "Throughput"),
    ("failed", "Failed"),
    ("folder", "Folder"),
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
        table: DataTable[str] = DataTable(id="copy-table", cursor_type="row", zebra_stripes=True)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        yield table
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
        table = self.query_one("#copy-table", DataTable)
        ledger = self.service.ledger
        latest_of = self.service.latest
        for mailbox in self.store.mailboxes():
            address = mailbox.target_address
            latest = latest_of.get(address)
            if latest is not None:
                cells = self._cells(latest)
                self._shown[address] = latest
            else:
                totals = ledger.totals(address)
                state = f"{totals.copied} copied earlier" if totals.copied else "not started"
                cells = [
                    address,
                    state,
                    progress_bar(0.0),
                    "",
                    "",
                    "",
                    "",
                    "",
                    str(totals.failed),
                    "",
                ]
            table.add_row(*cells, key=address)
        # The signals forget this body once it is removed: leaving the step needs no clean-up.
        self.copy.progressed.subscribe(self, self.show_progress)
        self.copy.finished.subscribe(self, self.show_finished)
        self._update_totals()
        self._load_failures()
        self._update_status()

    # ----- the copy's messages (UI thread, through the copy's signals) -------------------------

    def show_progress(self, message: CopyProgressed) -> None:
        table = self.query_one("#copy-table", DataTable)
        for mailbox, progress in message.latest.items():
            if self._shown.get(mailbox) is progress:
                continue
            self._shown[mailbox] = progress
            cells = self._cells(progress)
            if mailbox not in table.rows:
                table.add_row(*cells, key=mailbox)
                continue
            for (key, _label), value in zip(COLUMNS, cells, strict=True):
                table.update_cell(mailbox, key, value)
        self._update_totals(message.latest)

    def show_finished(self, message: CopyFinished) -> None:
        self._load_failures()
        self._update_status()
        self.post_message(StepBody.EvidenceAdded())

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
        latest = list((self.service.latest if latest_of is None else latest_of).values())
        count = len(self.store.mailboxes())
        finished = sum(1 for p in latest if p.state is MailboxState.DONE)
        done = sum(p.done for p in latest)
        total = sum(p.total for p in latest)
        bytes_done = sum(p.bytes_done for p in latest)
        bytes_total = sum(p.bytes_total for p in latest)
        rate = sum(p.rate_bytes for p in latest if not p.state.finished)
        failed = sum(p.failed for p in latest)
        remaining = max(0, bytes_total - bytes_done)
        eta = format_duration(remaining / rate) if rate else UNKNOWN
        self.query_one("#copy-totals", Static).update(
            f"{finished}/{count} mailboxes done · {done}/{total} messages · "
            f"{format_bytes(bytes_done)}/{format_bytes(bytes_total)} · {format_bytes(rate)}/s · "
            f"ETA {eta} · {failed} failed"
        )

    def _say(self, text: str | None = None) -> None:
        """The answer to a key or button, under the buttons, in view."""
        self._update_status(text)
        reveal(self.query_one("#copy-buttons"), self.query_one("#copy-status"))

    def _update_status(self, text: str | None = None) -> None:
        if text is None:
            service = self.service
            if service.running:
                text = "Copying. You may leave this step: the copy goes on in the background."
            elif service.error:
                text = f"The copy stopped: {service.error}"
            elif service.last_result is not None:
                text = "Finished. Review failed and skipped messages, then verify."
            else:
                text = "Press s to start; a copy that was interrupted goes on where it stopped."
        self.query_one("#copy-status", Static).update(text)

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
