"""`onboard sandbox ews` as an operator runs it: facts printed, usable by a client, Ctrl-C stops."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from exchangelib import Message

from tests.sandbox.mime import make_message
from tests.servers.ews import close_exchangelib, exchangelib_adapter, pinned_adapter


def _start(*args: str) -> tuple[subprocess.Popen[str], dict]:  # type: ignore[type-arg]
    proc = subprocess.Popen(
        [sys.executable, "-m", "wizard.cli", "sandbox", "ews", "--json", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("}"):
            break
    return proc, json.loads("".join(lines))


def _stop(proc: subprocess.Popen[str]) -> int:
    close_exchangelib()
    proc.send_signal(signal.SIGINT)
    return proc.wait(timeout=10)


def _account(facts: dict, impersonate: str | None = None):  # type: ignore[no-untyped-def, type-arg]
    from exchangelib import BASIC, DELEGATE, IMPERSONATION, Account, Configuration, Credentials

    from tests.servers.ews import sandbox_version

    login, password = (
        (facts["service_account"], facts["service_password"])
        if impersonate
        else (facts["mailbox"], facts["password"])
    )
    config = Configuration(
        service_endpoint=facts["url"],
        credentials=Credentials(login, password),
        auth_type=BASIC,
        version=sandbox_version(),
    )
    return Account(
        impersonate or facts["mailbox"],
        config=config,
        autodiscover=False,
        access_type=IMPERSONATION if impersonate else DELEGATE,
    )


def test_sandbox_ews_prints_what_a_client_needs() -> None:
    proc, facts = _start("--mailbox", "kunde@example.test")
    try:
        assert facts["url"].startswith("http://127.0.0.1:")
        assert facts["fingerprint"] is None
        account = _account(facts)
        Message(account=account, folder=account.inbox, mime_content=make_message(1)).save()
        assert account.inbox.all().count() == 1
        other = _account(facts, impersonate="kunde@example.test")
        assert other.inbox.all().count() == 0
    finally:
        code = _stop(proc)
    assert code == 0


def test_sandbox_ews_over_tls_prints_the_pin() -> None:
    proc, facts = _start("--tls")
    try:
        assert facts["url"].startswith("https://")
        assert len(facts["fingerprint"]) == 64
        with exchangelib_adapter(pinned_adapter(facts["fingerprint"])):
            assert _account(facts).inbox.name == "Inbox"
    finally:
        code = _stop(proc)
    assert code == 0


def test_sandbox_ews_refuses_a_taken_port() -> None:
    proc, facts = _start()
    try:
        started = time.monotonic()
        taken = subprocess.run(
            [sys.executable, "-m", "wizard.cli", "sandbox", "ews", "--port", str(facts["port"])],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert time.monotonic() - started < 30
        assert taken.returncode == 6
        assert f"cannot listen on 127.0.0.1:{facts['port']}" in taken.stderr
    finally:
        _stop(proc)


def test_sandbox_ews_text_output_names_url_and_logins() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "wizard.cli", "sandbox", "ews", "--tls"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    lines = [proc.stdout.readline() for _ in range(7)]
    proc.send_signal(signal.SIGINT)
    rest, _ = proc.communicate(timeout=10)
    text = "".join(lines)
    assert "URL              https://127.0.0.1:" in text
    assert "mailbox          demo@sandbox.test  password " in text
    assert "service account  svc-migration@sandbox.test  password " in text
    assert "certificate      SHA-256 " in text
    assert "EWS stand-in stopped." in rest
    assert proc.returncode == 0
