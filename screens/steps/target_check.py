"""Step 4, target half: do the customer's Exchange mailboxes exist? (first version: the table)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import DataTable, Static

from wizard.playbook import Step
from wizard.store import SessionStore


class TargetCheckPanel(Widget):
    """The target mailboxes of the session with their state on Exchange."""

    DEFAULT_CSS = """
    TargetCheckPanel { height: auto; }
    TargetCheckPanel DataTable { height: auto; max-height: 20; }
    """

    def __init__(self, store: SessionStore, step: Step, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.store = store
        self.step = step

    def compose(self) -> ComposeResult:
        yield Static("Target mailboxes on Exchange", id="target-title")
        yield DataTable(id="target-table", cursor_type="row")

    def on_mount(self) -> None:
        table = self.query_one("#target-table", DataTable)
        table.add_columns("Mailbox", "State")
        for mailbox in self.store.mailboxes():
            table.add_row(mailbox.target_address, "not checked", key=mailbox.target_address)
