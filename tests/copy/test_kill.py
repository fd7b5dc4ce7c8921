"""Kill -9 a headless `onboard copy` at random moments; the rerun copies what is missing, once."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from .corpus import WHEN, bodies, message
from .proxy import LaggingProxy

FOLDERS = ("INBOX", "Projekte/2023", "Sent")
TARGET = {"INBOX": "INBOX", "Projekte/2023": "Projekte.2023", "Sent": "Sent Items"}


def fill(client, per_folder: int) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(7)
    for folder in FOLDERS:
        if not client.folder_exists(folder):
            client.create_folder(folder)
        batch = []
        for n in range(per_folder):
            number = 10_000 * (FOLDERS.index(folder) + 1) + n
            batch.append(
                {
                    "msg": message(number, message_id=n % 7 != 0, size=rng.randint(500, 60_000)),
                    "flags": (b"\\Seen",) if n % 3 else (),
                    "date": WHEN,
                }
            )
            if n % 9 == 0:  # an identical twin now and then
                batch.append(dict(batch[-1]))
            if len(batch) >= 50:
                client.multiappend(folder, batch)
                batch = []
        if batch:
            client.multiappend(folder, batch)


def copied_so_far(ledger: Path) -> int:
    if not ledger.exists():
        return 0
    with contextlib.closing(sqlite3.connect(ledger, timeout=10)) as db:
        try:
            return db.execute(
                "SELECT COUNT(*) FROM copy_messages WHERE state = 'copied'"
            ).fetchone()[0]
        except sqlite3.OperationalError:  # killed before the tables were made
            return 0


def copy_command(dovecots, users, ledger: Path, dest: str = "") -> list[str]:  # type: ignore[no-untyped-def]
    src, dst = dovecots
    return [
        sys.executable,
        "-m",
        "wizard.cli",
        "copy",
        "--source",
        src.url(users[0]),
        "--dest",
        dest or dst.url(users[1]),
        "--ledger",
        str(ledger),
        "--json",
    ]


def kill_at_random_moments(
    command: list[str], env: dict[str, str], ledger: Path, total: int, seed: int, rounds: int = 4
) -> tuple[int, list[int]]:
    """Start ``command`` up to ``rounds`` times and SIGKILL it each time the ledger passes a
    random point, plus a random few milliseconds: lands in the middle of fetching, sending or
    recording a batch. Returns how many kills there were and the ledger's count after each."""
    rng = random.Random(int(os.environ.get("ONBOARD_KILL_SEED", str(seed))))
    kills = 0
    partial: list[int] = []
    for _ in range(rounds):
        # Somewhere in what is still to copy, short of the last batches (the ledger moves a batch
        # at a time, so a point near the end is passed only when all is copied).
        done, last = copied_so_far(ledger), total * 3 // 4
        if done >= last:
            break
        point = rng.randint(done + 1, last)
        proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            if copied_so_far(ledger) >= point:
                break
            time.sleep(0.01)
        time.sleep(rng.uniform(0, 0.05))
        if proc.poll() is not None:
            break
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills += 1
        partial.append(copied_so_far(ledger))
    return kills, partial


def test_kill_at_random_moments_then_rerun(dovecots, users, tmp_path: Path) -> None:
    src, dst = dovecots
    fill(src.client(users[0]), 400)
    total = sum(sum(bodies(src.client(users[0]), f).values()) for f in FOLDERS)
    env = {
        **os.environ,
        "ONBOARD_SOURCE_PASSWORD": src.password,
        "ONBOARD_DEST_PASSWORD": dst.password,
    }
    command = copy_command(dovecots, users, tmp_path / "ledger.onboard")
    kills, partial = kill_at_random_moments(command, env, tmp_path / "ledger.onboard", total, 1234)
    final = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert final.returncode == 0, final.stderr
    source, target = src.client(users[0]), dst.client(users[1])
    for folder in FOLDERS:
        theirs = bodies(source, folder)
        ours = bodies(target, TARGET[folder])
        assert sum(ours.values()) == sum(theirs.values()), folder
        assert ours == theirs, f"{folder}: missing or duplicated messages"
    assert kills >= 1, "the copy finished before any kill; make the mailbox larger"
    assert any(0 < n < total for n in partial), f"no kill hit the middle of the copy: {partial}"


def killed_with_a_batch_on_its_way(dovecots, users, ledger: Path):  # type: ignore[no-untyped-def]
    """Start a copy through a slow link (LaggingProxy) and kill it while its first batch is on
    its way: that batch lands about 3 s after the kill. Returns the command (through the same
    link), its environment and the proxy."""
    src, dst = dovecots
    fill(src.client(users[0]), 30)
    proxy = LaggingProxy((dst.host, dst.port), lag=3.0)
    env = {
        **os.environ,
        "ONBOARD_SOURCE_PASSWORD": src.password,
        "ONBOARD_DEST_PASSWORD": dst.password,
    }
    command = copy_command(
        dovecots, users, ledger, f"imap://{users[1]}@127.0.0.1:{proxy.port}?tls=none"
    )
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while proxy.held == 0 and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)  # the whole batch is with the link now
    assert first.poll() is None and proxy.held > 0, "the first batch never went out"
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert proxy.delivered == 0, "the batch landed before the kill; make the lag longer"
    return command, env, proxy


def test_a_batch_that_lands_after_its_sender_was_killed_is_not_copied_again(
    dovecots, users, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """The first batch is on its way to the target (a slow link) when the copy is killed; it
    lands seconds later. The rerun, started at once, must not take "not found yet" for "never
    arrived": it waits for what the killed run sent to land, then finds it there."""
    src, dst = dovecots
    command, env, proxy = killed_with_a_batch_on_its_way(dovecots, users, tmp_path / "l.onboard")
    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stderr
    proxy.drain()  # anything still on its way has arrived: nothing more can come
    source, target = src.client(users[0]), dst.client(users[1])
    for folder in FOLDERS:
        assert bodies(target, TARGET[folder]) == bodies(source, folder), folder
    # The operator is told why the rerun paused before it went on.
    assert "interrupted run sent" in second.stderr and "waiting" in second.stderr, second.stderr


def test_a_rerun_long_after_the_kill_does_not_wait(dovecots, users, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The same kill, the rerun a minute later (the ledger's rows and the dead copy's hold made
    older by a minute): it goes straight on, finds the batch that landed and sends the rest."""
    src, dst = dovecots
    ledger = tmp_path / "l.onboard"
    command, env, proxy = killed_with_a_batch_on_its_way(dovecots, users, ledger)
    proxy.drain()
    with contextlib.closing(sqlite3.connect(ledger)) as db, db:
        db.execute(
            "UPDATE copy_messages SET updated_at = "
            "strftime('%Y-%m-%dT%H:%M:%S+00:00', updated_at, '-60 seconds')"
        )
        db.execute("UPDATE copy_holds SET heartbeat = heartbeat - 60")
    rerun = copy_command(dovecots, users, ledger)  # the link is fine again
    started = time.monotonic()
    second = subprocess.run(rerun, env=env, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stderr
    assert "waiting" not in second.stderr, second.stderr
    assert time.monotonic() - started < 8, "the rerun waited"
    source, target = src.client(users[0]), dst.client(users[1])
    for folder in FOLDERS:
        assert bodies(target, TARGET[folder]) == bodies(source, folder), folder
    data = json.loads(second.stdout)
    assert data["mailboxes"][0]["already"] > 0  # the batch that landed, found, not sent again
