"""In the real app: a copy started in step 9 keeps running while the operator is on other steps,
and quitting during the copy asks first."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from textual.widgets import DataTable

from screens.app import OnboardApp
from screens.copy_service import session_job_builder
from screens.dialogs.confirm import ConfirmDialog
from tests.ui.pilot_helpers import wait_until
from wizard.copy.events import MailboxProgress, MailboxState
from wizard.copy.service import CopyService
from wizard.copy.session_jobs import SOURCE_SETTING, TARGET_SETTING
from wizard.events import Event, EventSink, ignore
from wizard.profile import example_profile
from wizard.secrets import SecretStore, source_password_key, target_password_key
from wizard.session import create_session
from wizard.store import SessionStore

from .corpus import WHEN, bodies, message


@pytest.fixture
def session(dovecots, users):  # type: ignore[no-untyped-def]
    src, dst = dovecots
    store = create_session("App Copy", "appcopy.example", example_profile())
    address = f"{users[1]}@appcopy.example"
    store.add_mailboxes([(users[0], address, "")])
    store.set_setting(SOURCE_SETTING, {"host": src.host, "port": src.port, "security": "none"})
    store.set_setting(TARGET_SETTING, {"url": f"imap://{dst.host}:{dst.port}?tls=none"})
    secrets = SecretStore(store.name)
    secrets.set(source_password_key(users[0]), src.password)
    secrets.set(target_password_key(address), dst.password)
    dst.ensure_user(address)
    client = src.client(users[0])
    for start in range(0, 600, 50):
        client.multiappend(
            "INBOX",
            [{"msg": message(n, size=50_000), "date": WHEN} for n in range(start, start + 50)],
        )
    store.set_current_step("9")
    yield store, address


class HeldCopy(CopyService):
    """The session's copy service, held after its first batch until the test releases it."""

    def __init__(self, store: SessionStore) -> None:
        super().__init__(store, session_job_builder(store))
        self.held = threading.Event()
        self.release = threading.Event()

    def start(self, *args: Any, sink: EventSink = ignore, **kwargs: Any) -> bool:
        def hold_after_first_batch(event: Event) -> None:
            # Runs on the copy thread: keeps the copy mid-way, however fast this machine is,
            # until the test has pressed pause. The copy itself is untouched.
            if isinstance(event, MailboxProgress) and event.done > 0 and not self.release.is_set():
                self.held.set()
                self.release.wait(60)
            sink(event)

        return super().start(*args, sink=hold_after_first_batch, **kwargs)


async def test_copy_goes_on_while_on_other_steps_and_quit_asks(dovecots, users, session) -> None:
    store, address = session
    src, dst = dovecots
    app = OnboardApp(store=store, copy_service=HeldCopy)

    async with app.run_test(size=(160, 50)) as pilot:
        await wait_until(pilot, lambda: app.copy.service is not None, what="for the copy service")
        service = app.copy.service
        assert isinstance(service, HeldCopy)
        held, release = service.held, service.release
        await wait_until(
            pilot, lambda: bool(app.screen.query("#copy-table")), what="for the copy table"
        )
        app.screen.query_one("#copy-table", DataTable).focus()  # as after tabbing to the table
        await pilot.press("s")
        await wait_until(pilot, held.is_set, what="for the copy to get going")
        await pilot.press("p")  # hold it paused while we look around
        release.set()
        await wait_until(
            pilot,
            lambda: service.latest[address].state is MailboxState.PAUSED,
            what="for the mailbox to show paused",
        )
        assert service.running, (service.error, service.latest)
        app.goto_step("10")
        await wait_until(
            pilot, lambda: not app.screen.query("#copy-table"), what="for step 10's screen"
        )
        assert service.running  # the copy did not stop with the step screen
        await pilot.press("ctrl+q")
        await wait_until(
            pilot,
            lambda: isinstance(app.screen, ConfirmDialog),
            what="quitting during a copy to ask first",
        )
        assert "copy is running" in app.screen.title_text
        await pilot.press("n")
        await wait_until(
            pilot, lambda: not isinstance(app.screen, ConfirmDialog), what="the question to close"
        )
        assert app.is_running and service.running
        app.goto_step("9")
        await wait_until(pilot, lambda: bool(app.screen.query("#copy-table")), what="step 9")
        table = app.screen.query_one("#copy-table", DataTable)
        await wait_until(
            pilot,
            lambda: table.get_cell(address, "state") == "paused",
            what="the mailbox to show paused on step 9 again",
        )
        table.focus()
        await pilot.press("p")  # resume all
        assert service.wait(120)
        await wait_until(
            pilot, lambda: table.get_cell(address, "state") == "done", what="the mailbox done"
        )
        assert "100%" in str(table.get_cell(address, "bar"))
    assert bodies(dst.client(address), "INBOX") == bodies(src.client(users[0]), "INBOX")
