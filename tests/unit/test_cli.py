"""`onboard` verbs a script can use: messages and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from wizard.cli import main

ROOT = Path(__file__).resolve().parents[2]


def onboard(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wizard.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        input=stdin,
        env=os.environ.copy(),
        timeout=60,
    )


def test_help_documents_the_exit_codes() -> None:
    result = onboard("--help")
    assert result.returncode == 0
    assert (
        "exit codes:" in result.stdout and "the session is open in another onboard" in result.stdout
    )
    for verb in ("new", "resume", "sessions", "report", "check"):
        assert verb in result.stdout


def test_new_then_sessions_then_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new", "Acme Corp", "--domain", "Acme.Example", "--json"]) == 0
    created = json.loads(capsys.readouterr().out)
    assert created["name"] == "acme-corp"
    assert Path(created["path"]).is_file()

    assert main(["sessions", "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert (
        row["customer"],
        row["domain"],
        row["current_step"],
        row["steps_done"],
        row["steps_total"],
    ) == (
        "Acme Corp",
        "acme.example",
        "1",
        0,
        20,
    )

    assert main(["sessions"]) == 0
    table = capsys.readouterr().out
    assert "acme-corp" in table and "0/20" in table

    out = tmp_path / "report.html"
    assert main(["report", "acme-corp", "--format", "html", "-o", str(out)]) == 0
    assert "Onboarding completion report: Acme Corp" in out.read_text()


def test_bad_domain_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new", "Acme", "--domain", "not a domain", "--no-open"]) == 2
    assert "is not a valid domain name" in capsys.readouterr().err


def test_missing_session_exit_3() -> None:
    result = onboard("report", "nobody", "--format", "md")
    assert result.returncode == 3
    assert "there is no session named 'nobody'" in result.stderr


def test_damaged_session_exit_5(isolated_onboard: Path) -> None:
    sessions = isolated_onboard / "sessions"
    sessions.mkdir(exist_ok=True)
    (sessions / "wreck.onboard").write_bytes(b"\x00garbage" * 64)
    result = onboard("report", "wreck")
    assert result.returncode == 5
    assert "left untouched" in result.stderr
    listing = onboard("sessions")
    assert "wreck" in listing.stdout and "(unreadable)" in listing.stdout


def test_bad_profile_is_explained(tmp_path: Path) -> None:
    bad = tmp_path / "p.toml"
    bad.write_text("[provider]\nname = 'X'\n")
    result = onboard("new", "Acme", "--domain", "acme.example", "--profile", str(bad), "--no-open")
    assert result.returncode == 2
    assert "'mail' is missing" in result.stderr


def test_delete_refuses_while_open_and_then_deletes() -> None:
    assert main(["new", "Acme", "--domain", "acme.example", "--no-open"]) == 0
    from wizard.session import session_path
    from wizard.store import SessionStore

    holder = SessionStore.open(session_path("acme"))
    try:
        result = onboard("delete", "acme", "--yes")
        assert result.returncode == 4
        assert "is open in another onboard" in result.stderr
    finally:
        holder.close()
    result = onboard("delete", "acme", "--yes")
    assert result.returncode == 0
    assert not session_path("acme").exists()


def test_delete_removes_the_sessions_secrets_from_the_keyring() -> None:
    from tests.support.keyring_backend import JsonFileKeyring
    from wizard.profile import example_profile
    from wizard.secrets import SecretStore, remember_secret_key, source_password_key
    from wizard.session import create_session

    with create_session("Acme", "acme.example", example_profile()) as store:
        store.add_mailboxes([("tom", "tom@acme.example", "")])
        SecretStore(store.name).set(source_password_key("tom"), "tom-secret")
        SecretStore(store.name).set("ews:service-account", "svc-secret")
        remember_secret_key(store, "ews:service-account")
    SecretStore("other").set(source_password_key("tom"), "other-session-secret")
    assert main(["delete", "acme", "--yes"]) == 0
    assert JsonFileKeyring().all_secrets() == ["other-session-secret"]


def test_verbs_that_open_the_app_refuse_without_a_terminal(tmp_path: Path) -> None:
    """Without a terminal the app would spin forever: `new` keeps the session and says how to open it."""
    env = os.environ.copy()
    env["ONBOARD_DATA_DIR"] = str(tmp_path)
    created = subprocess.run(
        [sys.executable, "-m", "wizard.cli", "new", "Acme", "--domain", "acme.example"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert created.returncode == 2
    assert "needs a terminal" in created.stderr
    assert "onboard resume acme" in created.stderr
    assert list(tmp_path.rglob("acme*.onboard"))  # the session itself was kept
    resumed = subprocess.run(
        [sys.executable, "-m", "wizard.cli", "resume", "acme"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert resumed.returncode == 2, resumed.stderr
    assert "needs a terminal" in resumed.stderr
