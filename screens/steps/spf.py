"""SPF body: the domain's SPF record(s), what is wrong with them, and the record to publish."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Collapsible, Label, Static

from wizard.playbook import Kind
from wizard.steps.spf import SpfController

from .base import register_body
from .dns import DnsCheckBody
from .dns_view import FindingList


@register_body(Kind.SPF)
class SpfBody(DnsCheckBody):
    """Current SPF, findings with severity, the lookup count, the recommended record to copy."""

    BINDINGS = [
        Binding("c", "check", "Re-check SPF"),
        Binding("y", "copy_recommended", "Copy record"),
    ]
    controller: SpfController
    checking = "Checking SPF…"
    result = "#spf-records"  # above the buttons: what is published now
    button_actions = {"spf-copy": "copy_recommended"}
    DEFAULT_CSS = """
    SpfBody #spf-recommended { text-style: bold; padding: 0 1; border: round $success 50%; }
    SpfBody #spf-copied { color: $success; }
    """

    def compose(self) -> ComposeResult:
        yield Label("Published now")
        yield Static("", id="spf-records")
        yield Static("", id="spf-count")
        yield FindingList(id="spf-findings")
        with Collapsible(title="How the lookups add up", id="spf-steps-box"):
            yield Static("", id="spf-steps")
        yield Label("Record to publish (TXT at the domain itself)", id="spf-recommended-label")
        yield Static("", id="spf-recommended", markup=False)
        with Horizontal(classes="buttons"):
            yield Button("Re-check SPF (c)", id="dns-check", variant="primary")
            yield Button("Copy the record (y)", id="spf-copy")
        yield Static("", id="spf-copied")
        yield Static("", classes="check-status hint")

    # ----- showing ----------------------------------------------------------------------------

    def show_saved(self) -> None:
        spf = self._last("dns.spf")
        records = self.query_one("#spf-records", Static)
        count = self.query_one("#spf-count", Static)
        recommended = self.query_one("#spf-recommended", Static)
        if spf is None:
            records.update(Text("Not checked yet: press c.", style="dim"))
            count.update("")
            self.query_one("#spf-findings", FindingList).show([])
            recommended.update(self.controller.fallback_record())
            self._last_checked("")
            return
        published = spf.get("records") or []
        records.update(
            "\n".join(f"    {r}" for r in published)
            if published
            else Text(f"    {spf['domain']} publishes no SPF record.", style="#d9a21b")
        )
        count.update(self._count_text(spf))
        self.query_one("#spf-findings", FindingList).show(spf.get("findings") or [])
        self.query_one("#spf-steps", Static).update(self._steps_text(spf.get("steps") or []))
        recommended.update(spf.get("recommended", ""))
        self.query_one("#spf-recommended-label", Label).update(
            "Record to publish (TXT at the domain itself; "
            f"{spf.get('recommended_lookup_count', '?')} of {spf.get('lookup_limit', 10)} lookups)"
        )
        self._last_checked(spf.get("checked_at", ""))

    @staticmethod
    def _count_text(spf: dict[str, Any]) -> Text:
        used, limit = int(spf.get("lookup_count", 0)), int(spf.get("lookup_limit", 10))
        voids, void_limit = int(spf.get("void_count", 0)), int(spf.get("void_limit", 2))
        text = Text("DNS lookups: ")
        text.append(f"{used} of {limit}", style="bold red" if used > limit else "bold green")
        text.append("   Void lookups: ")
        text.append(f"{voids} of {void_limit}", style="bold red" if voids > void_limit else "")
        return text

    @staticmethod
    def _steps_text(steps: list[dict[str, Any]]) -> Text:
        """Each lookup, indented by include depth, numbered when it counts against the limit."""
        text = Text()
        number = 0
        for step in steps:
            if step.get("counted"):
                number += 1
                text.append(f"{number:>3} ", style="bold")
            else:
                text.append("    ")
            text.append("  " * int(step.get("depth", 0)) + str(step.get("term", "")))
            text.append(f"  in {step.get('within', '')}", style="dim")
            if step.get("void"):
                text.append("  void (nothing found)", style="#d9a21b")
            if step.get("note"):
                text.append(f"  {step['note']}", style="dim")
            text.append("\n")
        return text if steps else Text("No lookups.", style="dim")

    # ----- actions ------------------------------------------------------------------------------

    def action_copy_recommended(self) -> None:
        record = str(self.query_one("#spf-recommended", Static).render()).strip()
        self.app.copy_to_clipboard(record)
        self.query_one("#spf-copied", Static).update(f"Copied to the clipboard: {record}")
        self.notify("The recommended SPF record is on the clipboard.", title="Copied")

    def _checked(self, error: str) -> None:
        super()._checked(error)
        if not error:
            self.query_one("#spf-copied", Static).update("")  # a new check, a new record
