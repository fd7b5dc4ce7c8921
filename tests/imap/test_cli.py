"""`onboard check imap` against a real Dovecot: what a support engineer sees, and the exit codes."""

from __future__ import annotations

import json
import socket

import pytest

from tests.servers.dovecot import Account, DovecotServer, SeedMessage, make_message
from wizard.cli import main
from wizard.imap.cli import _width
from wizard.tls import format_fingerprint

OTHER_PIN = "cd" * 32


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["check", "imap", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def user(dovecot: DovecotServer, monkeypatch: pytest.MonkeyPatch) -> Account:
    account = dovecot.add_user(tree=True)
    dovecot.seed(account.login, "INBOX", [make_message(n, size=3000) for n in range(4)])
    dovecot.seed(account.login, "Sent", [SeedMessage(make_message(7), flags=("\\Seen",))])
    monkeypatch.setenv("ONBOARD_SOURCE_PASSWORD", account.password)
    return account


def test_good_login_prints_capabilities_folders_and_sizes(
    dovecot: DovecotServer, user: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"imaps://{user.login}@{dovecot.host}:{dovecot.imaps_port}"
    code, out, err = run(capsys, url, "--pin", dovecot.fingerprint)
    assert code == 0, err
    assert f"{user.login} on {dovecot.host}:{dovecot.imaps_port} (Implicit TLS" in out
    assert "STATUS=SIZE" in out.split("Capabilities:")[1].splitlines()[0]
    assert "Folders: 13 (sized with STATUS=SIZE)" in out
    sent = next(line for line in out.splitlines() if line.strip().startswith("Sent "))
    assert sent.split() == ["Sent", "\\Sent", "sent", "1", *sent.split()[-2:]]
    inbox = next(line for line in out.splitlines() if line.strip().startswith("INBOX "))
    assert inbox.split()[:3] == ["INBOX", "inbox", "4"]
    assert "Total: 5 messages" in out
    assert user.password not in out + err
    # Sizes are right-aligned: every folder row ends in the same terminal column, 日本語 too.
    table = out.split("(sized with STATUS=SIZE)\n")[1].split("Total:")[0].splitlines()
    assert any(line.strip().startswith("日本語") for line in table)
    assert len({_width(line) for line in table}) == 1


def test_json_shape_and_fetch_sizes(
    dovecot: DovecotServer, user: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"imap://{user.login}@{dovecot.host}:{dovecot.imap_port}"
    code, out, _ = run(
        capsys, url, "--starttls", "--pin", dovecot.fingerprint, "--json", "--fetch-sizes"
    )
    assert code == 0
    data = json.loads(out)
    assert data["ok"] is True and data["exit_code"] == 0 and data["code"] == ""
    assert data["login"] == user.login and data["security"] == "starttls"
    assert data["auth"] == "password" and data["sizing_method"] == "fetch-sizes"
    assert "IMAP4REV1" in data["capabilities"]
    folders = {f["name"]: f for f in data["folders"]}
    assert data["folder_count"] == len(folders) == 13
    assert folders["Sent"]["special_use"] == "\\Sent" and folders["Sent"]["role"] == "sent"
    assert folders["Kunden/Müller & Söhne"]["messages"] == 0
    inbox = dovecot.status(user.login, "INBOX")
    assert (folders["INBOX"]["messages"], folders["INBOX"]["bytes"]) == (4, inbox["size"])
    assert data["messages"] == 5
    assert data["bytes"] == inbox["size"] + dovecot.status(user.login, "Sent")["size"]


def test_master_user(
    dovecot: DovecotServer,
    user: Account,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    master = dovecot.add_master()
    monkeypatch.setenv("ONBOARD_SOURCE_PASSWORD", master.password)
    url = f"imaps://{user.login}@{dovecot.host}:{dovecot.imaps_port}"
    code, out, err = run(capsys, url, "--pin", dovecot.fingerprint, "--master-user", master.login)
    assert code == 0, err
    assert f"master {master.login}" in out and "Total: 5 messages" in out


def test_wrong_password(
    dovecot: DovecotServer,
    user: Account,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ONBOARD_SOURCE_PASSWORD", "not-it")
    url = f"imaps://{user.login}@{dovecot.host}:{dovecot.imaps_port}"
    code, out, err = run(capsys, url, "--pin", dovecot.fingerprint)
    assert code == 6
    assert f"rejected the login for {user.login}" in err
    assert "Folders:" not in out
    code, out, _ = run(capsys, url, "--pin", dovecot.fingerprint, "--json")
    data = json.loads(out)
    assert code == 6 and data["code"] == "login-rejected" and data["exit_code"] == 6
    assert "messages" not in data and "not-it" not in out


def test_refused_port(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONBOARD_SOURCE_PASSWORD", "pw")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))  # bound, never listening: refused
        port = s.getsockname()[1]
        code, _, err = run(capsys, f"imaps://tom@127.0.0.1:{port}", "--timeout", "5")
    assert code == 6
    assert f"127.0.0.1 port {port} refused the connection" in err


def test_unknown_host(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONBOARD_SOURCE_PASSWORD", "pw")
    code, out, err = run(capsys, "imaps://tom@imap.acme.invalid", "--json")
    data = json.loads(out)
    assert code == 6 and data["code"] == "dns-not-found" and data["port"] == 993
    assert "imap.acme.invalid does not exist" in data["reason"]


def test_pin_mismatch_shows_the_fingerprint(
    dovecot: DovecotServer, user: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"imaps://{user.login}@{dovecot.host}:{dovecot.imaps_port}"
    code, _, err = run(capsys, url, "--pin", OTHER_PIN)
    assert code == 6
    assert format_fingerprint(dovecot.fingerprint) in err
    assert f"--pin {dovecot.fingerprint}" in err


def test_usage_errors_and_no_password(
    dovecot: DovecotServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = run(capsys, "imaps://tom@example.test", "--starttls")
    assert code == 2 and "--starttls goes with imap://" in err
    code, _, err = run(capsys, "imaps://tom@example.test", "--pin", "xyz")
    assert code == 2 and "not a SHA-256 fingerprint" in err
    monkeypatch.delenv("ONBOARD_SOURCE_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    code, _, err = run(capsys, f"imaps://tom@{dovecot.host}:{dovecot.imaps_port}")
    assert code == 2 and "ONBOARD_SOURCE_PASSWORD" in err
