"""The step's proposal to mark it done: what its work achieved, and one button (F2) to accept.

The proposal is the controller's (``StepController.done_proposal``); this line only shows it,
hidden while there is none. It never marks anything done itself: the operator accepts.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Static

from wizard.steps.base import DoneProposal


class DoneProposalLine(Horizontal):
    """One line under the step's state: the proposal, and "Mark done (F2)" when it is ready."""

    DEFAULT_CSS = """
    DoneProposalLine { height: auto; margin: 1 0 0 0; display: none; }
    DoneProposalLine.-shown { display: block; }
    DoneProposalLine #proposal-text { width: 1fr; padding: 0 1; }
    DoneProposalLine.-ready #proposal-text { border-left: thick $success; }
    DoneProposalLine #proposal-text { border-left: thick $warning 60%; }
    DoneProposalLine #proposal-accept { display: none; min-width: 0; width: auto; }
    DoneProposalLine.-ready #proposal-accept { display: block; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.proposal: DoneProposal | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="proposal-text")
        # Runs the screen's own F2 action: the same checks as the Done button.
        yield Button(
            "Mark done (F2)", id="proposal-accept", variant="success", action="screen.mark_done"
        )

    def show(self, proposal: DoneProposal | None) -> bool:
        """Show this proposal (None: hide the line); True when it has just become ready."""
        was_ready = self.proposal is not None and self.proposal.ready
        self.proposal = proposal
        self.set_class(proposal is not None, "-shown")
        self.set_class(proposal is not None and proposal.ready, "-ready")
        if proposal is not None:
            mark = "✔ " if proposal.ready else "◐ "
            style = "bold" if proposal.ready else ""
            self.query_one("#proposal-text", Static).update(
                Text(mark + proposal.describe(), style=style)
            )
        return proposal is not None and proposal.ready and not was_ready
