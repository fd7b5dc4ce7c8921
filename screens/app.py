"""The onboard Textual app: the start screen, or an open session shown one step per screen."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.command import CommandListItem, SimpleCommand

from wizard.exports import write_private
from wizard.profile import ProviderProfile
from wizard.report import render_report, report_filename
from wizard.session import exports_dir
from wizard.steps.planning import PlanningController

from .commands import SessionCommands
from .copy_service import CopyServiceFactory, SessionCopy, session_copy_service
from .dialogs import ConfirmDialog
from .log_screen import LogScreen
from .messages import CopyFinished, CopyProgressed, PropagationRound
from .propagation_service import PropagationWatch
from .services import SessionService, SessionWork
from .start import StartScreen
from .step_screen import StepScreen
from .steps import load_bodies

if TYPE_CHECKING:
    from wizard.store import SessionStore

REPORT_FORMATS = {"md": "Markdown", "html": "HTML", "json": "JSON"}


class OnboardApp(App[int], SessionWork):
    """Runs one onboarding session at a time.

    The App owns the open ``SessionStore`` (``self.store``) and closes it, releasing the session
    lock, when the session is closed or the app exits. It also owns the session's long work, so
    it outlives any step screen (screens/services.py): the copy runs in a thread worker of the
    App (``self.copy``), step 12's propagation watch on an App timer (``self.propagation``). Their
    messages reach the App, which hands them to the signals step bodies subscribe to.
    """

    TITLE = "onboard"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {SessionCommands}
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("ctrl+l", "show_log", "Log", priority=True),
    ]

    def __init__(
        self,
        store: SessionStore | None = None,
        profile: ProviderProfile | None = None,
        demo: bool = False,
        session_opened: Callable[[SessionStore], None] | None = None,
        new_demo_session: Callable[[], SessionStore] | None = None,
        copy_service: CopyServiceFactory = session_copy_service,
    ) -> None:
        super().__init__()
        self.store = store
        self.profile = profile  # the default profile for new sessions (from --profile)
        self.demo = demo
        # What the CLI wants done with each session the app shows (the demo keeps it pointed at
        # its local servers); called on the UI thread, so it must be quick.
        self.session_opened = session_opened
        # In the demo, the start screen offers this instead of the new-session form: a new demo
        # session on freshly started demo servers (slow: called from a worker thread).
        self.new_demo_session = new_demo_session
        # How the copy service of an opened session is made (tests give one with slow targets).
        self.copy_service = copy_service
        self._copy: SessionCopy | None = None
        self._propagation: PropagationWatch | None = None
        load_bodies()

    # ----- the session's long work --------------------------------------------------------------

    @property
    def copy(self) -> SessionCopy:
        """The open session's copy, made the first time a step asks for it."""
        if self.store is None:
            raise RuntimeError("no session is open, so there is no copy")
        if self._copy is None or self._copy.store is not self.store:
            self._copy = SessionCopy(self, self.copy_service(self.store))
        return self._copy

    @property
    def propagation(self) -> PropagationWatch:
        """The open session's propagation watch, made the first time step 12 asks for it."""
        if self._propagation is None:
            self._propagation = PropagationWatch(self)
        return self._propagation

    @property
    def services(self) -> dict[str, SessionService]:
        """The session's long work made so far, by what the operator calls it."""
        made = {"copy": self._copy, "propagation watch": self._propagation}
        return {name: service for name, service in made.items() if service is not None}

    def on_copy_progressed(self, message: CopyProgressed) -> None:
        if self._copy is not None:
            self._copy.deliver(message)

    def on_copy_finished(self, message: CopyFinished) -> None:
        if self._copy is not None:
            self._copy.deliver(message)

    def on_propagation_round(self, message: PropagationRound) -> None:
        if self._propagation is not None:
            self._propagation.deliver(message)

    def on_mount(self) -> None:
        if self.store is not None:
            self._opened(self.store)
            self.push_screen(StepScreen(self.store, self.store.current_step))
        else:
            self.push_screen(StartScreen())

    # ----- sessions ----------------------------------------------------------------------------

    def open_session(self, store: SessionStore) -> None:
        """Show an opened session on the step where it was left (called by the start screen)."""
        self._release_session()
        self.store = store
        self._opened(store)
        self.switch_screen(StepScreen(store, store.current_step))

    def _opened(self, store: SessionStore) -> None:
        if self.session_opened is not None:
            self.session_opened(store)

    def goto_step(self, number: str) -> None:
        if self.store is None:
            return
        if isinstance(self.screen, StepScreen):
            self.screen.save_notes()
        self.switch_screen(StepScreen(self.store, number))

    def close_session(self) -> None:
        """Back to the start screen; asks first while a service (a copy) is running."""

        def close(yes: bool | None) -> None:
            if yes:
                if isinstance(self.screen, StepScreen):
                    self.screen.save_notes()
                self._release_session()
                self.switch_screen(StartScreen())

        self._ask_if_busy("Close this session", close)

    def _busy(self) -> list[str]:
        return [name for name, service in self.services.items() if service.running]

    def _ask_if_busy(self, what: str, then: Callable[[bool | None], None]) -> None:
        busy = self._busy()
        if not busy:
            then(True)
            return
        self.push_screen(
            ConfirmDialog(
                f"{what} while the {', '.join(busy)} is running?",
                "It is stopped cleanly and goes on where it left off next time.",
                yes=f"{what} and stop it",
                no="Keep working",
            ),
            then,
        )

    def _release_session(self) -> None:
        for service in self.services.values():
            service.shutdown()
        self._copy = self._propagation = None
        if self.store is not None:
            self.store.close()  # also releases the session lock
            self.store = None

    async def action_quit(self) -> None:
        def leave(yes: bool | None) -> None:
            if yes:
                self.exit(0)

        self._ask_if_busy("Quit", leave)

    def on_unmount(self) -> None:
        # Screens are gone by now (their notes saved); close what the session holds.
        self._release_session()

    # ----- palette entries shared by keys and commands -----------------------------------------

    def toggle_filtering(self) -> None:
        if self.store is None:
            return
        enabled = not self.store.third_party_filter
        PlanningController(self.store).set_third_party_filter(enabled)
        if isinstance(self.screen, StepScreen):
            self.run_worker(self.screen.show_variant())
        self.notify(
            "Third-party filtering variant: the filtering service stays in front of the mail."
            if enabled
            else "Plain variant: no third-party filtering service."
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "show_log":
            return self.store is not None  # no session, no log: the key stays out of the footer
        return True

    def action_show_log(self) -> None:
        """Show the session's activity log over the current screen (again: back)."""
        if isinstance(self.screen, LogScreen):
            self.screen.dismiss()
        elif self.store is not None:
            self.push_screen(LogScreen(self.store))
        else:
            self.notify("Open a session first: the activity log belongs to a session.")

    def search_steps(self) -> None:
        if self.store is None:
            return
        commands: list[CommandListItem] = [
            SimpleCommand(
                f"Step {s.number}: {s.title}",
                lambda n=s.number: self.goto_step(n),
                f"{s.owner.value} · phase {s.phase}",
            )
            for s in self.store.playbook
        ]
        self.search_commands(commands, placeholder="Go to step…")

    def search_exports(self) -> None:
        commands: list[CommandListItem] = [
            SimpleCommand(
                f"Export report ({label})",
                lambda f=fmt: self.export_report(f),
                f"written to {exports_dir()}",
            )
            for fmt, label in REPORT_FORMATS.items()
        ]
        self.search_commands(commands, placeholder="Export the completion report as…")

    @work(thread=True, exclusive=True, group="export")
    def export_report(self, fmt: str) -> Path | None:
        """Write the completion report into the exports directory and say where."""
        store = self.store
        if store is None:
            return None
        path = exports_dir() / report_filename(store, fmt)
        try:
            write_private(path, render_report(store, fmt))
        except OSError as exc:
            self.call_from_thread(
                self.notify,
                f"Could not write the report to {path}: {exc.strerror}",
                severity="error",
            )
            return None
        self.call_from_thread(self.notify, f"Report written to {path}", title="Report exported")
        return path
