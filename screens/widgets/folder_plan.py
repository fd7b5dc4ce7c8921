"""Step 9's folder plan: per mailbox, where each source folder goes on the target and why; the
operator can give a folder another role (or none) before the copy starts.

The plan is read from both servers without writing (wizard.copy.preview), for the same jobs the
app's copy service runs; a chosen role is saved
in the session (wizard.copy.session_jobs.save_folder_role), so the copy and the verification of
every mailbox follow it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Static, Tree

from wizard.copy.errors import CopyError
from wizard.copy.folder_map import parse_role_override
from wizard.copy.preview import PlanPreview, preview_plans
from wizard.copy.session_jobs import save_folder_role

from ..services import session_work

if TYPE_CHECKING:
    from wizard.store import SessionStore


class FolderPlanPanel(Vertical):
    """The folder plan of every mailbox, and a field to change a folder's role."""

    DEFAULT_CSS = """
    FolderPlanPanel { height: auto; }
    FolderPlanPanel #plan-buttons { height: auto; }
    FolderPlanPanel #plan-role { width: 60; }
    FolderPlanPanel #plan-tree { height: auto; max-height: 24; }
    """

    def __init__(self, store: SessionStore, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.store = store

    def compose(self) -> ComposeResult:
        with Horizontal(id="plan-buttons"):
            yield Button("Folder plan", id="plan-show")
            yield Input(
                placeholder="FOLDER=ROLE (sent, drafts, trash, junk, archive, none)", id="plan-role"
            )
            yield Button("Set role", id="plan-set-role")
        yield Static("", id="plan-status")
        tree: Tree[str] = Tree("Folder plan", id="plan-tree")
        tree.show_root = False
        yield tree

    def action_show_plan(self) -> None:
        self.query_one("#plan-status", Static).update("Reading the folders of both sides…")
        self.load_plan()

    @work(thread=True, exclusive=True, group="folder-plan")
    def load_plan(self) -> None:
        try:
            jobs = session_work(self.app).copy.service.build_jobs(())
            previews = preview_plans(jobs)
        except CopyError as exc:
            self.app.call_from_thread(
                self.query_one("#plan-status", Static).update, f"Cannot plan: {exc}"
            )
            return
        self.app.call_from_thread(self.show_plan, previews)

    def show_plan(self, previews: list[PlanPreview]) -> None:
        tree = self.query_one("#plan-tree", Tree)
        tree.clear()
        for preview in previews:
            if preview.plan is None:
                tree.root.add_leaf(
                    Text(f"{preview.mailbox}: could not be planned: {preview.error}", style="red")
                )
                continue
            node = tree.root.add(f"{preview.mailbox}", expand=True)
            for folder in preview.plan.folders:
                if folder.excluded:
                    node.add_leaf(Text(f"{folder.source}: left out ({folder.excluded})", "dim"))
                else:
                    node.add_leaf(f"{folder.source} → {folder.target}  ({folder.reason})")
        self.query_one("#plan-status", Static).update(
            f"Folder plan of {len(previews)} mailboxes; change a role with FOLDER=ROLE."
        )

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "plan-show":
            self.action_show_plan()
        elif event.button.id == "plan-set-role":
            self.set_role()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.set_role()

    def set_role(self) -> None:
        field = self.query_one("#plan-role", Input)
        status = self.query_one("#plan-status", Static)
        try:
            folder, role = parse_role_override(field.value.strip())
        except ValueError as exc:
            status.update(Text(str(exc), style="red"))
            return
        save_folder_role(self.store, folder, role)
        field.value = ""
        status.update(f"{folder!r} is now {'a user folder' if role == 'none' else role}.")
        self.action_show_plan()
