"""Step 2 body: the migration plan, built from what the session knows, with the cutover window."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Input, Label, Markdown, Static

from wizard.exports import write_private
from wizard.plan import build_plan, plan_markdown
from wizard.session import exports_dir

from .base import StepBody, register_body


@register_body("2")
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

    def compose(self) -> ComposeResult:
        window = (self.store.setting("plan", {}) or {}).get("cutover_window", "")
        yield Label("Cutover window agreed with the customer")
        with Horizontal():
            yield Input(
                window, placeholder="e.g. weekend of 12-13 December, evenings only", id="window"
            )
            yield Button("Save", id="save-window")
            yield Button("Export plan", id="export-plan", variant="primary")
        yield Static("", id="plan-status")
        yield Markdown(plan_markdown(build_plan(self.store)), id="plan")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "save-window":
            self.action_save_window()
        elif event.button.id == "export-plan":
            self.action_export_plan()

    def action_save_window(self) -> None:
        window = self.query_one("#window", Input).value.strip()
        plan = dict(self.store.setting("plan", {}) or {})
        plan["cutover_window"] = window
        self.store.set_setting("plan", plan)
        self.query_one("#plan", Markdown).update(plan_markdown(build_plan(self.store)))
        self.query_one("#plan-status", Static).update("Cutover window saved.")

    def action_export_plan(self) -> None:
        text = plan_markdown(build_plan(self.store))
        path = exports_dir() / f"{self.store.name}-migration-plan.md"
        write_private(path, text)
        self.store.add_evidence(
            "2", "plan", f"Migration plan exported to {path}", {"path": str(path)}, ok=True
        )
        self.query_one("#plan-status", Static).update(f"Plan written to {path}")
        self.post_message(StepBody.EvidenceAdded())
