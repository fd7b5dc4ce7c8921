"""Step 4, source half: test every mailbox on the old IMAP server and measure it.

One row per mailbox with its live state. Tests run in a thread worker (``wizard.imap.probe``
does the work, a few mailboxes at once); the engine's events are collected per mailbox and one
``ProbesUpdated`` message at a time tells the UI to apply the newest of each, so 200 mailboxes
failing within a second still leave the screen free to answer keys.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, DataTable, Static

from wizard.estimate import estimate_copy
from wizard.events import Event
from wizard.formatting import format_bytes, plural
from wizard.imap.probe import (
    DEFAULT_CONCURRENCY,
    ProbeResult,
    ProbeState,
    ProbeUpdate,
    latest_results,
    run_probes,
    session_secrets,
)
from wizard.imap.settings import ImapServerSettings, load_settings
from wizard.playbook import Kind, Step
from wizard.session_records import SessionError
from wizard.steps.connection_test import source_refusal

from ..widgets.fitted_table import FittedTable, TableColumn
from .base import StepBody, reveal

if TYPE_CHECKING:
    from wizard.store import SessionStore

# The counts are never given up; the reason goes first (the line under the table has it whole).
COLUMNS = (
    TableColumn("mailbox", "Mailbox"),
    TableColumn("state", "State", 1),
    TableColumn("folders", "Folders"),
    TableColumn("messages", "Messages"),
    TableColumn("size", "Size"),
    TableColumn("reason", "Reason", 2),
)
STATE_LABEL = {
    ProbeState.WAITING: "waiting",
    ProbeState.CONNECTING: "connecting…",
    ProbeState.SIZING: "measuring…",
    ProbeState.OK: "✔ ok",
    ProbeState.FAILED: "✘ failed",
}
NOT_TESTED = "not tested"
REASON_WIDTH = 70


def short_reason(reason: str, width: int = REASON_WIDTH) -> str:
    first = reason.split(". ")[0]
    return first if len(first) <= width else first[: width - 1] + "…"


class SourceTestPanel(Widget):
    """The connection test of every mailbox of the session against the source server."""

    BINDINGS = [
        Binding("t", "test_all", "Test all"),
        Binding("f", "retest_failed", "Retest failed"),
        Binding("r", "retest_row", "Retest this row"),
    ]
    DEFAULT_CSS = """
    SourceTestPanel { height: auto; }
    SourceTestPanel #source-buttons { height: auto; }
    SourceTestPanel #source-buttons Button { width: auto; min-width: 0; margin: 0 1 0 0; }
    SourceTestPanel #source-table { height: auto; max-height: 22; }
    SourceTestPanel #source-status { color: $warning; }
    SourceTestPanel #source-status.-ok { color: $success; }
    SourceTestPanel #source-totals { text-style: bold; }
    SourceTestPanel #source-detail { color: $text-muted; }
    """

    class ProbesUpdated(Message):
        """New test events are waiting to be shown (posted at most once until handled)."""

    class RunFinished(Message):
        """A run of tests ended (all its mailboxes finished, or it was cancelled)."""

        def __init__(self, logins: tuple[str, ...]) -> None:
            super().__init__()
            self.logins = logins

    def __init__(self, store: SessionStore, step: Step, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.store = store
        self.step = step
        self.states: dict[str, ProbeState | None] = {}  # None: never tested
        self.results: dict[str, ProbeResult] = {}
        self._busy: set[str] = set()
        self._pending: dict[str, ProbeUpdate] = {}
        self._pending_lock = threading.Lock()
        self._flush_posted = False
        self._cancel = threading.Event()

    concurrency = DEFAULT_CONCURRENCY  # mailboxes tested at once

    @property
    def _settings_step(self) -> str:
        return self.store.playbook.number_of(Kind.IMAP_SETTINGS)

    def compose(self) -> ComposeResult:
        with Horizontal(id="source-buttons"):
            yield Button("Test all (t)", id="source-test-all", variant="primary")
            yield Button("Retest failed (f)", id="source-retest-failed")
            yield Button("Retest this row (r)", id="source-retest-row")
        yield Static("", id="source-status")
        yield FittedTable(COLUMNS, id="source-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="source-detail", markup=False)
        yield Static("", id="source-totals", markup=False)
        yield Static("", id="source-estimate", markup=False)

    def on_mount(self) -> None:
        table = self.query_one("#source-table", DataTable)
        saved = latest_results(self.store)
        for mailbox in self.store.mailboxes():
            login = mailbox.source_login
            if login in self.states:
                continue
            result = saved.get(login)
            if result is not None:
                self.results[login] = result
                self.states[login] = ProbeState.OK if result.ok else ProbeState.FAILED
            else:
                self.states[login] = None
            table.add_row(*self._cells(login), key=login)
        self._show_status()
        self._show_totals()

    def on_unmount(self) -> None:
        self._cancel.set()  # mailboxes not started yet are left alone

    # ----- what the operator sees -------------------------------------------------------------

    def _cells(self, login: str) -> list[str]:
        state = self.states.get(login)
        result = self.results.get(login) if state in (ProbeState.OK, ProbeState.FAILED) else None
        label = STATE_LABEL[state] if state else NOT_TESTED
        if result is None or not result.listed:
            counts = ["", "", ""]
        else:
            counts = [str(result.folder_count), str(result.messages), format_bytes(result.bytes)]
        reason = short_reason(result.reason) if result and not result.ok else ""
        return [login, label, *counts, reason]

    def _show_row(self, login: str) -> None:
        table = self.query_one("#source-table", DataTable)
        for column, value in zip(COLUMNS, self._cells(login), strict=True):
            table.update_cell(login, column.key, value)

    def _show_status(self, text: str | None = None) -> None:
        if text is None:
            if load_settings(self.store) is None:
                text = (
                    "No IMAP server yet: enter the server settings in step "
                    f"{self._settings_step} first."
                )
            elif not self.states:
                text = f"No mailboxes yet: add them in step {self._settings_step}."
            elif self._busy:
                text = (
                    f"Testing {plural(len(self._busy), 'mailbox')}, {self.concurrency} at a time…"
                )
            else:
                text = self._outcome()
        status = self.query_one("#source-status", Static)
        status.update(text)
        # The warning colour is for what needs doing; every mailbox passing reads as success.
        states = list(self.states.values())
        status.set_class(bool(states) and all(s is ProbeState.OK for s in states), "-ok")

    def _outcome(self) -> str:
        """The last test's answer and what to do about it, for the line under the buttons."""
        failed = [m for m, s in self.states.items() if s is ProbeState.FAILED]
        untested = sum(1 for s in self.states.values() if s is None)
        keys = "Press t to test all mailboxes, f to retest the failed ones, r for this row."
        if untested == len(self.states):
            return keys
        if failed:
            return (
                f"{len(failed)} of {plural(len(self.states), 'mailbox')} failed (first: "
                f"{failed[0]}): its reason is under the table; fix the login or the server "
                f"(step {self._settings_step}), then retest them (f)."
            )
        if untested:
            return f"The tested mailboxes log in; {untested} not tested yet. {keys}"
        return (
            f"All {plural(len(self.states), 'mailbox')} log in and are measured: check the "
            "target mailboxes next (the Target (Exchange) tab)."
        )

    def _show_totals(self) -> None:
        count = len(self.states)
        ok = [self.results[m] for m, s in self.states.items() if s is ProbeState.OK]
        failed = sum(1 for s in self.states.values() if s is ProbeState.FAILED)
        running = sum(1 for s in self.states.values() if s and not s.finished)
        untested = sum(1 for s in self.states.values() if s is None)
        messages = sum(r.messages for r in ok)
        size = sum(r.bytes for r in ok)
        parts = [f"{count} mailboxes: {len(ok)} ok", f"{failed} failed"]
        if running:
            parts.append(f"{running} testing")
        if untested:
            parts.append(f"{untested} not tested")
        self.query_one("#source-totals", Static).update(
            ", ".join(parts) + f" · {messages} messages · {format_bytes(size)}"
        )
        if ok:
            estimate = estimate_copy([(r.messages, r.bytes) for r in ok])
            more = f" (for the {len(ok)} measured mailboxes)" if len(ok) < count else ""
            text = f"Initial copy: {estimate.describe()}{more}"
        else:
            text = "Initial copy: unknown until mailboxes are measured."
        self.query_one("#source-estimate", Static).update(text)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail(str(event.row_key.value) if event.row_key is not None else "")

    def _show_detail(self, login: str) -> None:
        """The full story of the highlighted mailbox under the table."""
        result = self.results.get(login)
        state = self.states.get(login)
        if result is None or state not in (ProbeState.OK, ProbeState.FAILED):
            text = ""
        elif result.ok:
            roles = ", ".join(f"{f.role} = {f.name}" for f in result.folders if f.role)
            text = f"{login}: {plural(result.folder_count, 'folder')} ({roles})"
        else:
            text = f"{login}: {result.reason}"
        self.query_one("#source-detail", Static).update(text)

    def _highlighted(self) -> str | None:
        table = self.query_one("#source-table", DataTable)
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def done_refusal(self) -> str:
        return source_refusal(self.states)

    # ----- actions ----------------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        actions = {
            "source-test-all": self.action_test_all,
            "source-retest-failed": self.action_retest_failed,
            "source-retest-row": self.action_retest_row,
        }
        action = actions.get(event.button.id or "")
        if action is not None:
            event.stop()
            action()

    def action_test_all(self) -> None:
        self.start(list(self.states))

    def action_retest_failed(self) -> None:
        failed = [m for m, s in self.states.items() if s is ProbeState.FAILED]
        if not failed:
            self.notify("No failed mailboxes to retest.")
            return
        self.start(failed)

    def action_retest_row(self) -> None:
        login = self._highlighted()
        if login is not None:
            self.start([login])

    def start(self, logins: Sequence[str]) -> None:
        """Test these mailboxes in the background (those already being tested are left be)."""
        settings = load_settings(self.store)
        if settings is None:
            self.notify(
                f"Enter the IMAP server in step {self._settings_step} first.", severity="warning"
            )
            return
        todo = [m for m in logins if m not in self._busy]
        if not todo:
            self.notify("Those mailboxes are being tested already.")
            return
        self._busy.update(todo)
        self.post_message(StepBody.WorkStarted())
        for login in todo:
            self.states[login] = ProbeState.WAITING
            self._show_row(login)
        self._show_status()
        self._show_totals()
        self._reveal()
        self._run(settings, todo)

    @work(thread=True, group="imap-source-test", exit_on_error=False)
    def _run(self, settings: ImapServerSettings, logins: list[str]) -> None:
        try:
            run_probes(
                settings,
                logins,
                session_secrets(self.store, settings),
                sink=self._on_event,
                store=self.store,
                concurrency=self.concurrency,
                cancel=self._cancel,
            )
        except SessionError:  # the session was closed (app quit) while tests were running
            self._cancel.set()
            return
        self.post_message(self.RunFinished(tuple(logins)))

    # ----- engine events (worker threads) -----------------------------------------------------

    def _on_event(self, event: Event) -> None:
        if not isinstance(event, ProbeUpdate):
            return
        with self._pending_lock:
            self._pending[event.subject] = event  # the newest state per mailbox wins
            if self._flush_posted:
                return
            self._flush_posted = True
        self.post_message(self.ProbesUpdated())

    # ----- applying them (UI thread) ----------------------------------------------------------

    def on_source_test_panel_probes_updated(self, message: ProbesUpdated) -> None:
        message.stop()
        with self._pending_lock:
            pending, self._pending = self._pending, {}
            self._flush_posted = False
        for login, update in pending.items():
            if login not in self.states:
                continue
            self.states[login] = update.state
            if update.result is not None:
                self.results[login] = update.result
            if update.state.finished:
                self._busy.discard(login)
            self._show_row(login)
        self._show_totals()
        self._show_status()
        highlighted = self._highlighted()
        if highlighted in pending:  # the detail line follows the highlighted row's new result
            self._show_detail(highlighted)

    def on_source_test_panel_run_finished(self, message: RunFinished) -> None:
        message.stop()
        self.on_source_test_panel_probes_updated(self.ProbesUpdated())
        for login in message.logins:
            if self.states.get(login) is ProbeState.WAITING:  # cancelled before it started
                result = self.results.get(login)
                self.states[login] = (
                    None if result is None else ProbeState.OK if result.ok else ProbeState.FAILED
                )
                self._show_row(login)
            self._busy.discard(login)
        self._show_status()
        self._show_totals()
        self._reveal()
        self.post_message(StepBody.EvidenceAdded())

    def _reveal(self) -> None:
        reveal(self.query_one("#source-buttons"), self.query_one("#source-status"))
