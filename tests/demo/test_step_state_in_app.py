"""In the app, on the demo company at a laptop's 80x24 (and at 120x36): a step becomes "doing"
when its work starts and proposes done when it succeeded, the copy steps count what earlier runs
copied after the session is opened again, and the tables give up columns before they cut a
number."""

from __future__ import annotations

from typing import Any

from textual.geometry import Region
from textual.widgets import Static, TabbedContent

from screens.app import OnboardApp
from screens.copy_service import session_copy_service
from screens.widgets.checklist import ChecklistBox
from screens.widgets.done_proposal import DoneProposalLine
from screens.widgets.fitted_table import FittedTable
from tests.ui.pilot_helpers import settle, shown, wait_until
from wizard.copy.ledger import CopyLedger, RunMode
from wizard.devservers.demo import DemoServers, open_demo_session
from wizard.imap.probe import ProbeState
from wizard.playbook import Kind
from wizard.store import SessionStore, StepState


def settle_dependencies(store: SessionStore, kind: Kind) -> str:
    number = store.playbook.number_of(kind)
    for dep in store.playbook.step(number).depends:
        store.set_step_state(dep, StepState.DONE)
    store.set_current_step(number)
    return number


def table_lines(table: FittedTable) -> list[str]:
    """What the table shows, line by line, at its width now."""
    region = Region(0, 0, table.size.width, table.size.height)
    return [strip.text for strip in table.render_lines(region)]


def assert_numbers_whole(table: FittedTable, columns: tuple[str, ...]) -> None:
    """Every cell of these columns appears whole on the screen: none is cut or given up."""
    assert set(columns) <= set(table.shown_columns), table.shown_columns
    assert table.virtual_size.width <= table.scrollable_content_region.width
    text = "\n".join(table_lines(table))
    for row in table.rows:
        for column in columns:
            value = str(table.get_cell(row, column))
            assert value and value in text, (row.value, column, value, text)


def state_of(store: SessionStore, number: str) -> StepState:
    return store.step_record(number).state


def ticks(app: OnboardApp) -> dict[str, bool]:
    return {box.item_id: box.value for box in app.screen.query(ChecklistBox)}


async def test_a_copy_at_80x24_is_doing_then_proposes_done_with_its_numbers_whole(
    demo_servers: DemoServers,
) -> None:
    store = open_demo_session(demo_servers)
    number = settle_dependencies(store, Kind.COPY)
    app = OnboardApp(store=store, demo=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        proposal = app.screen.query_one(DoneProposalLine)
        assert state_of(store, number) is StepState.NOT_STARTED
        assert proposal.proposal is None and not proposal.display
        await pilot.press("s")
        await settle(pilot)
        assert state_of(store, number) is StepState.IN_PROGRESS  # the copy started
        assert "in progress" in shown(app.screen.query_one("#step-state", Static))
        service = app.copy.service
        await wait_until(pilot, lambda: not service.running and service.last_result, what="copy")
        await wait_until(pilot, lambda: proposal.proposal is not None, what="for the proposal")
        assert proposal.proposal is not None and proposal.proposal.ready
        assert proposal.display and proposal.query_one("#proposal-accept").display
        text = shown(proposal.query_one("#proposal-text", Static))
        assert "The initial copy finished for all 5 mailboxes" in text
        assert f"Mark step {number} done?" in text
        assert ticks(app) == {"copied": True, "failures": True}  # the demo copies everything
        assert state_of(store, number) is StepState.IN_PROGRESS  # proposed, not done
        table = app.screen.query_one("#copy-table", FittedTable)
        assert_numbers_whole(table, ("mailbox", "messages", "failed"))
        assert all(str(table.get_cell(row, "state")) == "done" for row in table.rows)
        await pilot.resize_terminal(120, 36)
        await settle(pilot, 5)
        assert_numbers_whole(table, ("mailbox", "messages", "failed"))
        await pilot.resize_terminal(80, 24)
        await settle(pilot, 5)
        assert_numbers_whole(table, ("mailbox", "messages", "failed"))
        await pilot.press("f2")  # the proposal's one key
        await settle(pilot)
        assert state_of(store, number) is StepState.DONE
        assert not proposal.display
        await pilot.press("ctrl+q")


def copy_headless(store: SessionStore) -> int:
    """The initial copy as an earlier run made it (the App's service, no App); messages copied."""
    service = session_copy_service(store)
    assert service.start(RunMode.INITIAL)
    assert service.wait(180) and not service.error, service.error
    return sum(CopyLedger(store).totals(m.target_address).settled for m in store.mailboxes())


async def test_after_reopening_the_copy_steps_count_what_earlier_runs_copied(
    demo_servers: DemoServers,
) -> None:
    store = open_demo_session(demo_servers)
    copied = copy_headless(store)
    store.close()
    store = open_demo_session(demo_servers)  # the session opened again, days later
    settle_dependencies(store, Kind.COPY)
    differential = store.playbook.number_of(Kind.DIFFERENTIAL)
    app = OnboardApp(store=store, demo=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        totals = shown(app.screen.query_one("#copy-totals", Static))
        assert totals.startswith(f"5/5 mailboxes done · {copied}/{copied} messages"), totals
        status = shown(app.screen.query_one("#copy-status", Static))
        assert status.startswith("Previous run, "), status  # labelled with its time
        table = app.screen.query_one("#copy-table", FittedTable)
        assert {str(table.get_cell(row, "state")) for row in table.rows} == {"done"}
        assert_numbers_whole(table, ("mailbox", "messages", "failed"))
        # The copy ran before the app was opened: its evidence still proves and proposes.
        proposal = app.screen.query_one(DoneProposalLine).proposal
        assert proposal is not None and proposal.ready
        assert ticks(app)["copied"]

        app.goto_step(differential)
        await settle(pilot, 5)
        status = shown(app.screen.query_one("#copy-status", Static))
        assert status.startswith("Press s to start"), status  # not the initial copy's "Finished"
        totals = shown(app.screen.query_one("#copy-totals", Static))
        assert totals.startswith(f"0/5 mailboxes done · {copied} messages copied earlier"), totals
        assert state_of(store, differential) is StepState.NOT_STARTED
        await pilot.press("s")
        service = app.copy.service
        await wait_until(pilot, lambda: not service.running and service.last_result, what="copy")
        await settle(pilot, 5)
        assert state_of(store, differential) is StepState.IN_PROGRESS
        totals = shown(app.screen.query_one("#copy-totals", Static))
        assert totals.startswith(f"5/5 mailboxes done · {copied}/{copied} messages"), totals
        line = app.screen.query_one(DoneProposalLine)
        assert line.proposal is not None
        assert line.proposal.result.startswith("The differential copy finished for all 5")
        assert not line.proposal.ready  # step 13 is not done: the line says so
        assert "waiting for step" in shown(line.query_one("#proposal-text", Static))
        await pilot.press("ctrl+q")


async def test_step_4_tables_keep_their_numbers_whole_at_80x24_and_120x36(
    demo_servers: DemoServers,
) -> None:
    store = open_demo_session(demo_servers)
    number = settle_dependencies(store, Kind.CONNECTION_TEST)
    app = OnboardApp(store=store, demo=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        assert state_of(store, number) is StepState.IN_PROGRESS  # the test started
        panel: Any = app.screen.query_one("#source-test")
        await wait_until(
            pilot,
            lambda: all(s is ProbeState.OK for s in panel.states.values()),
            what="for every source mailbox to pass",
        )
        app.screen.query_one("#connection-tabs", TabbedContent).active = "target-tab"
        await settle(pilot)
        await pilot.press("c")
        target: Any = app.screen.query_one("#target-check")
        await wait_until(
            pilot,
            lambda: all(s == "exists" for s in target.states.values()),
            what="for every target mailbox to exist",
        )
        await wait_until(pilot, lambda: all(ticks(app).values()), what="for the ticks")
        for size in ((80, 24), (120, 36)):
            await pilot.resize_terminal(*size)
            await settle(pilot, 5)
            tabs = app.screen.query_one("#connection-tabs", TabbedContent)
            tabs.active = "source-tab"
            await settle(pilot, 5)
            source = app.screen.query_one("#source-table", FittedTable)
            assert_numbers_whole(source, ("mailbox", "folders", "messages", "size"))
            tabs.active = "target-tab"
            await settle(pilot, 5)
            target_table = app.screen.query_one("#target-table", FittedTable)
            assert_numbers_whole(target_table, ("mailbox", "folders", "messages", "size"))
        line = app.screen.query_one(DoneProposalLine)
        assert line.proposal is not None and line.proposal.ready, line.proposal
        assert line.proposal.result == (
            "5 of 5 source mailboxes log in and list and are measured; "
            "5 of 5 target mailboxes exist."
        )
        await pilot.press("ctrl+q")
