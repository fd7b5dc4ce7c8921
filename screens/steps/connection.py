"""Connection test: the source (IMAP) half and the target (Exchange) half in two tabs.

When it counts as done is ``wizard.steps.connection_test``'s (source and target refusals).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import TabbedContent, TabPane

from wizard.playbook import Kind

from .base import StepBody, register_body
from .source_test import SourceTestPanel
from .target_check import TargetCheckPanel


@register_body(Kind.CONNECTION_TEST)
class ConnectionBody(StepBody):
    """Tab "Source (IMAP)": every mailbox tested and measured; tab "Target (Exchange)"."""

    DEFAULT_CSS = """
    ConnectionBody { height: auto; }
    ConnectionBody TabbedContent { height: auto; }
    ConnectionBody TabPane { height: auto; padding: 0; }
    """

    def compose(self) -> ComposeResult:
        with TabbedContent(id="connection-tabs"):
            with TabPane("Source (IMAP)", id="source-tab"):
                yield SourceTestPanel(self.store, self.step, id="source-test")
            with TabPane("Target (Exchange)", id="target-tab"):
                yield TargetCheckPanel(self.store, self.step, id="target-check")

    def done_refusal(self) -> str:
        """Both halves must pass; each panel says what is missing in its own words."""
        reasons = []
        for panel in self.query("#source-test, #target-check"):
            refusal = getattr(panel, "done_refusal", None)
            text = refusal() if callable(refusal) else ""
            if isinstance(text, str) and text:
                reasons.append(text)
        return " ".join(reasons)
