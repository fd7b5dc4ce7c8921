"""`onboard --demo`: the servers start before the app and stop after it (also when it crashes),
the demo session opens in the app with the demo banner, and step 3 shows the demo mailboxes."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
import time
from typing import Any

import pytest
from textual.widgets import DataTable, Input

from screens.app import OnboardApp
from screens.dialogs import ConfirmDialog
from screens.widgets.demo_banner import DemoBanner
from tests.ui.pilot_helpers import settle, shown
from wizard import cli
from wizard.devservers.demo import (
    DEMO_SESSION_NAME,
    DemoCompany,
    DemoServers,
    PropagationPlan,
    begin_dns_change,
    open_demo_session,
)
from wizard.devservers.demo.run import demo_state_dir
from wizard.exchange.mailbox import check_mailbox
from wizard.exchange.settings import load_settings as exchange_settings
from wizard.imap import connect, load_settings
from wizard.imap.connection import close
from wizard.profile import example_profile
from wizard.secrets import SecretStore, source_password_key
from wizard.session import create_session, list_sessions, session_path
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


async def test_step_12_matrix_fills_in_while_you_watch(demo_company: DemoCompany, tmp_path) -> None:
    plan = PropagationPlan().scaled(0.06)  # the resolvers switch between 0.5 s and 5.4 s
    with DemoServers(demo_company, state_dir=tmp_path / "demo", plan=plan) as servers:
        store = open_demo_session(servers)
        store.set_setting("dns.poll_seconds", 0.2)
        store.set_current_step("12")
        begin_dns_change(store, servers)  # as the watcher does once step 12 is reached
        app = OnboardApp(store=store, demo=True)
        counts: list[int] = []
        async with app.run_test(size=(170, 60)) as pilot:
            table = app.screen.query_one("#prop-matrix", DataTable)
            deadline = time.monotonic() + 20
            while not counts or counts[-1] < 5:
                assert time.monotonic() < deadline, f"the matrix never filled in: {counts}"
                await pilot.pause(0.1)
                rows = [
                    " ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)
                ]
                if rows:
                    counts.append(sum("agrees" in row for row in rows))
            summary = shown(app.screen.query_one("#prop-summary"))
            await pilot.press("ctrl+q")
    assert "1 of 1 authoritative and 4 of 4 resolvers" in summary and "— complete" in summary
    assert counts == sorted(counts)  # servers only ever join
    assert any(1 < n < 5 for n in counts)  # some resolvers had it before others


async def test_start_screen_marks_the_demo_and_deletes_it_in_one_action(
    demo_servers: DemoServers,
) -> None:
    open_demo_session(demo_servers).close()
    create_session("Acme Corp", "acme.example", example_profile()).close()
    first = demo_servers.company.mailboxes[0]
    app = OnboardApp()
    async with app.run_test(size=(170, 50)) as pilot:
        table = app.screen.query_one("#sessions", DataTable)
        rows = {
            str(table.get_row_at(i)[0]): " ".join(str(c) for c in table.get_row_at(i))
            for i in range(table.row_count)
        }
        assert rows[DEMO_SESSION_NAME].endswith("demo")
        assert not rows["acme-corp"].endswith("demo")
        table.focus()
        table.move_cursor(row=list(rows).index(DEMO_SESSION_NAME))
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        assert DEMO_SESSION_NAME in app.screen.title_text
        await pilot.press("y")
        await settle(pilot)
        assert app.screen.query_one("#sessions", DataTable).row_count == 1
    assert not session_path(DEMO_SESSION_NAME).exists()
    assert SecretStore(DEMO_SESSION_NAME).get(source_password_key(first.login)) is None


def test_a_demo_open_in_another_onboard_is_refused(
    demo_servers: DemoServers, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    held = open_demo_session(demo_servers)  # another `onboard --demo` has it open
    monkeypatch.setattr(cli, "_run_app", lambda **_: pytest.fail("the app must not start"))
    try:
        assert cli.main(["--demo"]) == 4
    finally:
        held.close()
    assert "is open in another" in capsys.readouterr().err


def test_a_new_demo_session_starts_with_an_empty_demo_exchange(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    leftover = demo_state_dir() / "ews"
    leftover.mkdir(parents=True)
    (leftover / "mailboxes.json").write_text("what an earlier, deleted demo left", "utf-8")
    counts: list[int] = []

    def app(*, store: SessionStore, **_: Any) -> int:
        settings = exchange_settings(store)
        address = store.mailboxes()[0].target_address
        password = SecretStore(store.name).get(settings.password_key(address))
        found = check_mailbox(settings, address, password)
        counts.append(sum(f.total for f in found.folders))
        return 0

    monkeypatch.setattr(cli, "_run_app", app)
    assert cli.main(["--demo"]) == 0
    assert counts == [0]


def test_sigterm_stops_the_demo_cleanly_and_keeps_the_demo_exchange() -> None:
    script = (
        "import sys, time\n"
        "from wizard.devservers.demo.run import run_demo\n"
        "def app(**_):\n"
        "    print('app running', flush=True)\n"
        "    time.sleep(60)\n"
        "    return 0\n"
        "sys.exit(run_demo(app))\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "app running"
        child.send_signal(signal.SIGTERM)
        _out, err = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 128 + signal.SIGTERM
    assert "Demo servers stopped." in err and "Traceback" not in err
    assert (demo_state_dir() / "ews" / "mailboxes.json").exists()


def test_demo_takes_no_session_or_profile_of_its_own(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "_run_app", lambda **_: pytest.fail("the app must not start"))
    assert cli.main(["--demo", "--resume", "acme"]) == 2
    assert "leave out --resume/--profile" in capsys.readouterr().err


def test_resuming_the_demo_without_demo_brings_its_servers(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The demo session's servers exist only with --demo: resumed by name it gets them too."""
    from wizard.devservers.demo import run as demo_run
    from wizard.profile import example_profile
    from wizard.session import create_session

    create_session(
        "Demo Company", "demo.example", example_profile(), demo=True, name="demo-x"
    ).close()
    started: list[str] = []
    monkeypatch.setattr(demo_run, "run_demo", lambda run_app, name: started.append(name) or 0)
    monkeypatch.setattr(cli, "_run_app", lambda **_: pytest.fail("not without the demo servers"))
    assert cli.main(["resume", "demo-x"]) == 0
    assert cli.main(["--resume", "demo-x"]) == 0
    assert started == ["demo-x", "demo-x"]
    assert "starting its demo servers" in capsys.readouterr().err


async def test_the_demo_opened_without_its_servers_says_so_on_screen() -> None:
    from screens.app import OnboardApp
    from screens.widgets.demo_banner import DemoBanner
    from wizard.profile import example_profile
    from wizard.session import create_session

    store = create_session("Demo Company", "demo.example", example_profile(), demo=True)
    app = OnboardApp(store=store)  # as the start screen opens it in an app without --demo
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        banner = app.screen.query_one(DemoBanner)
        text = str(banner.render())
        assert "demo servers are not running" in text and "onboard --demo" in text
