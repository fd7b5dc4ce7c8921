"""One copy per mailbox at a time: a second `onboard copy` of the same mailbox and ledger is
refused with who holds it; a holder that was killed (or went silent) does not block forever."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from wizard.cliutil import Exit
from wizard.copy import holds
from wizard.copy.holds import MailboxHeld, take_hold
from wizard.profile import example_profile
from wizard.store import SessionStore

from .corpus import bodies
from .test_kill import FOLDERS, TARGET, copied_so_far, copy_command, fill


def test_a_second_copy_of_the_same_mailbox_is_refused_and_nothing_is_doubled(
    dovecots, users, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    src, dst = dovecots
    fill(src.client(users[0]), 400)
    ledger = tmp_path / "ledger.onboard"
    env = {
        **os.environ,
        "ONBOARD_SOURCE_PASSWORD": src.password,
        "ONBOARD_DEST_PASSWORD": dst.password,
    }
    command = copy_command(dovecots, users, ledger)
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while copied_so_far(ledger) == 0 and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert first.poll() is None, "the first copy ended before the second could start"

    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert second.returncode == Exit.LOCKED, second.stderr
    assert f"pid {first.pid}" in second.stderr and socket.gethostname() in second.stderr
    assert "since" in second.stderr and "another onboard copy" in second.stderr
    data = json.loads(second.stdout)
    assert data["mailboxes"][0]["held_by"] and data["mailboxes"][0]["copied"] == 0

    # The holder is killed: its hold does not outlive it, the next copy finishes the job.
    first.send_signal(signal.SIGKILL)
    first.wait()
    third = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert third.returncode == Exit.OK, third.stderr
    source, target = src.client(users[0]), dst.client(users[1])
    for folder in FOLDERS:
        assert bodies(target, TARGET[folder]) == bodies(source, folder), folder


@pytest.fixture
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    s = SessionStore.create(
        tmp_path / "holds.onboard", customer="Holds", domain="h.example", profile=example_profile()
    )
    yield s
    s.close()


def _plant(store: SessionStore, host: str, pid: int, heartbeat: float) -> None:
    """A hold left in the file by a copy on another machine (or a killed one)."""
    hold = take_hold(store, "anna@h.example")
    hold.release()
    with store.transaction() as tx:
        tx.execute(
            "INSERT INTO copy_holds (mailbox, token, host, pid, user, since, heartbeat) "
            "VALUES (?, 'x', ?, ?, 'ops', '2026-01-01T10:00:00+00:00', ?)",
            ("anna@h.example", host, pid, heartbeat),
        )


def test_a_live_holder_on_another_machine_blocks_and_a_silent_one_does_not(store) -> None:  # type: ignore[no-untyped-def]
    _plant(store, "laptop-2", 4242, time.time())
    with pytest.raises(MailboxHeld) as caught:
        take_hold(store, "ANNA@h.example")  # addresses are not case-sensitive
    assert (
        caught.value.holder.describe() == "ops@laptop-2 (pid 4242) since 2026-01-01T10:00:00+00:00"
    )
    take_hold(store, "bert@h.example").release()  # other mailboxes are free

    with store.transaction() as tx:
        tx.execute("UPDATE copy_holds SET heartbeat = ?", (time.time() - holds.STALE_AFTER - 1,))
    hold = take_hold(store, "anna@h.example")
    assert [h.host for h in holds.holders(store)] == [socket.gethostname()]
    hold.release()
    assert holds.holders(store) == []


def test_a_dead_pid_on_this_machine_frees_the_hold_at_once(store) -> None:  # type: ignore[no-untyped-def]
    dead = subprocess.Popen(["true"])
    dead.wait()
    _plant(store, socket.gethostname(), dead.pid, time.time())
    take_hold(store, "anna@h.example").release()


def test_a_copy_whose_hold_was_taken_over_stops(store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(holds, "HEARTBEAT_SECONDS", 0.05)
    lost: list[bool] = []
    hold = take_hold(store, "anna@h.example", on_lost=lambda: lost.append(True))
    with store.transaction() as tx:
        tx.execute("UPDATE copy_holds SET token = 'someone-else'")
    deadline = time.monotonic() + 5
    while not lost and time.monotonic() < deadline:
        time.sleep(0.02)
    assert lost == [True]
    hold.release()
    assert len(holds.holders(store)) == 1  # the other copy's hold is left alone
