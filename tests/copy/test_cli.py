"""`onboard copy SESSION` and `onboard verify SESSION` as a script would use them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from wizard.cli import main
from wizard.cliutil import Exit
from wizard.copy.session_jobs import SOURCE_SETTING, TARGET_SETTING
from wizard.profile import example_profile
from wizard.secrets import SecretStore, source_password_key, target_password_key
from wizard.session import create_session

from .corpus import bodies, populate


def make_session(dovecots, tag: str, count: int = 2) -> tuple[str, list[tuple[str, str]]]:  # type: ignore[no-untyped-def]
    src, dst = dovecots
    store = create_session(f"Cli {tag}", "cli.example", example_profile())
    pairs = [(f"s{i}{tag}", f"d{i}{tag}") for i in range(count)]
    store.add_mailboxes([(s, d, f"User {i}") for i, (s, d) in enumerate(pairs)])
    store.set_setting(SOURCE_SETTING, {"host": src.host, "port": src.port, "security": "none"})
    store.set_setting(TARGET_SETTING, {"url": f"imap://{dst.host}:{dst.port}?tls=none"})
    secrets = SecretStore(store.name)
    for s, d in pairs:
        dst.ensure_user(d)
        secrets.set(source_password_key(s), src.password)
        secrets.set(target_password_key(d), dst.password)
        populate(src.client(s))
    name = store.name
    store.close()
    return name, pairs


def test_two_headless_copies_of_one_session_run_side_by_side(dovecots, users) -> None:
    src, dst = dovecots
    name, pairs = make_session(dovecots, users[0])
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ONBOARD_")
        or k in ("ONBOARD_DATA_DIR", "ONBOARD_TEST_KEYRING", "ONBOARD_OPERATOR")
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "wizard.cli", "copy", name, "--mailbox", d, "--json"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _s, d in pairs
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == Exit.OK, err
        data = json.loads(out)
        assert data["ok"] and len(data["mailboxes"]) == 1
        assert data["mailboxes"][0]["copied"] == 29  # everything populate() puts in
        # A server's UTF-8 reply ("Kunden/Müller & Söhne" does not exist yet) stays off the
        # terminal: no raw library warning between the copy's own lines.
        assert "error occurred while decoding" not in err, err
    for s, d in pairs:
        assert bodies(dst.client(d), "INBOX") == bodies(src.client(s), "INBOX")


def test_dry_run_copies_nothing_and_verify_reports(dovecots, users, capsys) -> None:
    src, dst = dovecots
    name, pairs = make_session(dovecots, users[0], count=1)
    assert main(["copy", name, "--dry-run"]) == Exit.OK
    out = capsys.readouterr().out
    assert "'Sent'" in out and "'Sent Items'" in out and "to copy" in out
    assert dst.client(pairs[0][1]).folder_status("INBOX", ["MESSAGES"])[b"MESSAGES"] == 0

    assert main(["verify", name]) == Exit.PROBLEMS  # nothing copied yet
    capsys.readouterr()
    assert main(["copy", name]) == Exit.OK
    capsys.readouterr()
    assert main(["verify", name, "--json"]) == Exit.OK
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] and data["step"] == "10"
    assert main(["verify", name]) == Exit.OK
    table = capsys.readouterr().out
    assert f"{pairs[0][1]}" in table and "Sent -> Sent Items" in table


def test_bad_arguments_and_missing_servers_have_their_exit_codes(users, capsys) -> None:
    assert main(["copy", "--source", "imap://nobody"]) == Exit.USAGE
    assert main(["copy", "no-such-session"]) == Exit.NOT_FOUND
    os.environ["ONBOARD_SOURCE_PASSWORD"] = "x"
    os.environ["ONBOARD_DEST_PASSWORD"] = "x"
    try:
        code = main(
            [
                "copy",
                "--source",
                "imap://a@127.0.0.1:1?tls=none",
                "--dest",
                "imap://b@127.0.0.1:1?tls=none",
                "--json",
            ]
        )
    finally:
        del os.environ["ONBOARD_SOURCE_PASSWORD"], os.environ["ONBOARD_DEST_PASSWORD"]
    assert code == Exit.UNREACHABLE
