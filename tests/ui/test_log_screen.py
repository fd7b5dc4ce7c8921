"""The activity log screen: opened from a step, shows new lines live, filters by mailbox/level."""

from __future__ import annotations

import threading

from textual.widgets import RichLog, Select, Static

from screens.app import OnboardApp
from screens.log_screen import LogScreen
from screens.step_screen import StepScreen
from wizard import activity
from wizard.profile import example_profile
from wizard.session import create_session
from wizard.store import SessionStore

from .pilot_helpers import settle, shown, type_text, wait_until

SIZE = (140, 40)
ANNA = "anna@acme.example"
BERT = "bert@acme.example"


def session() -> SessionStore:
    store = create_session("Acme Log", "acme.example", example_profile())
    store.add_mailboxes([("anna", ANNA, "Anna"), ("bert", BERT, "Bert")])
    return store


def lines_shown(app: OnboardApp) -> list[str]:
    view = app.screen.query_one("#log-lines", RichLog)
    return [strip.text.rstrip() for strip in view.lines]


async def test_log_screen_tails_new_lines_and_filters_by_mailbox_and_level() -> None:
    store = session()
    activity.log_event(store, "info", "copy", "connect", "connected to the source", mailbox=ANNA)
    activity.log_event(store, "info", "dns", "query", "asked ns1.acme.example for MX")
    app = OnboardApp(store=store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, StepScreen)
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert isinstance(app.screen, LogScreen)
        text = lines_shown(app)
        assert len(text) == 2
        assert "connected to the source" in text[0] and ANNA in text[0] and "copy" in text[0]
        assert "asked ns1.acme.example for MX" in text[1]
        assert shown(app.screen.query_one("#log-status", Static)) == "2 lines"

        # An engine thread writes while the screen is open: the line shows up by itself.
        writer = threading.Thread(
            target=activity.log_event,
            args=(store, "warning", "copy", "retry", "target: busy; retrying"),
            kwargs={"mailbox": BERT},
        )
        writer.start()
        writer.join()
        await wait_until(pilot, lambda: len(lines_shown(app)) == 3)
        assert "WARNING" in lines_shown(app)[2] and BERT in lines_shown(app)[2]

        # Only Bert's lines: choose him in the mailbox filter with the keyboard.
        await pilot.press("m")
        await pilot.press("enter", "down", "down", "down", "enter")
        await settle(pilot)
        assert app.screen.query_one("#log-mailbox", Select).value == BERT
        assert len(lines_shown(app)) == 1 and "target: busy" in lines_shown(app)[0]
        activity.log_event(store, "info", "copy", "batch", "anna's batch", mailbox=ANNA)
        activity.log_event(store, "error", "copy", "failure", "bert stopped", mailbox=BERT)
        await wait_until(pilot, lambda: len(lines_shown(app)) == 2)
        assert "bert stopped" in lines_shown(app)[1]
        assert "anna's batch" not in "\n".join(lines_shown(app))
        status = shown(app.screen.query_one("#log-status", Static))
        assert status == "2 of 5 lines match the filter"

        # Errors only, every mailbox.
        app.screen.query_one("#log-mailbox", Select).value = "*"
        await pilot.press("v")
        await pilot.press("enter", "down", "down", "down", "enter")
        await settle(pilot)
        assert lines_shown(app) == [x for x in lines_shown(app) if "ERROR" in x]
        assert len(lines_shown(app)) == 1 and "bert stopped" in lines_shown(app)[0]

        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, StepScreen)


async def test_log_screen_follows_the_end_unless_scrolled_up() -> None:
    store = session()
    for n in range(120):
        activity.log_event(store, "info", "copy", "batch", f"batch {n}", mailbox=ANNA)
    app = OnboardApp(store=store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+l")
        await settle(pilot)
        view = app.screen.query_one("#log-lines", RichLog)
        await wait_until(pilot, lambda: view.max_scroll_y > 0 and view.is_vertical_scroll_end)

        activity.log_event(store, "info", "copy", "batch", "batch 120", mailbox=ANNA)
        await wait_until(pilot, lambda: len(view.lines) == 121)
        await settle(pilot)
        assert view.is_vertical_scroll_end  # followed

        view.scroll_home(animate=False)
        await settle(pilot)
        activity.log_event(store, "info", "copy", "batch", "batch 121", mailbox=ANNA)
        await wait_until(pilot, lambda: len(view.lines) == 122)
        await settle(pilot)
        assert view.scroll_y == 0  # the operator reads older lines: left alone

        await pilot.press("end")
        activity.log_event(store, "info", "copy", "batch", "batch 122", mailbox=ANNA)
        await wait_until(pilot, lambda: len(view.lines) == 123)
        await settle(pilot)
        assert view.is_vertical_scroll_end


async def test_the_palette_opens_the_log() -> None:
    store = session()
    app = OnboardApp(store=store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await type_text(pilot, "activity log")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, LogScreen)
        assert "Nothing logged yet" in shown(app.screen.query_one("#log-status", Static))
        await pilot.press("ctrl+l")  # the same key takes the operator back
        await settle(pilot)
        assert isinstance(app.screen, StepScreen)


async def test_b_writes_the_report_and_log_bundle_into_the_exports_folder() -> None:
    import zipfile

    from wizard.session import exports_dir

    store = session()
    activity.log_event(store, "info", "copy", "batch", "5 copied", mailbox=ANNA)
    app = OnboardApp(store=store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+l")
        await settle(pilot)
        await pilot.press("b")
        await app.workers.wait_for_complete()
        await settle(pilot)
        path = exports_dir() / f"{store.name}-onboarding-report-with-log.zip"
        with zipfile.ZipFile(path) as bundle:
            names = bundle.namelist()
            log = bundle.read(f"logs/{store.name}.onboard.log").decode()
        assert f"{store.name}-onboarding-report.html" in names and "README.txt" in names
        assert "5 copied" in log
