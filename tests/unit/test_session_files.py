"""Session files onboard cannot use: each has its own message and exit code, never a traceback and
never a rewrite; `onboard delete --force` removes such a session after saying what it removes."""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from wizard.cli import main
from wizard.cliutil import Exit
from wizard.profile import example_profile
from wizard.secrets import SecretStore, source_password_key
from wizard.session import create_session, session_path, sessions_dir
from wizard.session_checks import session_vanished

VERBS = [
    ["resume", "{name}"],
    ["report", "{name}"],
    ["mailboxes", "list", "{name}"],
    ["verify", "{name}"],
    ["copy", "{name}", "--dry-run"],
]


def fingerprint(path: Path) -> tuple[str, int, list[str]]:
    """The file's bytes and mode, and every file beside it that shares its name."""
    siblings = sorted(p.name for p in path.parent.glob(path.name + "*") if p != path)
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mode, siblings


def run_all(name: str, capsys: pytest.CaptureFixture[str]) -> list[tuple[int, str]]:
    results = []
    for verb in VERBS:
        code = main([part.format(name=name) for part in verb])
        results.append((code, capsys.readouterr().err))
    return results


def test_an_empty_session_file_is_refused_and_never_rewritten(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = sessions_dir() / "hollow.onboard"
    path.touch(mode=0o600)
    before = fingerprint(path)
    for code, err in run_all("hollow", capsys):
        assert code == Exit.EMPTY, err
        assert "is empty (0 bytes)" in err and "onboard delete hollow --force" in err
        assert "Traceback" not in err
    assert fingerprint(path) == before and path.stat().st_size == 0
    assert main(["sessions"]) == 0
    assert "(unreadable)" in capsys.readouterr().out


def test_a_session_missing_a_table_is_refused_and_left_as_it_was(
    capsys: pytest.CaptureFixture[str],
) -> None:
    store = create_session("Holes Co", "holes.example", example_profile())
    path, name = store.path, store.name
    store.close()
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE evidence")
    db.close()
    before = fingerprint(path)
    for code, err in run_all(name, capsys):
        assert code == Exit.INCOMPLETE, err
        assert "parts missing (evidence)" in err and "Traceback" not in err
    after = fingerprint(path)
    assert after[:2] == before[:2]


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """`path` read-only for this user; root writes through a mode, so it gets the immutable flag."""
    if os.geteuid() != 0:
        path.chmod(0o444)
        yield
        path.chmod(0o600)
        return
    made = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
    if made.returncode != 0:
        reason = f"cannot make a file read-only for root here: {made.stderr.strip()}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=False)


def test_a_read_only_session_file_is_refused_without_a_change(
    capsys: pytest.CaptureFixture[str],
) -> None:
    store = create_session("RO Co", "ro.example", example_profile())
    path, name = store.path, store.name
    store.close()
    before = fingerprint(path)
    with read_only(path):
        for verb in (["resume", name], ["mailboxes", "import", name, "/dev/null"], ["copy", name]):
            assert main(verb) == Exit.READ_ONLY
            err = capsys.readouterr().err
            assert f"the session file {path} is read-only for this user" in err
            assert "Nothing was changed" in err and "Traceback" not in err
        assert fingerprint(path) == before  # not a byte, not a sidecar file
        assert main(["report", name]) == Exit.OK  # reading it still works
        capsys.readouterr()
    assert fingerprint(path)[:2] == before[:2]


def test_a_vanished_session_is_noticed(tmp_path: Path) -> None:
    store = create_session("Gone Co", "gone.example", example_profile())
    assert not session_vanished(store)
    for file in store.path.parent.glob(store.path.name + "*"):
        file.unlink()
    assert session_vanished(store)
    store.close()


def test_delete_force_says_what_it_removes_then_removes_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    store = create_session("Broken Co", "broken.example", example_profile())
    store.add_mailboxes([("anna", "anna@broken.example", "Anna")])
    name, path = store.name, store.path
    store.close()
    secrets = SecretStore(name)
    secrets.set(source_password_key("anna"), "pw-anna")
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE notes")
    db.close()

    assert main(["delete", name, "--yes"]) == Exit.INCOMPLETE
    assert "--force" in capsys.readouterr().err
    assert path.exists() and secrets.get(source_password_key("anna")) == "pw-anna"

    assert main(["delete", name, "--force", "--yes"]) == Exit.OK
    out = capsys.readouterr().out
    assert f"file    {path}" in out
    assert f"secret  source:anna (service onboard:{name})" in out
    assert "pw-anna" not in out
    assert not list(path.parent.glob(path.name + "*"))
    assert secrets.get(source_password_key("anna")) is None
    assert not session_path(name).exists()


def test_delete_force_of_garbage_says_it_cannot_list_every_secret(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = sessions_dir() / "noise.onboard"
    path.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 8)
    assert main(["delete", "noise", "--force", "--yes"]) == Exit.OK
    out = capsys.readouterr().out
    assert "too damaged to list every secret" in out
    assert not path.exists()
