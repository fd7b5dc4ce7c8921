"""Import the step-3 mailbox list from a CSV file; every row or none.

When any row is bad, the dialog stays open and lists each problem with its line number; nothing
has been imported. Dismissed with the import result, or None when cancelled.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Footer, Input, Static

from wizard.imap.mailbox_list import ImportResult, MailboxImportError, import_mailboxes
from wizard.secrets import SecretStore

if TYPE_CHECKING:
    from wizard.store import SessionStore

FORMAT_HINT = (
    "First line: the column names. Either source_login, source_password (optional), "
    "target_address, display_name (optional), or the Microsoft 365 IMAP-migration columns "
    "EmailAddress, UserName, Password. Passwords go to the keyring, never into the session."
)


class CsvImportDialog(ModalScreen[ImportResult | None]):
    CSS_PATH = "dialogs.tcss"
    DEFAULT_CSS = """
    CsvImportDialog { align: center middle; background: $background 60%; }
    CsvImportDialog #csv-hint { color: $text-muted; margin-bottom: 1; }
    CsvImportDialog #csv-problems { height: auto; max-height: 14; display: none; }
    CsvImportDialog #csv-problems.shown { display: block; }
    """
    BINDINGS = [
        Binding("ctrl+s", "import_file", "Import"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, store: SessionStore, secrets: SecretStore, path: str = "") -> None:
        super().__init__()
        self.store = store
        self.secrets = secrets
        self.initial_path = path

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as frame:
            frame.styles.width = 110  # wider than the other dialogs: the problems need room
            yield Static("Import mailboxes from a CSV file", classes="dialog-title")
            yield Static(FORMAT_HINT, id="csv-hint")
            yield Input(self.initial_path, placeholder="Path of the CSV file", id="csv-path")
            yield Static("", classes="dialog-error", id="csv-summary")
            problems: DataTable[str] = DataTable(id="csv-problems", cursor_type="row")
            problems.add_column("Line", key="line")
            problems.add_column("Problem", key="reason")
            yield problems
            with Horizontal(classes="dialog-buttons"):
                yield Button("Import (ctrl+s)", id="csv-import", variant="primary")
                yield Button("Cancel (esc)", id="csv-cancel")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#csv-path", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_import_file()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "csv-import":
            self.action_import_file()
        else:
            self.dismiss(None)

    def action_import_file(self) -> None:
        text = self.query_one("#csv-path", Input).value.strip()
        summary = self.query_one("#csv-summary", Static)
        table = self.query_one("#csv-problems", DataTable)
        table.clear()
        table.remove_class("shown")
        if not text:
            summary.update("Type the path of the CSV file first.")
            return
        try:
            result = import_mailboxes(self.store, self.secrets, Path(text).expanduser())
        except MailboxImportError as exc:
            count = len(exc.problems)
            summary.update(
                f"Nothing was imported: {count} problem{'s' if count != 1 else ''} in the file. "
                "Fix the file and import it again."
            )
            for number, problem in enumerate(exc.problems):
                table.add_row(
                    str(problem.line) if problem.line else "file", problem.reason, key=str(number)
                )
            table.add_class("shown")
            return
        self.dismiss(result)

    def action_cancel(self) -> None:
        self.dismiss(None)
