"""Issue 8 end to end: a fresh session walked through every playbook entry in the real app,
against a real Dovecot source and the EWS stand-in as the provider's Exchange."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

from textual.pilot import Pilot
from textual.widgets import DataTable

from screens.app import OnboardApp
from screens.dialogs import ConfirmDialog, ReasonDialog
from screens.step_screen import StepScreen
from tests.servers import ews
from tests.servers.dovecot import DovecotServer, make_message
from tests.ui.pilot_helpers import settle, type_text
from wizard.exchange.settings import Access, AuthType, ExchangeSettings, save_settings
from wizard.imap.settings import ImapServerSettings, Security
from wizard.imap.settings import save_settings as save_imap_settings
from wizard.profile import example_profile
from wizard.sandbox import EwsSandbox
from wizard.secrets import SecretStore, source_password_key, target_password_key
from wizard.session import create_session
from wizard.store import StepState

SIZE = (160, 55)


async def wait_until(pilot: Pilot, condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the screen"
        await pilot.pause(0.05)


async def mark_done(app: OnboardApp, pilot: Pilot, number: str) -> None:
    """F2 on the step's screen; an early "done" asks for a reason, given as an operator would."""
    app.goto_step(number)
    await settle(pilot)
    await pilot.press("f2")
    await settle(pilot)
    if isinstance(app.screen, ReasonDialog):
        await type_text(pilot, "end to end walk")
        await pilot.press("enter")
        await settle(pilot)
    if isinstance(app.screen, ConfirmDialog):
        await pilot.press("y")
        await settle(pilot)
    assert isinstance(app.screen, StepScreen)
    assert app.store is not None
    assert app.store.step_record(number).state is StepState.DONE, number


async def test_fresh_session_walks_every_step(
    dovecot: DovecotServer, ews_sandbox: EwsSandbox
) -> None:
    source = dovecot.add_user()
    dovecot.seed(source.login, "INBOX", [make_message(n) for n in range(3)])
    profile = dataclasses.replace(example_profile(), ews_url=ews_sandbox.url)
    store = create_session("E2E Corp", "e2e.example", profile)
    save_imap_settings(
        store, ImapServerSettings(host="127.0.0.1", port=dovecot.imap_port, security=Security.PLAIN)
    )
    save_settings(
        store, ExchangeSettings(ews_sandbox.url, auth=AuthType.BASIC, access=Access.DELEGATE)
    )
    store.add_mailboxes([(source.login, ews.USER, "Anna Beispiel")])
    secrets = SecretStore(store.name)
    secrets.set(source_password_key(source.login), source.password)
    secrets.set(target_password_key(ews.USER), ews.PASSWORD)
    steps = [s.number for s in store.playbook.steps]
    assert len(steps) == 20

    app = OnboardApp(store=store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # Step 9: the initial copy, started with "s" on the copy table.
        app.goto_step("9")
        await settle(pilot)
        table = app.screen.query_one("#copy-table", DataTable)
        table.focus()
        await pilot.press("s")
        await wait_until(pilot, lambda: str(table.get_cell(ews.USER, "state")) == "done")
        assert "100%" in str(table.get_cell(ews.USER, "bar"))
        for number in steps:
            await mark_done(app, pilot, number)
        await pilot.press("ctrl+q")
        await settle(pilot)
