"""Planning body: the migration plan, built from what the session knows, with the cutover window.

The plan, the window and the export are ``wizard.steps.planning``'s; this body shows them.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Input, Label, Markdown, Static

from wizard.playbook import Kind
from wizard.session import exports_dir
from wizard.steps.planning import PlanningController

from .base import StepBody, register_body, reveal


@register_body(Kind.PLANNING)
class PlanBody(StepBody):
    BINDINGS = [
        Binding("ctrl+s", "save_window", "Save window"),
        Binding(
            "ctrl+e", "export_plan", "Export plan", priority=True
        ),  # before Input's end-of-line
    ]
    DEFAULT_CSS = """
    PlanBody { height: auto; }
    PlanBody Horizontal { height: auto; }
    PlanBody Input { width: 1fr; }
    PlanBody #plan-status { color: $success; }
    """
    controller: PlanningController

    def compose(self) -> ComposeResult:
        window = self.controller.settings().cutover_window
        yield Label("Cutover window agreed with the customer")
        with Horizontal():
            yield Input(
                window, placeholder="e.g. weekend of 12-13 December, evenings only", id="window"
            )
            yield Button("Save", id="save-window")
            yield Button("Export plan", id="export-plan", variant="primary")
        yield Static("", id="plan-status")
        yield Markdown(self.controller.markdown(), id="plan")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "save-window":
            self.action_save_window()
        elif event.button.id == "export-plan":
            self.action_export_plan()

    def _status(self, text: str) -> None:
        status = self.query_one("#plan-status", Static)
        status.update(text)
        reveal(self.query_one("#save-window").parent or self, status)

    def action_save_window(self) -> None:
        self.controller.save_window(self.query_one("#window", Input).value)
        self.query_one("#plan", Markdown).update(self.controller.markdown())
        self._status("Cutover window saved.")

    def action_export_plan(self) -> None:
        path, _evidence = self.controller.export(exports_dir())
        self._status(f"Plan written to {path}")
        self.post_message(StepBody.EvidenceAdded())
