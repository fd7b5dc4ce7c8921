"""Step 9 on screen: bars advance and complete, and leaving the step keeps the copy running."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

import pytest
from textual.app import App, ComposeResult
from textual.widgets import DataTable, Footer, Static, Tree

from screens.steps import load_bodies
from screens.steps.base import body_for
from wizard.copy.connect import parse_endpoint, source_factory, target_factory
from wizard.copy.engine import CopySettings, MailboxJob
from wizard.copy.folder_map import PlanOptions
from wizard.copy.service import CopyService
from wizard.copy.target import ImapTarget
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
    def __init__(self, store: SessionStore, number: str, service: CopyService) -> None:
        super().__init__()
        self.store = store
        self.step = store.playbook.step(number)
        self.copy_service = service

    def compose(self) -> ComposeResult:
        load_bodies()
        yield body_for(self.step)(self.store, self.step)  # type: ignore[misc]
        yield Footer()


@pytest.fixture
def store() -> Iterator[SessionStore]:
    s = create_session("Screen Test", "screen.example", example_profile())
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


def bar(app: App[None], mailbox: str) -> str:
    return str(app.query_one("#copy-table", DataTable).get_cell(mailbox, "bar"))


async def test_bars_advance_complete_and_survive_leaving_the_step(dovecots, users, store) -> None:
    service = make_service(store, dovecots, users[0])
    mailboxes = [m.target_address for m in store.mailboxes()]
    app = StepHost(store, "9", service)
    async with app.run_test(size=(160, 50)) as pilot:
        assert "0%" in bar(app, mailboxes[0])
        await pilot.press("s")
        seen: set[str] = set()
        for _ in range(400):
            await pilot.pause(0.02)
            seen.add(bar(app, mailboxes[0]))
            if len(seen) >= 3:
                break
        assert len(seen) >= 3, f"the bar did not move: {seen}"
        assert service.running

        # Leave the step: the body goes away, the copy does not.
        body = app.query_one("CopyBody")
        await body.remove()
        await pilot.pause(0.2)
        assert service.running
        assert service.wait(60)
        assert all(service.latest[m].state.value == "done" for m in mailboxes)

        # Coming back shows the finished copy from the service.
        await app.mount(body_for(app.step)(store, app.step))  # type: ignore[misc]
        for _ in range(100):  # a loaded machine may take a moment to draw it
            await pilot.pause(0.1)
            if all("100%" in bar(app, m) for m in mailboxes):
                break
        for mailbox in mailboxes:
            assert "100%" in bar(app, mailbox)
            assert app.query_one("#copy-table", DataTable).get_cell(mailbox, "state") == "done"
        totals = str(app.query_one("#copy-totals", Static).render())
        assert "2/2 mailboxes done" in totals and "240/240 messages" in totals
    assert store.latest_evidence("9", "copy") is not None


async def test_pause_all_holds_the_copy_and_resume_finishes_it(dovecots, users, store) -> None:
    service = make_service(store, dovecots, users[0])
    mailboxes = [m.target_address for m in store.mailboxes()]
    app = StepHost(store, "9", service)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("s")
        await pilot.pause(0.3)
        await pilot.press("p")
        table = app.query_one("#copy-table", DataTable)
        for _ in range(100):  # a batch in flight finishes first
            await pilot.pause(0.1)
            if {table.get_cell(m, "state") for m in mailboxes} == {"paused"}:
                break
        assert {table.get_cell(m, "state") for m in mailboxes} == {"paused"}
        held = [service.latest[m].done for m in mailboxes]
        await pilot.pause(0.5)
        assert [service.latest[m].done for m in mailboxes] == held
        await pilot.press("p")
        assert service.wait(60)
        await pilot.pause(0.5)
        assert {table.get_cell(m, "state") for m in mailboxes} == {"done"}


async def test_verify_body_shows_the_table_and_the_webmail_link(dovecots, users, store) -> None:
    from wizard.copy.verify import verify

    service = make_service(store, dovecots, users[0])
    service.start()
    assert service.wait(60)
    verify(store, service.build_jobs(()), step="10")
    app = StepHost(store, "10", service)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause(0.2)
        link = str(app.query_one("#verify-webmail", Static).render())
        assert store.profile.owa_url in link
        tree = app.query_one("#verify-tree", Tree)
        labels = [str(node.label) for node in tree.root.children]
        assert len(labels) == 2 and all(label.startswith("✓") for label in labels)
        assert "source 120, target 120, missing 0" in labels[0]
