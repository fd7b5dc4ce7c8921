"""Step 4's target tab finds the EWS URL by Autodiscover through the session's DNS resolvers (Knot)
and the HTTPS stand-in, shows every candidate tried, and saves the URL; a refused login is shown
with the candidate that refused it and changes nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from textual.widgets import DataTable, Input, Select, Static, TabbedContent

from screens.app import OnboardApp
from tests.servers import ews
from tests.servers.knot import KnotServer
from tests.ui.pilot_helpers import settle, shown, type_text, wait_until
from wizard.activity import log_path, read_log_file
from wizard.devservers.ews import EwsSandbox
from wizard.dns import save_resolvers
from wizard.exchange import Access, load_settings
from wizard.profile import example_profile
from wizard.secrets import SecretStore, target_password_key
from wizard.session import create_session
from wizard.store import SessionStore

from .conftest import AUTODISCOVER_DOMAIN

SIZE = (160, 60)


@pytest.fixture
def store() -> Iterator[SessionStore]:
    s = create_session("Acme Corp", AUTODISCOVER_DOMAIN, example_profile())
    s.set_current_step("4")
    s.add_mailboxes([("anna", ews.USER, "Anna Beispiel")])
    yield s
    if not s.closed:
        s.close()


async def test_autodiscover_finds_and_saves_the_ews_url(
    store: SessionStore, autodiscover_world: tuple[EwsSandbox, KnotServer]
) -> None:
    sandbox, knot = autodiscover_world
    save_resolvers(store, [knot.address])
    srv = f"https://autodiscover.{AUTODISCOVER_DOMAIN}:{sandbox.port}/autodiscover/autodiscover.xml"
    app = OnboardApp(store=store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        screen.query_one(TabbedContent).active = "target-tab"
        await settle(pilot)
        url = screen.query_one("#ews-url", Input)
        status = screen.query_one("#target-status", Static)
        result = screen.query_one("#target-autodiscover-result", Static)
        assert url.value != sandbox.url  # the profile's example URL
        screen.query_one("#ews-access", Select).value = Access.DELEGATE.value
        screen.query_one("#ews-auth", Select).value = "basic"
        screen.query_one("#ews-pin", Input).value = sandbox.fingerprint or ""

        # A wrong password: the candidate that refused it is named, nothing is saved.
        screen.query_one("#ews-password", Input).focus()
        await type_text(pilot, "wrong")
        screen.query_one("#target-table", DataTable).focus()
        await pilot.press("a")  # the highlighted row's address
        await wait_until(pilot, lambda: "rejected" in shown(status))
        assert srv in shown(status)
        assert load_settings(store) is None
        assert f"✖ {srv}: rejected the login of {ews.USER}" in shown(result)

        # The right one, for an address typed in the field: the URL is filled in and saved.
        screen.query_one("#ews-password", Input).value = ews.PASSWORD
        screen.query_one("#ews-autodiscover-address", Input).focus()
        await type_text(pilot, ews.USER)
        await pilot.press("enter")
        await wait_until(pilot, lambda: "Autodiscover found" in shown(status))
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert url.value == sandbox.url
        lines = shown(result).splitlines()
        assert lines[0] == "Candidates tried:"
        assert lines[1].startswith(f"✖ https://{AUTODISCOVER_DOMAIN}/autodiscover/")
        assert lines[2].startswith(f"✖ https://autodiscover.{AUTODISCOVER_DOMAIN}/autodiscover/")
        assert lines[3] == f"✔ {srv}: EWS URL {sandbox.url}"
        saved = load_settings(store)
        assert saved is not None and saved.ews_url == sandbox.url
        assert saved.autodiscover_address == ews.USER and saved.pin == sandbox.fingerprint
        assert saved.access is Access.DELEGATE
        assert SecretStore(store.name).get(target_password_key(ews.USER)) == ews.PASSWORD

    logged = [r for r in read_log_file(log_path(store)) if r.event == "autodiscover"]
    assert [r.level for r in logged] == ["warning", "info"]
    assert logged[-1].message == f"Autodiscover for {ews.USER}: {sandbox.url}"
    assert ews.PASSWORD not in log_path(store).read_text(encoding="utf-8")
