"""The start screen: a form for a new session and the table of saved sessions to resume or delete."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Header, Input, Label, Static, Switch

from wizard.playbook import default_playbook
from wizard.profile import ProfileError, ProviderProfile, load_profile
from wizard.session import (
    SessionSummary,
    create_session,
    delete_session,
    list_sessions,
    open_session_file,
)
from wizard.session_records import (
    SessionDamaged,
    SessionError,
    SessionExists,
    SessionLocked,
    SessionTooNew,
)

from .dialogs import ConfirmDialog
from .text import when

if TYPE_CHECKING:
    from .app import OnboardApp

STEP_TITLE_WIDTH = 30
PROBLEM_WIDTH = 30  # the whole problem shows below the table when its row is highlighted


def short_problem(summary: SessionSummary) -> str:
    """The problem without the file's path (the row names the session already)."""
    return summary.problem.replace(str(summary.path), "the file").strip()


class SessionTable(DataTable[Text]):
    """Saved sessions; enter resumes the one under the cursor, delete asks, then deletes it."""

    BINDINGS = [
        Binding("enter", "select_cursor", "Resume", show=True),
        Binding("delete,d", "delete_session", "Delete…"),
    ]

    def action_delete_session(self) -> None:
        cast("StartScreen", self.screen).delete_selected()


class StartScreen(Screen[None]):
    CSS_PATH = "start.tcss"
    BINDINGS = [
        Binding("ctrl+n", "new_session", "New session"),
        Binding("f5", "refresh_sessions", "Refresh list"),
    ]

    def __init__(self) -> None:
        super().__init__(name="start")
        self.summaries: dict[str, SessionSummary] = {}

    @property
    def onboard(self) -> OnboardApp:
        return cast("OnboardApp", self.app)

    def compose(self) -> ComposeResult:
        default_profile = self.onboard.profile
        profile_hint = (
            f"empty: {default_profile.name} from {default_profile.source}"
            if default_profile
            else "empty: the shipped example profile"
        )
        yield Header()
        if self.onboard.new_demo_session is not None:
            yield from self._compose_demo()
        else:
            yield from self._compose_form(profile_hint)
        with Vertical(id="saved") as saved:
            saved.border_title = "Saved sessions"
            yield SessionTable(id="sessions", cursor_type="row", zebra_stripes=True)
            yield Static("", id="sessions-status")
        yield Footer()

    def _compose_demo(self) -> ComposeResult:
        with Vertical(id="new-session") as panel:
            panel.border_title = "Demo"
            yield Static(
                "The demo has one made-up company, served on this computer only. Resume its "
                "session below, or delete it (d) and start the demo over with fresh servers: an "
                "empty Exchange, the old server's mail as generated, the MX change not yet made.",
                classes="hint",
            )
            with Horizontal(classes="row"):
                yield Button("Start a new demo session", id="demo-new", variant="primary")
                yield Static("", id="new-error")

    def _compose_form(self, profile_hint: str) -> ComposeResult:
        with Vertical(id="new-session") as form:
            form.border_title = "New session" + (" (demo)" if self.onboard.demo else "")
            with Horizontal(classes="row"):
                yield Label("Customer", classes="field")
                yield Input(placeholder="Customer name, as in the report", id="new-customer")
            with Horizontal(classes="row"):
                yield Label("Mail domain", classes="field")
                yield Input(placeholder="example.com", id="new-domain")
            with Horizontal(classes="row"):
                yield Label("Provider profile", classes="field")
                yield Input(placeholder=f"TOML file ({profile_hint})", id="new-profile")
            with Horizontal(classes="row"):
                yield Label("Third-party filtering", classes="field")
                yield Switch(False, id="new-filter")
                yield Static(
                    "the customer keeps a mail filtering service in front of the mail",
                    classes="hint",
                )
            with Horizontal(classes="row"):
                yield Label("", classes="field")
                yield Button("Create session", id="create", variant="primary")
                yield Static("", id="new-error")

    def on_mount(self) -> None:
        table = self.query_one(SessionTable)
        for key, label in (
            ("name", "Session"),
            ("customer", "Customer"),
            ("domain", "Domain"),
            ("step", "Current step"),
            ("done", "Done"),
            ("changed", "Last change"),
            ("note", "Note"),
        ):
            table.add_column(label, key=key, width=PROBLEM_WIDTH if key == "note" else None)
        self.refresh_sessions()
        if self.summaries:
            table.focus()
        else:
            self.action_new_session()

    # ----- saved sessions --------------------------------------------------------------------

    def refresh_sessions(self) -> None:
        table = self.query_one(SessionTable)
        table.clear()
        self.summaries = {}
        for summary in list_sessions():
            self.summaries[summary.name] = summary
            table.add_row(*self._cells(summary), key=summary.name)
        status = self.query_one("#sessions-status", Static)
        if self.summaries:
            status.update("enter: resume · d or delete: delete (asks first)")
        else:
            status.update(
                "No saved sessions. Start a new demo session above."
                if self.onboard.new_demo_session is not None
                else "No saved sessions yet. Fill in the form above to start one."
            )

    @staticmethod
    def _cells(summary: SessionSummary) -> list[Text]:
        if summary.problem:
            return [
                Text(summary.name),
                Text("(unreadable)", style="bold #d9534f"),
                Text(""),
                Text(""),
                Text(""),
                Text(""),
                Text(short_problem(summary), style="#d9534f", overflow="ellipsis", no_wrap=True),
            ]
        playbook = default_playbook()
        step = summary.current_step
        title = playbook.step(step).title if step in playbook else ""
        if len(title) > STEP_TITLE_WIDTH:
            title = title[: STEP_TITLE_WIDTH - 1] + "…"
        return [
            Text(summary.name),
            Text(summary.customer),
            Text(summary.domain),
            Text(f"{step} · {title}"),
            Text(f"{summary.done}/{summary.total}", justify="right"),
            Text(when(summary.updated_at)),
            Text("demo", style="bold #d9a21b") if summary.demo else Text(""),
        ]

    def action_refresh_sessions(self) -> None:
        self.refresh_sessions()

    def _selected(self) -> SessionSummary | None:
        table = self.query_one(SessionTable)
        if not self.summaries or table.cursor_row < 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.summaries.get(str(key))

    def _problem(self, text: str) -> None:
        self.query_one("#sessions-status", Static).update(Text(text, style="#d9534f"))
        self.notify(text, severity="error", timeout=10)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        summary = self.summaries.get(str(event.row_key.value))
        status = self.query_one("#sessions-status", Static)
        if summary is not None and summary.problem:
            status.update(Text(f"{summary.name}: {short_problem(summary)}", style="#d9534f"))
        elif self.summaries:
            status.update("enter: resume · d or delete: delete (asks first)")

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        summary = self.summaries.get(str(event.row_key.value))
        if summary is not None:
            self.resume(summary)

    def resume(self, summary: SessionSummary) -> None:
        if summary.problem:
            self._problem(f"Cannot open {summary.name}: {summary.problem}")
            return
        try:
            store = open_session_file(summary.path)
        except SessionLocked as exc:
            self._problem(f"Cannot open it here: {exc}")
            return
        except (SessionDamaged, SessionTooNew, SessionError) as exc:
            self._problem(f"Cannot open {summary.name}: {exc}")
            return
        self.onboard.open_session(store)

    def delete_selected(self) -> None:
        summary = self._selected()
        if summary is None:
            return
        what = (
            f"{summary.customer} ({summary.domain})" if not summary.problem else "unreadable file"
        )

        def delete(yes: bool | None) -> None:
            if not yes:
                return
            try:
                delete_session(summary.name)
            except SessionError as exc:
                self._problem(f"Not deleted: {exc}")
                return
            self.refresh_sessions()
            self.notify(f"Deleted session {summary.name}.")

        self.app.push_screen(
            ConfirmDialog(
                f"Delete session {summary.name}?",
                f"{what}: the session file with its notes, checklist and evidence is removed "
                "for good.",
                yes="Delete",
                no="Keep it",
            ),
            delete,
        )

    # ----- new session -----------------------------------------------------------------------

    def action_new_session(self) -> None:
        if self.onboard.new_demo_session is not None:
            self.query_one("#demo-new", Button).focus()
        else:
            self.query_one("#new-customer", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "new-customer":
            self.query_one("#new-domain", Input).focus()
        else:
            self.create()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "create":
            event.stop()
            self.create()
        elif event.button.id == "demo-new":
            event.stop()
            self._form_error("")
            event.button.disabled = True
            self.query_one("#new-error", Static).update("Starting the demo servers again…")
            self.start_demo_over()

    @work(thread=True, exclusive=True, group="demo")
    def start_demo_over(self) -> None:
        make = self.onboard.new_demo_session
        assert make is not None
        try:
            store = make()
        except Exception as exc:  # noqa: BLE001 - shown on the screen
            self.app.call_from_thread(self._demo_not_started, f"Not started: {exc}")
            return
        self.app.call_from_thread(self.onboard.open_session, store)

    def _demo_not_started(self, text: str) -> None:
        self._form_error(text)
        self.query_one("#demo-new", Button).disabled = False

    def _form_error(self, text: str) -> None:
        self.query_one("#new-error", Static).update(Text(text, style="#d9534f"))

    def _profile(self) -> ProviderProfile:
        path = self.query_one("#new-profile", Input).value.strip()
        if path:
            return load_profile(path)
        return self.onboard.profile or load_profile()

    def create(self) -> None:
        customer = self.query_one("#new-customer", Input).value
        domain = self.query_one("#new-domain", Input).value
        try:
            profile = self._profile()
        except ProfileError as exc:
            self._form_error(f"Provider profile: {exc}")
            self.query_one("#new-profile", Input).focus()
            return
        try:
            store = create_session(
                customer,
                domain,
                profile,
                third_party_filter=self.query_one("#new-filter", Switch).value,
                demo=self.onboard.demo,
            )
        except (ValueError, SessionExists) as exc:
            self._form_error(str(exc))
            return
        self.onboard.open_session(store)
