"""`onboard serve`: the same app in a browser through textual-serve, on 127.0.0.1 by default."""

from __future__ import annotations

import contextlib
import json
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest

from wizard.cli import main
from wizard.cliutil import Exit
from wizard.profile import example_profile
from wizard.session import create_session


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Served:
    """A running `onboard serve`: its port, its process and the link with the token it printed."""

    port: int
    proc: subprocess.Popen[str]
    url: str

    @property
    def token(self) -> str:
        return parse_qs(urlsplit(self.url).query)["token"][0]

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _printed_url(proc: subprocess.Popen[str], timeout: float = 20.0) -> str:
    assert proc.stderr is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        match = re.search(r"Serving onboard on (http://\S+)", line)
        if match:
            return match.group(1)
        if not line and proc.poll() is not None:
            break
    raise AssertionError("onboard serve printed no address with a token")


@contextlib.contextmanager
def serving(*args: str) -> Iterator[Served]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "wizard.cli", "serve", "--port", str(port), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield Served(port, proc, _printed_url(proc))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def status_of(url: str, timeout: float = 20.0, headers: dict[str, str] | None = None) -> int:
    """The HTTP status `url` answers with, once the server listens."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            request = urllib.request.Request(url, headers=headers or {})
            with urllib.request.urlopen(request, timeout=2) as reply:
                return int(reply.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def fetch(url: str, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                assert reply.status == 200
                return reply.read().decode("utf-8")
        except urllib.error.HTTPError:
            raise
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_serve_shows_the_onboard_app_page_on_127_0_0_1() -> None:
    with serving() as served:
        assert served.url.startswith(f"http://127.0.0.1:{served.port}/?token=")
        page = fetch(served.url)
        assert "js/textual.js" in page  # textual-serve's page, which runs the app in xterm.js
        assert "<div>onboard</div>" in page
        # The app's terminal stays on this machine.
        assert f"ws://127.0.0.1:{served.port}/ws" in page
    assert served.proc.returncode is not None


def test_serve_a_session_runs_that_session_in_the_browser_tab() -> None:
    pytest.importorskip("aiohttp")
    import asyncio

    import aiohttp

    store = create_session("Browser Co", "browser.example", example_profile())
    name = store.name
    store.close()
    with serving(name) as served:
        port = served.port
        page = fetch(served.url)
        assert f"<div>onboard · {name}</div>" in page

        async def screen_text() -> str:
            seen = ""
            async with (
                aiohttp.ClientSession() as http,
                http.ws_connect(
                    f"http://127.0.0.1:{port}/ws?width=120&height=40&token={served.token}",
                    origin=served.origin,
                ) as ws,
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
    assert "WARNING" in err and "0.0.0.0:8123" in err and "token" in err
    assert re.search(r"Serving onboard on http://0\.0\.0\.0:8123/\?token=\S{40,}", err)
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


def test_serve_answers_403_to_every_request_without_the_token() -> None:
    with serving() as served:
        base = served.origin
        assert status_of(served.url) == 200
        for path in ("/", "/static/js/textual.js", "/ws", "/download/x", "/nothing"):
            assert status_of(base + path) == 403, path
        wrong = "/?token=" + "x" * len(served.token)
        assert status_of(base + wrong) == 403
        assert status_of(base + "/?token=") == 403
        assert "needs the address with its token" in _body_of_403(base + "/")
        cookie = {"Cookie": f"onboard_serve_token_{served.port}={served.token}"}
        assert status_of(base + "/static/js/textual.js", headers=cookie) == 200
        foreign = {"Cookie": f"onboard_serve_token_{served.port + 1}={served.token}"}
        assert status_of(base + "/static/js/textual.js", headers=foreign) == 403


def _body_of_403(url: str) -> str:
    try:
        urllib.request.urlopen(url, timeout=5)
    except urllib.error.HTTPError as exc:
        return exc.read().decode("utf-8")
    raise AssertionError(f"{url} was not refused")


def test_serve_sets_the_token_cookie_for_the_page_it_serves() -> None:
    with serving() as served:
        fetch(served.url)  # listening
        with urllib.request.urlopen(served.url, timeout=20) as reply:
            cookie = reply.headers["Set-Cookie"]
    assert f"onboard_serve_token_{served.port}={served.token}" in cookie
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_serve_refuses_a_websocket_from_another_origin_or_without_the_token() -> None:
    pytest.importorskip("aiohttp")
    import asyncio

    import aiohttp

    async def handshake(url: str, origin: str | None) -> int:
        async with aiohttp.ClientSession() as http:
            try:
                async with http.ws_connect(url, origin=origin) as ws:
                    await ws.close()
                    return 101
            except aiohttp.WSServerHandshakeError as exc:
                return exc.status

    with serving() as served:
        fetch(served.url)  # listening
        ws = f"http://127.0.0.1:{served.port}/ws?width=80&height=24"
        with_token = f"{ws}&token={served.token}"
        assert asyncio.run(handshake(with_token, "http://evil.example")) == 403
        assert asyncio.run(handshake(with_token, f"http://localhost:{served.port}")) == 403
        assert asyncio.run(handshake(with_token, None)) == 403
        assert asyncio.run(handshake(ws, served.origin)) == 403
        assert asyncio.run(handshake(with_token, served.origin)) == 101
