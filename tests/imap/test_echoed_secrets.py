"""A server that echoes the login in its NO reply: the password (plain, base64, SASL PLAIN with and
without an authorization identity, XOAUTH2, URL-encoded) reaches no output of onboard: not the
check's text or JSON, not the session file's evidence, not the activity log, not the report."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from wizard import activity
from wizard.imap.probe import probe_mailbox, save_result
from wizard.imap.settings import AuthMode, ImapServerSettings, Security
from wizard.profile import example_profile
from wizard.report import render_report
from wizard.session import create_session

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Echo-Me-9f3k!"
USER, ADMIN = "anna", "admin"


class EchoingImapServer:
    """Just enough IMAP to refuse every login by quoting the client's words back."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._talk, args=(conn,), daemon=True).start()

    def _talk(self, conn: socket.socket) -> None:
        caps = "IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR"
        with conn, conn.makefile("rwb") as wire:
            wire.write(f"* OK [CAPABILITY {caps}] echo ready\r\n".encode())
            wire.flush()
            for raw in wire:
                line = raw.decode(errors="replace").rstrip("\r\n")
                tag, _, rest = line.partition(" ")
                verb = rest.split(" ", 1)[0].upper()
                if verb == "CAPABILITY":
                    reply = f"* CAPABILITY {caps}\r\n{tag} OK done\r\n"
                elif verb == "LOGOUT":
                    wire.write(f"* BYE\r\n{tag} OK bye\r\n".encode())
                    wire.flush()
                    return
                elif verb in ("LOGIN", "AUTHENTICATE"):
                    reply = f"{tag} NO [AUTHENTICATIONFAILED] rejected: {rest}\r\n"
                else:
                    reply = f"{tag} BAD unknown\r\n"
                wire.write(reply.encode())
                wire.flush()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def echoing() -> Iterator[EchoingImapServer]:
    server = EchoingImapServer()
    yield server
    server.close()


def encodings() -> dict[str, str]:
    def b64(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    return {
        "plain": PASSWORD,
        "base64": b64(PASSWORD),
        "sasl-plain": b64(f"\0{USER}\0{PASSWORD}"),
        "sasl-plain-authzid": b64(f"{USER}\0{ADMIN}\0{PASSWORD}"),
        "xoauth2": b64(f"user={USER}\1auth=Bearer {PASSWORD}\1\1"),
        "url": quote(PASSWORD, safe=""),
    }


def assert_clean(text: str, where: str) -> None:
    for name, form in encodings().items():
        assert form not in text, f"{name} form of the password in {where}"


@pytest.mark.parametrize(
    "auth, extra",
    [
        ("password", []),
        ("master", ["--master-user", ADMIN]),
        ("sasl-plain-authzid", ["--master-user", ADMIN]),
        ("xoauth2", []),
    ],
)
def test_check_imap_output_has_no_echoed_secret(
    echoing: EchoingImapServer, auth: str, extra: list[str]
) -> None:
    env = {**os.environ, "ONBOARD_SOURCE_PASSWORD": PASSWORD}
    url = f"imap://{USER}@127.0.0.1:{echoing.port}?tls=none"
    for output in ([], ["--json"]):
        done = subprocess.run(
            [sys.executable, "-m", "wizard.cli", "check", "imap", url, "--auth", auth, *extra, *output],
            capture_output=True, text=True, cwd=ROOT, env=env, timeout=60,
        )  # fmt: skip
        assert done.returncode != 0
        assert "rejected" in done.stdout + done.stderr  # the server's reply is still shown
        assert_clean(done.stdout + done.stderr, f"check imap {auth} {output}")


@pytest.mark.parametrize("mode", list(AuthMode))
def test_session_evidence_log_and_report_have_no_echoed_secret(
    echoing: EchoingImapServer, mode: AuthMode
) -> None:
    store = create_session("Echo Corp", "echo.example", example_profile())
    settings = ImapServerSettings(
        "127.0.0.1",
        echoing.port,
        security=Security.PLAIN,
        auth=mode,
        master_user=ADMIN if mode in (AuthMode.MASTER, AuthMode.SASL_AUTHZID) else "",
        timeout=10,
    )
    result = probe_mailbox(settings, USER, PASSWORD)
    assert not result.ok and "rejected" in result.reason
    save_result(store, result)
    activity.log_event(store, "error", "imap", "failure", result.reason, mailbox=USER)
    report = render_report(store, "json", "operator")
    json.loads(report)
    path, log = store.path, activity.log_path(store)
    store.close()
    assert_clean(path.read_bytes().decode("utf-8", "replace"), "the session file")
    assert_clean(log.read_text(encoding="utf-8"), "the activity log")
    assert_clean(report, "the report")
