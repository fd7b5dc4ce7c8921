"""Stopping a daemon the tests started, quickly.

Dovecot's master, sent SIGTERM, waits seconds for its login, log and config processes before it
exits (about 3 s each here, most of a test run's teardown). The tests need neither a graceful end
nor the servers' state afterwards: the master has a moment to end cleanly, then it and every
process below it are killed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children, their children ...), read from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after it.
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1:
            parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in parents.get(todo.pop(), ()):
            found.append(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"  # a zombie has ended


def stop_tree(pid: int, grace: float = 0.3, timeout: float = 10.0) -> None:
    """SIGTERM to ``pid``; after ``grace`` seconds SIGKILL to it and everything below it."""
    below = descendants(pid)
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    for process in [pid, *below, *descendants(pid)]:
        with contextlib.suppress(OSError):
            os.kill(process, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while any(alive(p) for p in [pid, *below]) and time.monotonic() < deadline:
        time.sleep(0.02)


def stop_dovecot(directory: Path) -> None:
    """Stop the Dovecot whose base_dir is ``directory``/run (nothing if it is not running)."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        stop_tree(int((directory / "run" / "master.pid").read_text().split()[0]))
