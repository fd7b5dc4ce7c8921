"""Step 4's target tab in the real app: rows turn exists / missing / error, re-check, export."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from textual.widgets import DataTable, Input, Static, TabbedContent

from screens.app import OnboardApp
from screens.step_screen import StepScreen
from tests.servers import ews
from tests.ui.pilot_helpers import settle, shown, type_text, wait_until
from wizard.devservers.ews import EwsSandbox
from wizard.exchange import load_settings
from wizard.exchange.settings import save_settings
from wizard.profile import example_profile
from wizard.secrets import SecretStore
from wizard.session import create_session, exports_dir
from wizard.store import SessionStore

from .conftest import service_settings

SIZE = (160, 55)


@pytest.fixture
def store() -> Iterator[SessionStore]:
    s = create_session("Acme Corp", "acme.example", example_profile())
    s.set_current_step("4")
    s.add_mailboxes([("anna", ews.USER, "Anna Beispiel"), ("bob", "bob@example.test", "Bob Neu")])
    yield s
    if not s.closed:
        s.close()


def cell(table: DataTable, row: str, column: str) -> str:
    return str(table.get_cell(row, column))


async def test_target_table_checks_rechecks_and_exports(
    store: SessionStore, ews_sandbox: EwsSandbox
) -> None:
    settings = service_settings(ews_sandbox)
    save_settings(store, settings)
    app = OnboardApp(store=store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, StepScreen) and screen.step.number == "4"
        screen.query_one(TabbedContent).active = "target-tab"
        await settle(pilot)
        table = screen.query_one("#target-table", DataTable)
        assert cell(table, ews.USER, "state") == "not checked"
        assert screen.query_one("#ews-url", Input).value == ews_sandbox.url

        # The service account's password typed once goes to the keyring, not the session.
        screen.query_one("#ews-password", Input).focus()
        await type_text(pilot, ews.SERVICE_PASSWORD)
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await wait_until(pilot, lambda: cell(table, "bob@example.test", "state") != "checking…")
        await settle(pilot)
        assert cell(table, ews.USER, "state") == "exists"
        assert cell(table, ews.USER, "folders") == "7"
        assert cell(table, ews.USER, "size") == "0 B"
        assert cell(table, "bob@example.test", "state") == "missing"
        assert "There is no mailbox bob@example.test" in cell(table, "bob@example.test", "detail")
        assert "1 exist, 1 missing" in shown(screen.query_one("#target-totals", Static))
        evidence = store.latest_evidence("4", "exchange-mailboxes")
        assert evidence is not None and evidence.ok is False
        key = load_settings(store).password_key(ews.USER)  # type: ignore[union-attr]
        assert SecretStore(store.name).get(key) == ews.SERVICE_PASSWORD
        assert ews.SERVICE_PASSWORD not in store.path.read_bytes().decode("latin-1")
        assert "do not exist" in screen.query_one("#connection-tabs").parent.done_refusal()  # type: ignore[union-attr]

        # Export the provisioning list with the key shown in the footer.
        table.focus()
        await pilot.press("e")
        await settle(pilot)
        script = exports_dir() / "acme-corp-mailboxes-to-create.ps1"
        assert script.exists()
        assert "bob@example.test" in script.read_text(encoding="utf-8-sig")
        assert ews.USER not in script.read_text(encoding="utf-8-sig")
        assert "written to" in shown(screen.query_one("#target-status", Static))

        # The provider creates the mailbox; re-checking that row turns it to "exists".
        ews_sandbox.add_mailbox("bob@example.test")
        table.move_cursor(row=table.get_row_index("bob@example.test"))
        await pilot.press("k")
        await app.workers.wait_for_complete()
        await wait_until(pilot, lambda: cell(table, "bob@example.test", "state") == "exists")
        await settle(pilot)
        assert "2 exist, 0 missing" in shown(screen.query_one("#target-totals", Static))
        assert screen.query_one("#connection-tabs").parent.done_refusal().count("target") == 0  # type: ignore[union-attr]


async def test_a_dead_server_shows_error_rows(store: SessionStore, ews_sandbox: EwsSandbox) -> None:
    settings = service_settings(ews_sandbox)
    save_settings(store, settings)
    SecretStore(store.name).set(settings.password_key(ews.USER), ews.SERVICE_PASSWORD)
    ews_sandbox.stop()
    app = OnboardApp(store=store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        screen.query_one(TabbedContent).active = "target-tab"
        await settle(pilot)
        await pilot.click("#target-check-all")
        await app.workers.wait_for_complete()
        table = screen.query_one("#target-table", DataTable)
        await wait_until(pilot, lambda: cell(table, ews.USER, "state") == "error")
        assert "refused the connection" in cell(table, ews.USER, "detail")


async def test_fetch_certificate_fills_the_pin_and_the_pin_is_used(
    store: SessionStore, ews_sandbox_factory
) -> None:
    sandbox = ews_sandbox_factory(tls=True)
    from wizard.exchange import Access, AuthType, ExchangeSettings

    save_settings(store, ExchangeSettings(sandbox.url, auth=AuthType.BASIC, access=Access.DELEGATE))
    SecretStore(store.name).set(load_settings(store).password_key(ews.USER), ews.PASSWORD)  # type: ignore[union-attr]
    app = OnboardApp(store=store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        screen.query_one(TabbedContent).active = "target-tab"
        await settle(pilot)
        await pilot.click("#target-fetch-cert")
        await app.workers.wait_for_complete()
        await settle(pilot)
        status = shown(screen.query_one("#target-status", Static))
        assert "no public authority vouches for" in status
        assert screen.query_one("#ews-pin", Input).value == sandbox.fingerprint

        await pilot.click("#target-check-all")
        await app.workers.wait_for_complete()
        table = screen.query_one("#target-table", DataTable)
        await wait_until(pilot, lambda: cell(table, ews.USER, "state") == "exists")
        assert load_settings(store).pin == sandbox.fingerprint  # type: ignore[union-attr]
