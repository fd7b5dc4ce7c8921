"""An operator's walk through the app: start screen, steps, notes, states, quit, resume."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Checkbox, DataTable, Input, Static, TextArea

from screens.app import OnboardApp
from screens.dialogs import ConfirmDialog, ReasonDialog
from screens.start import StartScreen
from screens.step_screen import StepScreen
from screens.widgets.navigator import StepNavigator
from wizard.copy.service import CopyService
from wizard.profile import example_profile
from wizard.session import create_session, session_path
from wizard.store import SessionStore, StepState

from .pilot_helpers import settle, shown, type_text

SIZE = (140, 45)


def navigator_line(app: OnboardApp, number: str) -> str:
    navigator = app.screen.query_one(StepNavigator)
    return str(navigator.get_option(f"step-{number}").prompt)


async def test_create_walk_note_tick_done_quit_and_resume_on_the_same_step() -> None:
    app = OnboardApp()
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, StartScreen)
        await pilot.click("#new-customer")
        await type_text(pilot, "Acme Corp")
        await pilot.press("enter")  # on to the domain
        await type_text(pilot, "acme.example")
        await pilot.press("enter")  # creates the session
        await settle(pilot)

        screen = app.screen
        assert isinstance(screen, StepScreen) and screen.step.number == "1"
        store = app.store
        assert store is not None and store.customer == "Acme Corp"
        path = store.path

        # Tick the first checklist item of step 1 and mark it done.
        first_item = store.playbook.step("1").plain.checklist[0]
        box = screen.query_one(f"#check-{first_item.id}", Checkbox)
        box.focus()
        await pilot.press("space")
        await settle(pilot)
        assert store.checklist("1")[first_item.id].ticked
        await pilot.press("f2")
        await settle(pilot)
        assert store.step_record("1").state is StepState.DONE
        assert "✔" in navigator_line(app, "1")
        assert "done" in shown(screen.query_one("#step-state", Static))

        # Next step, write a note, move on: the note is saved on leaving the step.
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert isinstance(app.screen, StepScreen) and app.screen.step.number == "2"
        app.screen.query_one("#notes", TextArea).focus()
        await type_text(pilot, "Planning call on Monday")
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert store.note("2") == "Planning call on Monday"
        assert app.screen.step.number == "3"

        # A note on step 3, left in the editor when quitting.
        app.screen.query_one("#notes", TextArea).focus()
        await type_text(pilot, "IMAP host from Tom")
        await pilot.press("ctrl+q")
        await settle(pilot)
    assert app.return_code == 0
    assert app.store is None  # closed by the app

    # The lock is released: the session opens again and lands on step 3 with its note.
    store = SessionStore.open(path)
    assert store.current_step == "3"
    resumed = OnboardApp(store=store)
    async with resumed.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = resumed.screen
        assert isinstance(screen, StepScreen) and screen.step.number == "3"
        assert screen.query_one("#notes", TextArea).text == "IMAP host from Tom"
        assert "✔" in navigator_line(resumed, "1")
        await pilot.press("ctrl+b")
        await settle(pilot)
        assert resumed.screen.query_one("#notes", TextArea).text == "Planning call on Monday"
        await pilot.press("ctrl+q")
    assert store.closed


async def test_marking_done_before_dependencies_warns_and_records_the_override() -> None:
    store = create_session("Acme Corp", "acme.example", example_profile(), name="acme")
    app = OnboardApp(store=store)
    async with app.run_test(size=SIZE) as pilot:
        app.goto_step("8")
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ReasonDialog)
        message = shown(dialog.query_one("#message", Static))
        step7 = store.playbook.step("7")
        assert f"Step 7 · {step7.title} (not started)" in message
        assert store.step_record("8").state is StepState.NOT_STARTED

        await pilot.press("enter")  # no reason yet: refused
        await settle(pilot)
        assert app.screen is dialog
        assert "reason is needed" in shown(dialog.query_one("#reason-error", Static))

        await type_text(pilot, "customer changed MX early")
        await pilot.press("enter")
        await settle(pilot)
        record = store.step_record("8")
        assert record.state is StepState.DONE
        assert record.override == "customer changed MX early"
        assert isinstance(app.screen, StepScreen)
        assert "override: customer changed MX early" in shown(
            app.screen.query_one("#step-state", Static)
        )
        assert "✔" in navigator_line(app, "8")


async def test_skip_needs_a_reason_and_cancel_changes_nothing() -> None:
    store = create_session("Acme Corp", "acme.example", example_profile(), name="acme")
    app = OnboardApp(store=store)
    async with app.run_test(size=SIZE) as pilot:
        app.goto_step("5")
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        assert isinstance(app.screen, ReasonDialog)
        await pilot.click("#confirm")
        await settle(pilot)
        assert isinstance(app.screen, ReasonDialog)
        assert "reason is needed" in shown(app.screen.query_one("#reason-error", Static))
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, StepScreen)
        assert store.step_record("5").state is StepState.NOT_STARTED

        await pilot.press("f4")
        await settle(pilot)
        await type_text(pilot, "no volume to confirm")
        await pilot.press("enter")
        await settle(pilot)
        record = store.step_record("5")
        assert (record.state, record.reason) == (StepState.SKIPPED, "no volume to confirm")
        assert "↷" in navigator_line(app, "5")

        await pilot.press("f6")  # reopen
        await settle(pilot)
        assert store.step_record("5").state is StepState.NOT_STARTED


async def test_delete_asks_first() -> None:
    for customer in ("Acme Corp", "Beta Ltd"):
        create_session(customer, "acme.example", example_profile()).close()
    app = OnboardApp()
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one("#sessions", DataTable)
        assert table.row_count == 2
        table.focus()
        await pilot.press("d")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        target = dialog.title_text.removeprefix("Delete session ").rstrip("?")
        await pilot.press("n")
        await settle(pilot)
        assert session_path(target).exists() and table.row_count == 2

        await pilot.press("d")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert not session_path(target).exists()
        assert app.screen.query_one("#sessions", DataTable).row_count == 1


async def test_a_session_open_elsewhere_is_refused_with_who_holds_it() -> None:
    held = create_session("Acme Corp", "acme.example", example_profile(), name="acme")
    try:
        app = OnboardApp()
        async with app.run_test(size=SIZE) as pilot:
            app.screen.query_one("#sessions", DataTable).focus()
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, StartScreen)
            status = shown(app.screen.query_one("#sessions-status", Static))
            assert "session acme is open in another onboard by tester@" in status
            assert app.store is None
    finally:
        held.close()


async def test_unreadable_files_and_profile_errors_are_shown(isolated_onboard: Path) -> None:
    create_session("Acme Corp", "acme.example", example_profile()).close()
    session_path("broken").write_bytes(b"this is not a session")
    app = OnboardApp()
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one("#sessions", DataTable)
        row = [str(cell) for cell in table.get_row("broken")]
        assert row[1] == "(unreadable)" and row[6]  # the problem is in the last column

        app.screen.query_one("#new-customer", Input).value = "Gamma"
        app.screen.query_one("#new-domain", Input).value = "gamma.example"
        app.screen.query_one("#new-profile", Input).value = str(isolated_onboard / "none.toml")
        await pilot.click("#create")
        await settle(pilot)
        error = shown(app.screen.query_one("#new-error", Static))
        assert "Provider profile: cannot read provider profile" in error
        assert "none.toml" in error

        app.screen.query_one("#new-profile", Input).value = ""
        app.screen.query_one("#new-domain", Input).value = "not a domain"
        await pilot.click("#create")
        await settle(pilot)
        assert "'not a domain' is not a valid domain name" in shown(
            app.screen.query_one("#new-error", Static)
        )
        assert isinstance(app.screen, StartScreen)


async def test_filtering_variant_toggle_rerenders_the_step_text() -> None:
    store = create_session("Acme Corp", "acme.example", example_profile(), name="acme")
    step = store.playbook.step("8")
    assert step.filtering is not None
    app = OnboardApp(store=store)
    async with app.run_test(size=SIZE) as pilot:
        app.goto_step("8")
        await settle(pilot)
        text = app.screen.query_one("#step-text", Static)
        assert shown(text).split()[:5] == step.plain.text.split()[:5]
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert store.third_party_filter
        first_words = step.filtering.text.replace("{provider}", store.profile.name).split()[:5]
        assert shown(app.screen.query_one("#step-text", Static)).split()[:5] == first_words
        for item in step.filtering.checklist:
            app.screen.query_one(f"#check-{item.id}", Checkbox)


async def test_export_report_from_the_keyboard(isolated_onboard: Path) -> None:
    store = create_session("Acme Corp", "acme.example", example_profile(), name="acme")
    store.set_note("4", "Firewall opened for the provider")
    app = OnboardApp(store=store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+r")
        await settle(pilot)
        await type_text(pilot, "HTML")
        await settle(pilot, 6)
        await pilot.press("enter")
        await settle(pilot)
        await app.workers.wait_for_complete()
        await settle(pilot)
        report = isolated_onboard / "exports" / "acme-onboarding-report.html"
        assert report.exists()
        assert "Firewall opened for the provider" in report.read_text()
        assert any(str(report) in n.message for n in app._notifications)


async def test_palette_jumps_to_a_step() -> None:
    store = create_session("Acme Corp", "acme.example", example_profile(), name="acme")
    app = OnboardApp(store=store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await settle(pilot)
        await type_text(pilot, "Step 12")
        await settle(pilot, 6)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, StepScreen) and app.screen.step.number == "12"
        assert store.current_step == "12"


async def test_evidence_list_refreshes_when_a_body_records_evidence() -> None:
    store = create_session("Acme Corp", "acme.example", example_profile(), name="acme")
    app = OnboardApp(store=store)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert "No evidence" in shown(screen.query_one("#evidence", Static))
        screen.query_one("#contact", Input).value = "Tom Jones"
        screen.query_one("#email", Input).value = "tom@acme.example"
        screen.query_one("#agreed-on", Input).value = "2026-11-20"
        screen.query_one("#contact", Input).focus()
        store.set_step_state("2", StepState.DONE)  # as a body might, along with its evidence
        assert "✔" not in navigator_line(app, "2")
        await pilot.press("ctrl+s")  # the step 1 body's own save key
        await settle(pilot)
        listed = shown(screen.query_one("#evidence", Static))
        assert "✔ ok" in listed and "Terms agreed on 2026-11-20 with Tom Jones" in listed
        assert "✔" in navigator_line(app, "2")


class FakeCopy(CopyService):
    """Stands in for the session's copy service: a copy that runs until it is shut down."""

    def __init__(self, store: SessionStore) -> None:
        super().__init__(store, lambda _wanted: [])
        self.stopped = False

    @property
    def running(self) -> bool:
        return not self.stopped

    def shutdown(self, timeout: float = 10.0) -> None:
        self.stopped = True


async def test_quitting_while_a_service_runs_asks_first_and_stops_it() -> None:
    store = create_session("Acme Corp", "acme.example", example_profile(), name="acme")
    app = OnboardApp(store=store, copy_service=FakeCopy)
    async with app.run_test(size=SIZE) as pilot:
        service = app.copy.service  # made the first time a step asks, as step 9 does
        assert isinstance(service, FakeCopy)
        await pilot.press("ctrl+q")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, StepScreen) and not service.stopped
        await pilot.press("ctrl+q")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
    assert service.stopped and store.closed


async def test_navigator_notes_on_blur_and_key_and_back_to_the_sessions() -> None:
    store = create_session("Acme Corp", "acme.example", example_profile(), name="acme")
    app = OnboardApp(store=store)
    async with app.run_test(size=SIZE) as pilot:
        # The step's first field has the focus: typing goes where the operator looks.
        assert app.screen.focused is app.screen.query_one("#contact", Input)
        await pilot.press("escape")  # to the step list
        assert app.screen.focused is app.screen.query_one(StepNavigator)
        await pilot.press("down", "down", "enter")  # step 1 -> 3 in the navigator
        await settle(pilot)
        assert isinstance(app.screen, StepScreen) and app.screen.step.number == "3"
        assert store.current_step == "3"

        notes = app.screen.query_one("#notes", TextArea)
        notes.focus()
        await type_text(pilot, "first")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert store.note("3") == "first"
        assert "Last saved by tester" in shown(app.screen.query_one("#notes-status", Static))

        await type_text(pilot, " and second")
        assert store.note("3") == "first"  # nothing written per keystroke
        app.screen.query_one(StepNavigator).focus()  # leaving the editor saves
        await settle(pilot)
        assert store.note("3") == "first and second"

        await pilot.press("ctrl+o")  # back to the saved sessions; the session is closed
        await settle(pilot)
        assert isinstance(app.screen, StartScreen) and app.store is None and store.closed
        table = app.screen.query_one("#sessions", DataTable)
        assert str(table.get_row("acme")[3]).startswith("3 · ")
        table.focus()
        await pilot.press("enter")  # and open it again, on step 3
        await settle(pilot)
        assert isinstance(app.screen, StepScreen) and app.screen.step.number == "3"
        assert app.screen.query_one("#notes", TextArea).text == "first and second"


async def test_palette_exports_json_and_toggles_the_filtering_variant(
    isolated_onboard: Path,
) -> None:
    store = create_session("Acme Corp", "acme.example", example_profile(), name="acme")
    app = OnboardApp(store=store)
    async with app.run_test(size=SIZE) as pilot:
        for query in ("Export report (JSON)", "Turn the third-party filtering variant on"):
            await pilot.press("ctrl+p")
            await settle(pilot)
            await type_text(pilot, query)
            await settle(pilot, 6)
            await pilot.press("enter")
            await settle(pilot)
        await app.workers.wait_for_complete()
        report = isolated_onboard / "exports" / "acme-onboarding-report.json"
        assert '"customer": "Acme Corp"' in report.read_text()
        assert store.third_party_filter
