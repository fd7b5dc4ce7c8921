"""The session folder deleted during a copy: the copy says so and exits 10, never "ok" and 0."""

from __future__ import annotations

import shutil

import pytest

import wizard.copy.cli as copy_cli
from wizard.cli import main
from wizard.cliutil import Exit
from wizard.session import session_path

from .test_cli import make_session


def test_a_session_folder_deleted_during_the_copy_ends_with_its_own_exit_code(
    dovecots,  # type: ignore[no-untyped-def]
    users,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    name, _pairs = make_session(dovecots, users[0], count=1)
    folder = session_path(name).parent
    real_run = copy_cli.run_engine

    def run_while_the_folder_goes(engine, progress):  # type: ignore[no-untyped-def]
        shutil.rmtree(folder)  # someone cleans up the data directory mid-copy
        return real_run(engine, progress)

    monkeypatch.setattr(copy_cli, "run_engine", run_while_the_folder_goes)
    code = main(["copy", name])
    err = capsys.readouterr().err
    assert code == Exit.VANISHED
    assert "disappeared during the copy" in err and "Restore the folder" in err
    assert "Traceback" not in err
