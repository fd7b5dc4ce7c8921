"""Add or edit one mailbox of the step-3 list; dismissed with the saved mailbox or None."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, Static

from wizard.imap.mailbox_list import add_mailbox, edit_mailbox, has_password
from wizard.secrets import SecretStore
from wizard.session_records import Mailbox

if TYPE_CHECKING:
    from wizard.store import SessionStore


class MailboxDialog(ModalScreen[Mailbox | None]):
    CSS_PATH = "dialogs.tcss"
    DEFAULT_CSS = """
    MailboxDialog { align: center middle; background: $background 60%; }
    MailboxDialog Input { margin-bottom: 1; }
    """
    BINDINGS = [
        Binding("ctrl+s", "save", "Save mailbox"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(
        self, store: SessionStore, secrets: SecretStore, mailbox: Mailbox | None = None
    ) -> None:
        super().__init__()
        self.store = store
        self.secrets = secrets
        self.mailbox = mailbox

    def compose(self) -> ComposeResult:
        box = self.mailbox
        stored = box is not None and has_password(self.secrets, box.source_login)
        with Vertical(classes="dialog"):
            yield Static(
                "Edit mailbox" if box else "Add a mailbox to migrate", classes="dialog-title"
            )
            yield Label("Login on the old IMAP server")
            yield Input(box.source_login if box else "", placeholder="e.g. anna", id="mb-login")
            yield Label(f"Address at {self.store.profile.name}")
            yield Input(
                box.target_address if box else "",
                placeholder=f"e.g. anna@{self.store.domain}",
                id="mb-target",
            )
            yield Label("Display name (optional)")
            yield Input(box.display_name if box else "", placeholder="Anna Berg", id="mb-display")
            kept = self.secrets.where.short
            yield Label(f"Password or token on the old server (optional, kept in {kept})")
            yield Input(
                password=True,
                placeholder=f"stored in {kept}; type to replace"
                if stored
                else "the mailbox's password (not needed with a master login)",
                id="mb-password",
            )
            yield Static("", classes="dialog-error", id="mb-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save (ctrl+s)", id="mb-save", variant="primary")
                yield Button("Cancel (esc)", id="mb-cancel")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#mb-login", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "mb-save":
            self.action_save()
        else:
            self.dismiss(None)

    def action_save(self) -> None:
        values = [
            self.query_one(f"#mb-{name}", Input).value
            for name in ("login", "target", "display", "password")
        ]
        try:
            if self.mailbox is None:
                saved = add_mailbox(self.store, self.secrets, *values)
            else:
                saved = edit_mailbox(self.store, self.secrets, self.mailbox.id, *values)
        except ValueError as exc:
            self.query_one("#mb-error", Static).update(f"Not saved: {exc}.")
            return
        self.dismiss(saved)

    def action_cancel(self) -> None:
        self.dismiss(None)
