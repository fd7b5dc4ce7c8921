"""Step 9 in the app: bars advance and complete; leaving the step keeps the copy running; pause,
resume and cancel steer it."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

import pytest
from textual.app import App, ComposeResult
from textual.css.query import NoMatches
from textual.pilot import Pilot
from textual.widgets import DataTable, Footer, Static, Tree

from screens.app import OnboardApp
from screens.steps import load_bodies
from screens.steps.base import body_for
from tests.ui.pilot_helpers import wait_until
from wizard.copy.connect import source_factory, target_factory
from wizard.copy.engine import CopySettings, MailboxJob
from wizard.copy.folder_map import PlanOptions
from wizard.copy.service import CopyService
from wizard.copy.target import ImapTarget
from wizard.endpoint import parse_endpoint
from wizard.profile import example_profile
from wizard.session import create_session
from wizard.store import SessionStore

from .corpus import WHEN, message


class SlowTarget(ImapTarget):
    """An IMAP target that takes its time, so the test can watch the bars move."""

    def append(self, folder, messages):  # type: ignore[no-untyped-def]
        time.sleep(0.1)  # 30 batches a mailbox: seconds, even on a fast machine
        return super().append(folder, messages)


class StepHost(App[None]):
    """Shows one step body alone (one that needs none of the App's long work)."""

    def __init__(self, store: SessionStore, number: str) -> None:
        super().__init__()
        self.store = store
        self.step = store.playbook.step(number)

    def compose(self) -> ComposeResult:
        load_bodies()
        yield body_for(self.step)(self.store, self.step)  # type: ignore[misc]
        yield Footer()


@pytest.fixture
def store() -> Iterator[SessionStore]:
    s = create_session("Screen Test", "screen.example", example_profile())
    s.set_current_step("9")
    yield s
    s.close()


def make_service(store: SessionStore, dovecots, tag: str) -> CopyService:  # type: ignore[no-untyped-def]
    src, dst = dovecots
    pairs = [(f"s{i}{tag}", f"d{i}{tag}") for i in range(2)]
    store.add_mailboxes([(s, f"{d}@screen.example", "") for s, d in pairs])
    for s, _d in pairs:
        client = src.client(s)
        for start in range(0, 120, 30):
            client.multiappend(
                "INBOX",
                [{"msg": message(n, size=2000), "date": WHEN} for n in range(start, start + 30)],
            )
    dst_endpoints = {f"{d}@screen.example": parse_endpoint(dst.url(d)) for _s, d in pairs}
    src_endpoints = {f"{d}@screen.example": parse_endpoint(src.url(s)) for s, d in pairs}

    def build(wanted: Sequence[str]) -> list[MailboxJob]:
        jobs = []
        for address, endpoint in dst_endpoints.items():
            plain = target_factory(endpoint, dst.password)
            jobs.append(
                MailboxJob(
                    mailbox=address,
                    source=source_factory(src_endpoints[address], src.password),
                    target=lambda sink, plain=plain: SlowTarget(plain(sink).client, "dst"),
                    options=PlanOptions(),
                )
            )
        return jobs

    settings = CopySettings(batch_messages=4, progress_interval=0.05, concurrency=2)
    return CopyService(store, build, settings=settings)


def copy_app(store: SessionStore, service: CopyService) -> OnboardApp:
    """The real app on step 9, its copy service the slow one above."""
    return OnboardApp(store=store, copy_service=lambda _store: service)


def table(app: App[object]) -> DataTable[str]:
    return app.screen.query_one("#copy-table", DataTable)


def bar(app: App[object], mailbox: str) -> str:
    return str(table(app).get_cell(mailbox, "bar"))


def states(app: App[object], mailboxes: list[str]) -> set[str]:
    return {table(app).get_cell(m, "state") for m in mailboxes}


async def start_copy(pilot: Pilot[object]) -> None:
    table(pilot.app).focus()  # as after tabbing from the step list to the table
    await pilot.press("s")


async def test_bars_advance_complete_and_survive_leaving_the_step(dovecots, users, store) -> None:
    service = make_service(store, dovecots, users[0])
    mailboxes = [m.target_address for m in store.mailboxes()]
    app = copy_app(store, service)
    async with app.run_test(size=(160, 50)) as pilot:
        assert "0%" in bar(app, mailboxes[0])
        await start_copy(pilot)
        seen: set[str] = set()
        for _ in range(400):
            await pilot.pause(0.02)
            seen.add(bar(app, mailboxes[0]))
            if len(seen) >= 3:
                break
        assert len(seen) >= 3, f"the bar did not move: {seen}"
        assert service.running

        # Leave the step: its screen goes away, the copy (a worker of the App) does not.
        app.goto_step("10")
        await pilot.pause(0.2)
        assert not app.screen.query("CopyBody")
        assert service.running
        await wait_until(pilot, lambda: not service.running, what="for the copy to finish")
        assert all(service.latest[m].state.value == "done" for m in mailboxes)

        # Coming back shows the finished copy.
        app.goto_step("9")

        def shows_finished() -> bool:
            try:
                return all("100%" in bar(app, m) for m in mailboxes)
            except NoMatches:  # step 9's screen is still on its way in
                return False

        await wait_until(pilot, shows_finished, what="to show the finished copy")
        for mailbox in mailboxes:
            assert table(app).get_cell(mailbox, "state") == "done"
        totals = str(app.screen.query_one("#copy-totals", Static).render())
        assert "2/2 mailboxes done" in totals and "240/240 messages" in totals
        # The copy's evidence is written as its run ends, a moment after the last progress.
        await wait_until(pilot, lambda: store.latest_evidence("9", "copy") is not None)


async def test_pause_all_holds_the_copy_and_resume_finishes_it(dovecots, users, store) -> None:
    service = make_service(store, dovecots, users[0])
    mailboxes = [m.target_address for m in store.mailboxes()]
    app = copy_app(store, service)
    async with app.run_test(size=(160, 50)) as pilot:
        await start_copy(pilot)
        await pilot.pause(0.3)
        await pilot.press("p")
        # A batch in flight finishes first.
        await wait_until(
            pilot, lambda: states(app, mailboxes) == {"paused"}, what="to show both paused"
        )
        held = [service.latest[m].done for m in mailboxes]
        await pilot.pause(0.5)
        assert [service.latest[m].done for m in mailboxes] == held
        await pilot.press("p")
        await wait_until(pilot, lambda: not service.running, what="for the copy to finish")
        await wait_until(pilot, lambda: states(app, mailboxes) == {"done"}, what="to show done")


async def test_cancel_all_stops_the_copy_and_a_new_start_goes_on(dovecots, users, store) -> None:
    service = make_service(store, dovecots, users[0])
    mailboxes = [m.target_address for m in store.mailboxes()]
    app = copy_app(store, service)
    async with app.run_test(size=(160, 50)) as pilot:
        await start_copy(pilot)
        first = mailboxes[0]
        await wait_until(
            pilot,
            lambda: first in service.latest and service.latest[first].done > 0,
            what="for the copy to get going",
        )
        await pilot.press("x")
        await wait_until(pilot, lambda: not service.running, what="for the copy to stop")
        await wait_until(
            pilot, lambda: states(app, mailboxes) == {"cancelled"}, what="to show both cancelled"
        )
        copied = sum(service.ledger.totals(m).copied for m in mailboxes)
        assert 0 < copied < 240

        await pilot.press("s")  # started again, it goes on where it stopped
        await wait_until(pilot, lambda: not service.running, what="for the copy to finish")
        assert sum(service.ledger.totals(m).copied for m in mailboxes) == 240
        await wait_until(pilot, lambda: states(app, mailboxes) == {"done"}, what="to show done")


async def test_verify_body_shows_the_table_and_the_webmail_link(dovecots, users, store) -> None:
    from wizard.copy.verify import verify

    service = make_service(store, dovecots, users[0])
    service.start()
    assert service.wait(60)
    verify(store, service.build_jobs(()), step="10")
    app = StepHost(store, "10")
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause(0.2)
        link = str(app.query_one("#verify-webmail", Static).render())
        assert store.profile.owa_url in link
        tree = app.query_one("#verify-tree", Tree)
        labels = [str(node.label) for node in tree.root.children]
        assert len(labels) == 2 and all(label.startswith("✓") for label in labels)
        assert "source 120, target 120, missing 0" in labels[0]
