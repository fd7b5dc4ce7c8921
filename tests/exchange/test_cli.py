"""`onboard check ews` against the stand-in: text, JSON and exit codes."""

from __future__ import annotations

import json

import pytest

from tests.servers import ews
from tests.servers.knot import KnotServer
from wizard.cli import main
from wizard.cliutil import Exit
from wizard.devservers.ews import EwsSandbox
from wizard.exchange import ExchangeMailbox

from .conftest import AUTODISCOVER_DOMAIN, delegate_settings, make_message


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["check", "ews", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_existing_mailbox_lists_folders_with_counts(
    ews_sandbox: EwsSandbox, capsys, monkeypatch
) -> None:
    with ExchangeMailbox.open(delegate_settings(ews_sandbox), ews.USER, ews.PASSWORD) as box:
        box.write(box.ensure_folder(("Kunden", "Ærø")), [make_message(1), make_message(2)])
    monkeypatch.setenv("ONBOARD_DEST_PASSWORD", ews.PASSWORD)
    code, out, _ = run(capsys, ews_sandbox.url, "--mailbox", ews.USER, "--auth", "basic")
    assert code == Exit.OK
    assert f"Mailbox {ews.USER} exists" in out
    size = len(make_message(1).raw) + len(make_message(2).raw)
    assert f"2 messages, {size} B." in out
    row = next(line for line in out.splitlines() if "Kunden/Ærø" in line)
    assert row.split()[-2:] == ["2", "2"]  # two messages, both unread

    code, out, _ = run(capsys, ews_sandbox.url, "--mailbox", ews.USER, "--auth", "basic", "--json")
    data = json.loads(out)
    assert code == Exit.OK
    assert data["exists"] is True and data["message_count"] == 2
    assert {"path": "Kunden/Ærø", "role": "", "total": 2, "unread": 2}.items() <= next(
        f for f in data["folders"] if f["path"] == "Kunden/Ærø"
    ).items()
    assert ews.PASSWORD not in out


def test_missing_mailbox_with_service_account_exits_1(
    ews_sandbox: EwsSandbox, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("ONBOARD_DEST_PASSWORD", ews.SERVICE_PASSWORD)
    args = [ews_sandbox.url, "--mailbox", "neu@example.test", "--user", ews.SERVICE_LOGIN]
    code, out, _ = run(capsys, *args, "--auth", "basic", "--json")
    assert code == Exit.PROBLEMS
    data = json.loads(out)
    assert data["state"] == "missing" and data["failure"]["code"] == "mailbox-missing"
    assert data["login"] == ews.SERVICE_LOGIN

    code, _, err = run(capsys, *args, "--auth", "basic")
    assert code == Exit.PROBLEMS
    assert "neu@example.test is missing" in err


def test_wrong_password_and_dead_server_exit_6(
    ews_sandbox: EwsSandbox, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("ONBOARD_DEST_PASSWORD", "wrong")
    code, _, err = run(capsys, ews_sandbox.url, "--mailbox", ews.USER, "--auth", "basic")
    assert code == Exit.UNREACHABLE
    assert "rejected the login" in err

    url = ews_sandbox.url
    ews_sandbox.stop()
    code, out, _ = run(capsys, url, "--mailbox", ews.USER, "--auth", "basic", "--json")
    assert code == Exit.UNREACHABLE
    assert json.loads(out)["failure"]["code"] == "connection-refused"


def test_self_signed_needs_the_pin(ews_sandbox_factory, capsys, monkeypatch) -> None:
    sandbox = ews_sandbox_factory(tls=True)
    monkeypatch.setenv("ONBOARD_DEST_PASSWORD", ews.PASSWORD)
    base = [sandbox.url, "--mailbox", ews.USER, "--auth", "basic"]
    code, _, err = run(capsys, *base)
    assert code == Exit.UNREACHABLE
    assert f"--pin {sandbox.fingerprint}" in err

    code, out, _ = run(capsys, *base, "--pin", sandbox.fingerprint or "")
    assert code == Exit.OK and "exists" in out

    code, out, _ = run(capsys, *base, "--pin", "00" * 32, "--json")
    assert code == Exit.UNREACHABLE
    failure = json.loads(out)["failure"]
    assert failure["code"] == "certificate-mismatch"
    assert failure["fingerprint"] == sandbox.fingerprint


def test_bad_arguments_and_no_password(capsys, monkeypatch) -> None:
    monkeypatch.setenv("ONBOARD_DEST_PASSWORD", "x")
    code, _, err = run(capsys, "ftp://example.invalid/", "--mailbox", "a@example.test")
    assert code == Exit.USAGE and "is not an EWS URL" in err
    monkeypatch.delenv("ONBOARD_DEST_PASSWORD")
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    code, _, err = run(capsys, "http://127.0.0.1:9/EWS/Exchange.asmx", "--mailbox", "a@b.test")
    assert code == Exit.USAGE and "ONBOARD_DEST_PASSWORD" in err


def test_autodiscover_prints_the_url_found_and_each_candidate(
    autodiscover_world: tuple[EwsSandbox, KnotServer], capsys, monkeypatch
) -> None:
    sandbox, knot = autodiscover_world
    monkeypatch.setenv("ONBOARD_DEST_PASSWORD", ews.PASSWORD)
    base = ["--autodiscover", ews.USER, "--resolver", knot.address, "--auth", "basic"]
    code, out, _ = run(capsys, *base, "--pin", sandbox.fingerprint or "", "--json")
    assert code == Exit.OK
    data = json.loads(out)
    assert data["ews_url"] == sandbox.url and data["failure"] is None
    assert data["login"] == ews.USER
    srv = f"https://autodiscover.{AUTODISCOVER_DOMAIN}:{sandbox.port}/autodiscover/autodiscover.xml"
    assert [a["candidate"] for a in data["attempts"]] == [
        f"https://{AUTODISCOVER_DOMAIN}/autodiscover/autodiscover.xml",
        f"https://autodiscover.{AUTODISCOVER_DOMAIN}/autodiscover/autodiscover.xml",
        srv,
    ]
    assert data["attempts"][-1]["code"] == "" and data["attempts"][0]["code"] != ""
    assert ews.PASSWORD not in out

    code, out, _ = run(capsys, *base, "--pin", sandbox.fingerprint or "")
    assert code == Exit.OK
    assert f"Autodiscover found {sandbox.url} for {ews.USER}." in out
    assert f"ok     {srv}" in out

    # Without the pin the stand-in's certificate is not trusted: the operator is told what to pin.
    code, _, err = run(capsys, *base)
    assert code == Exit.UNREACHABLE
    assert "(autodiscover-failed)" in err and f"failed {srv}" in err
    assert f"--pin {sandbox.fingerprint}" in err

    code, _, err = run(capsys, *base, sandbox.url)
    assert code == Exit.USAGE and "not both" in err
