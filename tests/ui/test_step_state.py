"""In the app: typing into a step's form makes it "doing"; the local-data step's confirmations
and the sign-off tick their own checklist items, and the step then proposes done (F2)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from textual.widgets import Input, Static

from screens.app import OnboardApp
from screens.widgets.checklist import ChecklistBox
from screens.widgets.done_proposal import DoneProposalLine
from screens.widgets.tick_box import TickBox
from tests.ui.pilot_helpers import settle, shown, type_text
from wizard.playbook import Kind
from wizard.profile import example_profile
from wizard.session import create_session
from wizard.store import SessionStore, StepState


@pytest.fixture
def store() -> Iterator[SessionStore]:
    store = create_session("Acme Corp", "acme.example", example_profile())
    store.add_mailboxes([("anna", "anna@acme.example", "Anna"), ("bert", "bert@acme.example", "")])
    yield store
    store.close()


def open_at(store: SessionStore, kind: Kind, *, settle_dependencies: bool = True) -> str:
    number = store.playbook.number_of(kind)
    if settle_dependencies:
        for dep in store.playbook.step(number).depends:
            store.set_step_state(dep, StepState.DONE)
    store.set_current_step(number)
    return number


def ticks(app: OnboardApp) -> dict[str, bool]:
    return {box.item_id: box.value for box in app.screen.query(ChecklistBox)}


async def test_typing_into_a_steps_form_makes_it_doing(store: SessionStore) -> None:
    number = open_at(store, Kind.TERMS)
    async with OnboardApp(store=store).run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert store.step_record(number).state is StepState.NOT_STARTED  # opening is no work
        await type_text(pilot, "Tom")  # the step opens in its first field
        await settle(pilot)
        assert store.step_record(number).state is StepState.IN_PROGRESS
        assert "in progress" in shown(pilot.app.screen.query_one("#step-state", Static))


async def test_local_data_confirmations_tick_users_confirmed(store: SessionStore) -> None:
    number = open_at(store, Kind.LOCAL_DATA)
    app = OnboardApp(store=store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        boxes = [b for b in app.screen.query(TickBox) if (b.id or "").startswith("local-")]
        assert len(boxes) == 2
        for box in boxes:
            box.focus()
            await pilot.press("space")
            await settle(pilot)
        assert ticks(app) == {"told": False, "done": True}
        line = app.screen.query_one(DoneProposalLine)
        assert line.proposal is not None and not line.proposal.ready
        text = shown(line.query_one("#proposal-text", Static))
        assert (
            "2 of 2 mailboxes confirmed their data is moved." in text
            and "still to tick: Users told" in text
        )
        app.screen.query_one("#check-told", ChecklistBox).focus()
        await pilot.press("space")
        await settle(pilot)
        assert line.proposal is not None and line.proposal.ready
        await pilot.press("f2")
        await settle(pilot)
        assert store.step_record(number).state is StepState.DONE


async def test_the_signoff_ticks_agreed_and_open_items(store: SessionStore) -> None:
    number = open_at(store, Kind.SIGNOFF)
    app = OnboardApp(store=store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert ticks(app) == {"open-items": False, "agreed": False, "report": False}
        app.screen.query_one("#provider-name", Input).value = "Pia Provider"
        app.screen.query_one("#customer-name", Input).value = "Carla Kunde"
        app.screen.query_one("#complete", TickBox).value = True
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert ticks(app) == {"open-items": True, "agreed": True, "report": False}
        assert store.step_record(number).state is StepState.IN_PROGRESS  # the sign-off is work
        line = app.screen.query_one(DoneProposalLine)
        assert line.proposal is not None and not line.proposal.ready  # the report is not sent
        assert line.proposal.missing == ("Completion report sent to the customer",)
