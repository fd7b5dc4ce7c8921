"""Ask for a written reason (skip, block, dependency override); dismissed with it or None."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Static


class ReasonDialog(ModalScreen[str | None]):
    CSS_PATH = "dialogs.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        title: str,
        prompt: str,
        *,
        message: str = "",
        confirm: str = "OK",
        warning: bool = False,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.prompt = prompt
        self.message = message
        self.confirm_label = confirm
        self.warning = warning

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog warning" if self.warning else "dialog"):
            yield Static(self.title_text, classes="dialog-title")
            if self.message:
                yield Static(self.message, classes="dialog-message", markup=False, id="message")
            yield Static(self.prompt)
            yield Input(placeholder="Reason (required)", id="reason")
            yield Static("", classes="dialog-error", id="reason-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.confirm_label, id="confirm", variant="primary")
                yield Button("Cancel (esc)", id="cancel")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#reason", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._confirm()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "confirm":
            self._confirm()
        else:
            self.dismiss(None)

    def _confirm(self) -> None:
        reason = self.query_one("#reason", Input).value.strip()
        if not reason:
            self.query_one("#reason-error", Static).update("A reason is needed; write one first.")
            self.query_one("#reason", Input).focus()
            return
        self.dismiss(reason)

    def action_cancel(self) -> None:
        self.dismiss(None)
