"""The two verification steps: "Verify now", its answer right under the button, what to do next.

The answer (how many mailboxes need attention, and why) and the next steps appear next to the
button that asked, scrolled into view; the tree below lists every mailbox and folder, and the
messages a check found missing, extra or duplicated by date, sender and subject, as plain text
(a subject is never read as markup). Mail that arrived after the copy is copied from here with
one key: the copy runs as the App's worker (screens/copy_service.py), and the step verifies again
once it ends. What the next steps are is the controller's (``wizard.steps.verify_initial``).
"""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Static, Tree
from textual.widgets.tree import TreeNode

from wizard.copy.errors import CopyError
from wizard.copy.verify import FolderCheck, Verification, listed_messages
from wizard.formatting import format_time, plural
from wizard.playbook import Kind
from wizard.steps.verify_initial import NextSteps, VerificationController

from ..messages import CopyFinished
from ..services import SessionWork, session_work
from .base import StepBody, register_body, reveal

EXPANDED_LISTS = 10  # a folder listing at most this many messages opens by itself


@register_body(Kind.VERIFY_INITIAL, Kind.VERIFY_FINAL)
class VerifyBody(StepBody):
    """Verify now, the answer and the next steps under it, the per-mailbox tree below."""

    BINDINGS = [
        Binding("v", "verify", "Verify now"),
        Binding("c", "copy_missing", "Copy them now"),
        Binding("o", "open_webmail", "Open webmail"),
    ]
    DEFAULT_CSS = """
    VerifyBody { height: auto; }
    VerifyBody #verify-buttons { height: auto; }
    VerifyBody #verify-buttons Button { width: auto; min-width: 0; margin: 0 1 0 0; }
    VerifyBody #verify-copy { display: none; }
    VerifyBody.-can-copy #verify-copy { display: block; }
    VerifyBody #verify-summary { text-style: bold; }
    VerifyBody #verify-summary.-bad { color: $error; }
    VerifyBody #verify-next { margin: 0 0 1 0; }
    VerifyBody #verify-tree { height: auto; max-height: 30; }
    """
    controller: VerificationController

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.next_steps: NextSteps | None = None
        self._copying = False  # a copy started here: verify again when it ends

    def compose(self) -> ComposeResult:
        owa = self.store.profile.owa_url
        yield Static(
            Text.assemble(
                "Customer's spot checks in webmail: ", (owa, f"link {owa}"), " (o opens it)"
            ),
            id="verify-webmail",
        )
        with Horizontal(id="verify-buttons"):
            yield Button("Verify now (v)", id="verify-run", variant="primary")
            yield Button("Copy them now (c)", id="verify-copy")
        yield Static("", id="verify-summary")
        yield Static("", id="verify-next")
        tree: Tree[str] = Tree("Verification", id="verify-tree")
        tree.show_root = False
        yield tree

    def on_mount(self) -> None:
        self.show(self.controller.latest_verification())
        if isinstance(self.app, SessionWork):  # an App that owns the copy (not a test host)
            # The signal forgets this body once it is removed: leaving the step needs no clean-up.
            self.app.copy.finished.subscribe(self, self._copy_finished)

    # ----- showing ----------------------------------------------------------------------------

    def _say(self, summary: str | Text, next_text: str | Text = "", *, bad: bool = False) -> None:
        line = self.query_one("#verify-summary", Static)
        line.update(summary)
        line.set_class(bad, "-bad")
        advice = self.query_one("#verify-next", Static)
        advice.update(next_text)
        advice.display = bool(next_text)

    def show(self, result: Verification | None) -> None:
        tree = self.query_one("#verify-tree", Tree)
        tree.clear()
        tree.display = result is not None  # nothing to list before the first verification
        if result is None:
            self.next_steps = None
            self.set_class(False, "-can-copy")
            self._say("Not verified yet: press v to compare source and target.")
            self.refresh_bindings()
            return
        self.next_steps = steps = self.controller.next_steps(result)
        self.set_class(steps.can_copy, "-can-copy")
        self.refresh_bindings()
        self._say(
            Text(f"{result.summary()} (checked {format_time(result.created_at)})"),
            Text("\n".join(f"→ {line}" for line in steps.lines)),
            bad=not result.ok,
        )
        for m in result.mailboxes:
            mark = "✓" if m.ok else "✗"
            style = "" if m.ok else "red"
            if m.error:
                tree.root.add_leaf(Text(f"{mark} {m.mailbox}: could not be checked: {m.error}"))
                continue
            node = tree.root.add(
                Text(
                    f"{mark} {m.mailbox}: source {m.source_count}, target {m.target_count}, "
                    f"missing {m.missing_count}, extra {m.extra_count}, "
                    f"duplicated {m.duplicated_count}, failed {m.failed}, skipped {m.skipped}",
                    style=style,
                ),
                expand=not m.ok,
            )
            for f in m.folders:
                self._add_folder(node, f)

    @staticmethod
    def _add_folder(node: TreeNode[str], f: FolderCheck) -> None:
        if f.excluded:
            node.add_leaf(Text(f"  {f.source_folder}: left out ({f.excluded})"))
            return
        listed = [
            (what, message)
            for what, labels, summaries in (
                ("missing", f.missing, f.missing_messages),
                ("extra", f.extra, f.extra_messages),
                ("duplicated", f.duplicated, f.duplicated_messages),
            )
            for message in listed_messages(labels, summaries)
        ]
        folder = node.add(
            Text(
                f"{'✓' if f.ok else '✗'} {f.source_folder} → {f.target_folder}: "
                f"{f.source_count} / {f.target_count}, missing {f.missing_count}, "
                f"extra {f.extra_count}, duplicated {f.duplicated_count}, failed {f.failed}, "
                f"skipped {f.skipped}"
                + ("" if f.target_exists else ", no such folder on the target"),
                style="" if f.ok else "red",
            ),
            expand=bool(listed) and len(listed) <= EXPANDED_LISTS,
        )
        for what, message in listed:
            leaf = Text(f"{what:<10} ", style="bold")
            leaf.append(message.describe())  # plain text: a subject's brackets stay brackets
            if message.label.startswith("<"):
                leaf.append(f"  {message.label}", style="dim")
            folder.add_leaf(leaf)
        shown = len(listed)
        more = f.missing_count + f.extra_count + f.duplicated_count - shown
        if more > 0:
            folder.add_leaf(Text(f"… and {more} more (onboard verify --json lists 50 of each)"))

    # ----- actions ----------------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        actions = {"verify-run": self.action_verify, "verify-copy": self.action_copy_missing}
        action = actions.get(event.button.id or "")
        if action is not None:
            event.stop()
            action()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "copy_missing":  # only while a verification found mail a copy can bring
            return self.next_steps is not None and self.next_steps.can_copy
        return True

    def _reveal(self) -> None:
        reveal(self.query_one("#verify-buttons"), self.query_one("#verify-next"))

    def action_verify(self) -> None:
        self.post_message(StepBody.WorkStarted())
        self._say("Verifying: comparing every folder of every mailbox on both sides…")
        self._reveal()
        self.run_verification()

    @work(thread=True, exclusive=True, group="verify")
    def run_verification(self) -> None:
        try:
            result = self.controller.verify()
        except CopyError as exc:
            self.app.call_from_thread(self._cannot_verify, str(exc))
            return
        self.app.call_from_thread(self._verified, result)

    def _cannot_verify(self, reason: str) -> None:
        self._say(Text(f"Cannot verify: {reason}"), bad=True)
        self._reveal()

    def _verified(self, result: Verification) -> None:
        self.show(result)
        self._reveal()
        self.post_message(StepBody.EvidenceAdded())

    def action_copy_missing(self) -> None:
        steps = self.next_steps
        if steps is None or not steps.can_copy:
            self.notify("Nothing to copy: verify first (v).")
            return
        copy = session_work(self.app).copy
        try:
            started = copy.start(steps.copy_mode, steps.copy_mailboxes, reconcile=True)
        except CopyError as exc:
            self._say(Text(f"Cannot copy: {exc}"), bad=True)
            self._reveal()
            return
        if not started:
            self.notify("A copy is running already: this step verifies again when you ask (v).")
            return
        self._copying = True
        count = plural(len(steps.copy_mailboxes), "mailbox", "mailboxes")
        self._say(f"Copying the missing mail of {count}; this step verifies again when it ends.")
        self._reveal()

    def _copy_finished(self, message: CopyFinished) -> None:
        if not self._copying:
            return
        self._copying = False
        if not message.ok:
            self._say(Text(f"The copy stopped: {message.summary}"), bad=True)
            self._reveal()
            return
        self.action_verify()

    def action_open_webmail(self) -> None:
        owa = self.store.profile.owa_url
        self.app.open_url(owa)
        self.notify(f"Opening {owa} in the browser.", title="Webmail")
