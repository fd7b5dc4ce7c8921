"""The session's activity log, live: every engine action as it happens, filtered by mailbox/level.

Opened from any step with ctrl+l or the command palette. It reads the lines the engines append to
the log file (``wizard.activity``) twice a second, so lines written by a headless ``onboard copy``
in another terminal show up too. The view follows the end unless the operator scrolled up.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Header, Label, RichLog, Select, Static

from wizard.activity import ActivityRecord, LogTail, log_files, log_path, read_log_file
from wizard.report.bundle import bundle_filename, write_bundle
from wizard.session import exports_dir

from .footer_fit import FittedFooter

if TYPE_CHECKING:
    from wizard.store import SessionStore

ALL = "*"
NO_MAILBOX = "-"
KEEP = 5000  # lines held in memory; the file keeps more
POLL_SECONDS = 0.5
LEVEL_RANK = {"debug": 0, "info": 1, "warning": 2, "error": 3}
LEVEL_STYLE = {"debug": "dim", "info": "", "warning": "bold #d9a21b", "error": "bold red"}
LEVEL_CHOICES = [
    ("All levels", "debug"),
    ("Info and worse", "info"),
    ("Warnings and errors", "warning"),
    ("Errors only", "error"),
]


def log_line(record: ActivityRecord) -> Text:
    """One record as the operator reads it: time, level, engine, mailbox, message."""
    try:
        stamp = datetime.fromisoformat(record.time).astimezone().strftime("%H:%M:%S")
    except ValueError:
        stamp = record.time[:8]
    style = LEVEL_STYLE.get(record.level, "")
    line = Text()
    line.append(f"{stamp} ", style="dim")
    line.append(f"{record.level.upper():<7} ", style=style or "green")
    line.append(f"{record.engine:<8} ", style="cyan")
    if record.mailbox:
        line.append(f"{record.mailbox} ", style="magenta")
    line.append(record.message, style=style)
    return line


class LogScreen(FittedFooter, Screen[None]):
    """The activity log of one session, tailed live."""

    CSS_PATH = "log_screen.tcss"
    AUTO_FOCUS = "#log-lines"
    BINDINGS = [
        Binding("escape", "close", "Back"),
        Binding("m", "focus_mailbox", "Mailbox"),
        Binding("v", "focus_level", "Level"),
        Binding("end", "follow", "Follow"),
        Binding("b", "bundle", "Bundle for a colleague"),
    ]
    FOOTER_KEPT = ("close",)

    def __init__(self, store: SessionStore) -> None:
        super().__init__(name="activity-log")
        self.store = store
        self.records: list[ActivityRecord] = []
        self.mailbox = ALL
        self.min_level = "debug"
        self.shown_count = 0
        self._tail = LogTail(store)

    def compose(self) -> ComposeResult:
        mailboxes = [(m.target_address, m.target_address) for m in self.store.mailboxes()]
        yield Header()
        with Horizontal(id="log-filters"):
            yield Label("Mailbox")
            yield Select(
                [("All mailboxes", ALL), ("Servers and checks (no mailbox)", NO_MAILBOX)]
                + mailboxes,
                value=ALL,
                allow_blank=False,
                id="log-mailbox",
            )
            yield Label("Level")
            yield Select(LEVEL_CHOICES, value="debug", allow_blank=False, id="log-level")
        yield Static(id="log-status", markup=False)
        yield RichLog(id="log-lines", wrap=True, auto_scroll=False, max_lines=KEEP)
        yield Footer()

    def on_mount(self) -> None:
        self.title = f"Activity log · {self.store.customer}"
        self.sub_title = str(log_path(self.store))
        current = log_path(self.store)
        older = [r for p in log_files(self.store) if p != current for r in read_log_file(p)]
        self.records = (older + self._tail.read_new())[-KEEP:]
        self.call_after_refresh(self.redraw)  # once the log has its width, so lines wrap to it
        self.set_interval(POLL_SECONDS, self.poll)

    def on_resize(self) -> None:
        self.call_after_refresh(self.redraw)  # RichLog wraps when writing: wrap again

    # ----- filtering ----------------------------------------------------------------------------

    def wanted(self, record: ActivityRecord) -> bool:
        if LEVEL_RANK.get(record.level, 1) < LEVEL_RANK[self.min_level]:
            return False
        if self.mailbox == ALL:
            return True
        if self.mailbox == NO_MAILBOX:
            return not record.mailbox
        return record.mailbox.lower() == self.mailbox.lower()

    def redraw(self) -> None:
        view = self.query_one("#log-lines", RichLog)
        view.clear()
        shown = [r for r in self.records if self.wanted(r)]
        for record in shown:
            view.write(log_line(record), scroll_end=False, expand=True)
        view.scroll_end(animate=False)
        self.shown_count = len(shown)
        self.show_status()

    def show_status(self) -> None:
        total = len(self.records)
        if not total:
            text = f"Nothing logged yet. Engines write to {log_path(self.store)}"
        elif self.shown_count == total:
            text = f"{total} lines"
        else:
            text = f"{self.shown_count} of {total} lines match the filter"
        self.query_one("#log-status", Static).update(text)

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.select.id == "log-mailbox":
            self.mailbox = str(event.value)
        elif event.select.id == "log-level":
            self.min_level = str(event.value)
        self.redraw()

    # ----- live tail ----------------------------------------------------------------------------

    def poll(self) -> None:
        new = self._tail.read_new()
        if not new:
            return
        self.records = (self.records + new)[-KEEP:]
        view = self.query_one("#log-lines", RichLog)
        follow = view.is_vertical_scroll_end or view.max_scroll_y == 0
        for record in new:
            if self.wanted(record):
                view.write(log_line(record), scroll_end=follow, expand=True)
                self.shown_count += 1
        self.shown_count = min(self.shown_count, len(self.records))
        self.show_status()

    # ----- actions ------------------------------------------------------------------------------

    def action_close(self) -> None:
        self.dismiss()

    def action_focus_mailbox(self) -> None:
        self.query_one("#log-mailbox", Select).focus()

    def action_focus_level(self) -> None:
        self.query_one("#log-level", Select).focus()

    def action_follow(self) -> None:
        view = self.query_one("#log-lines", RichLog)
        view.scroll_end(animate=False)
        view.focus()

    @work(thread=True, exclusive=True, group="log-bundle")
    def action_bundle(self) -> Path | None:
        """The HTML report, this log and a README as one zip in the exports folder."""
        path = exports_dir() / bundle_filename(self.store)
        try:
            write_bundle(self.store, "html", path)
        except OSError as exc:
            self.app.call_from_thread(
                self.notify, f"Could not write {path}: {exc.strerror or exc}", severity="error"
            )
            return None
        self.app.call_from_thread(
            self.notify, f"Report and activity log written to {path}", title="Bundle written"
        )
        return path
