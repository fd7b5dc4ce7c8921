"""`onboard --demo`: the servers start before the app and stop after it (also when it crashes),
the demo session opens in the app with the demo banner, and step 3 shows the demo mailboxes."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
from textual.widgets import DataTable, Input

from screens.app import OnboardApp
from screens.widgets.demo_banner import DemoBanner
from tests.ui.pilot_helpers import settle, shown
from wizard import cli
from wizard.demo import DEMO_SESSION_NAME
from wizard.imap import connect, load_settings
from wizard.imap.connection import close
from wizard.secrets import SecretStore, source_password_key
from wizard.session import list_sessions
from wizard.store import SessionStore


def refused(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_servers_run_while_the_app_runs_and_stop_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: dict[str, Any] = {}

    def app(*, store: SessionStore, demo: bool, **_: Any) -> int:
        seen["demo"] = demo
        seen["name"] = store.name
        settings = load_settings(store)
        seen["port"] = settings.port
        login = store.mailboxes()[0].source_login
        client = connect(settings, login, SecretStore(store.name).get(source_password_key(login)))
        close(client)  # the demo IMAP server answers while the app runs
        return 0

    monkeypatch.setattr(cli, "_run_app", app)
    assert cli.main(["--demo"]) == 0
    assert seen["demo"] is True and seen["name"] == DEMO_SESSION_NAME
    assert refused(seen["port"])  # stopped with the app
    assert [s.name for s in list_sessions() if s.demo] == [DEMO_SESSION_NAME]
    # A second run resumes the same demo session instead of making another.
    assert cli.main(["--demo"]) == 0
    assert [s.name for s in list_sessions() if s.demo] == [DEMO_SESSION_NAME]


def test_servers_stop_when_the_app_crashes(monkeypatch: pytest.MonkeyPatch) -> None:
    ports: list[int] = []

    def app(*, store: SessionStore, **_: Any) -> int:
        ports.append(load_settings(store).port)
        raise RuntimeError("the app fell over")

    monkeypatch.setattr(cli, "_run_app", app)
    with pytest.raises(RuntimeError, match="fell over"):
        cli.main(["--demo"])
    assert ports and refused(ports[0])


def test_the_demo_opens_in_the_app_with_banner_and_mailboxes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: dict[str, Any] = {}

    async def drive(app: OnboardApp) -> None:
        async with app.run_test(size=(160, 60)) as pilot:
            await settle(pilot)
            banner = app.screen.query_one(DemoBanner)
            seen["banner"] = shown(banner)
            app.goto_step("3")
            await settle(pilot, 5)
            table = app.screen.query_one("#mailbox-table", DataTable)
            seen["rows"] = [
                " ".join(str(cell) for cell in table.get_row_at(i)) for i in range(table.row_count)
            ]
            seen["host"] = app.screen.query_one("#imap-host", Input).value
            seen["step3_banner"] = bool(app.screen.query(DemoBanner))
            await pilot.press("ctrl+q")

    def headless(**kwargs: Any) -> int:
        app = OnboardApp(**kwargs)
        asyncio.run(drive(app))
        return 0

    monkeypatch.setattr(cli, "_run_app", headless)
    assert cli.main(["--demo"]) == 0
    assert "DEMO" in seen["banner"] and "127.0.0.1" in seen["banner"]
    assert seen["step3_banner"]
    assert len(seen["rows"]) == 5
    assert any("anna.bergstrom" in row for row in seen["rows"])
    assert any("Jürgen Weiß" in row for row in seen["rows"])
    assert seen["host"] == "127.0.0.1"
