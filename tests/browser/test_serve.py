"""`onboard serve`: the same app in a browser through textual-serve, on 127.0.0.1 by default."""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest

from wizard.cli import main
from wizard.cliutil import Exit
from wizard.profile import example_profile
from wizard.session import create_session


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serving(*args: str) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "wizard.cli", "serve", "--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield port, proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def fetch(port: int, path: str = "/", timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as reply:
                assert reply.status == 200
                return reply.read().decode("utf-8")
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_serve_shows_the_onboard_app_page_on_127_0_0_1() -> None:
    with serving() as (port, proc):
        page = fetch(port)
        assert "js/textual.js" in page  # textual-serve's page, which runs the app in xterm.js
        assert "<div>onboard</div>" in page
        assert f"ws://127.0.0.1:{port}/ws" in page  # the app's terminal stays on this machine
    assert proc.returncode is not None


def test_serve_a_session_runs_that_session_in_the_browser_tab() -> None:
    pytest.importorskip("aiohttp")
    import asyncio

    import aiohttp

    store = create_session("Browser Co", "browser.example", example_profile())
    name = store.name
    store.close()
    with serving(name) as (port, _proc):
        page = fetch(port)
        assert f"<div>onboard · {name}</div>" in page

        async def screen_text() -> str:
            seen = ""
            async with (
                aiohttp.ClientSession() as http,
                http.ws_connect(f"http://127.0.0.1:{port}/ws?width=120&height=40") as ws,
            ):
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline and "Browser Co" not in seen:
                    with contextlib.suppress(asyncio.TimeoutError):
                        message = await ws.receive(timeout=1)
                        if message.type == aiohttp.WSMsgType.BINARY:
                            seen += message.data.decode("utf-8", "replace")
                        elif message.type == aiohttp.WSMsgType.TEXT:
                            with contextlib.suppress(ValueError):
                                seen += json.dumps(json.loads(message.data))
                        elif message.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                            break
            return seen

        seen = asyncio.run(screen_text())
        assert "Browser Co" in seen  # the app drew the session's step screen for the browser


def test_serve_warns_loudly_off_loopback_and_refuses_unknown_sessions(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from textual_serve.server import Server

    started: list[tuple[str, int, str]] = []
    monkeypatch.setattr(
        Server,
        "serve",
        lambda self, debug=False: started.append((self.host, self.port, self.command)),
    )
    assert main(["serve", "--host", "0.0.0.0", "--port", "8123"]) == Exit.OK
    err = capsys.readouterr().err
    assert "WARNING" in err and "0.0.0.0:8123" in err and "no login" in err
    assert started and started[0][:2] == ("0.0.0.0", 8123)
    assert "wizard.cli" in started[0][2]

    assert main(["serve"]) == Exit.OK
    assert "WARNING" not in capsys.readouterr().err
    assert started[-1][:2] == ("127.0.0.1", 8000)

    assert main(["serve", "no-such-session"]) == Exit.NOT_FOUND


def test_serve_demo_runs_the_demo_in_each_tab_and_refuses_a_session(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from textual_serve.server import Server

    started: list[str] = []
    monkeypatch.setattr(Server, "serve", lambda self, debug=False: started.append(self.command))
    assert main(["serve", "--demo"]) == Exit.OK
    assert started[-1].endswith("wizard.cli --demo")
    assert main(["--demo", "serve"]) == Exit.OK  # the global flag works the same way
    assert started[-1].endswith("wizard.cli --demo")

    assert main(["serve", "--demo", "--profile", "x.toml"]) == Exit.USAGE
    assert "brings its own" in capsys.readouterr().err
