"""What `onboard --demo` does: start the demo servers, open the demo session, run the app, stop.

The servers stop when the app ends, however it ends (quit, an exception, Ctrl+C). The demo
Exchange keeps what it received in ``<data dir>/demo/ews`` so a later `onboard --demo` resumes
the same demo session with its copied mail.
"""

from __future__ import annotations

import shutil
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ...cliutil import Exit, fail
from ...session import data_dir, session_path
from ...store import SessionLocked
from .dns_server import PropagationPlan
from .imap_server import DemoServerError
from .servers import DemoServers
from .session import DEMO_SESSION_NAME, DemoSessions, NotADemoSession, open_demo_session


def demo_state_dir() -> Path:
    return data_dir() / "demo"


def _exit_on_sigterm() -> Any:
    """A SIGTERM (a closed terminal, `kill`) ends the demo like Ctrl+Q: servers stopped, saved."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def leave(_signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signal.SIGTERM)

    return signal.signal(signal.SIGTERM, leave)


def run_demo(
    run_app: Callable[..., int],
    *,
    name: str = DEMO_SESSION_NAME,
    state_dir: Path | None = None,
    plan: PropagationPlan | None = None,
    quiet: bool = False,
) -> int:
    """Run ``run_app(store=..., demo=True)`` with the demo servers up; returns its exit code."""
    if not quiet:
        print("Starting the demo servers on 127.0.0.1 (IMAP, Exchange, DNS)…", file=sys.stderr)
    state_dir = state_dir or demo_state_dir()
    if not session_path(name).exists():
        # A new demo session starts with an empty demo Exchange, not one holding an old copy.
        shutil.rmtree(state_dir, ignore_errors=True)
    try:
        servers = DemoServers(state_dir=state_dir, plan=plan).start()
    except DemoServerError as exc:
        fail(str(exc), Exit.UNREACHABLE)
    previous = _exit_on_sigterm()
    try:
        try:
            store = open_demo_session(servers, name=name)
        except SessionLocked as exc:
            fail(str(exc), Exit.LOCKED)
        except NotADemoSession as exc:
            fail(str(exc), Exit.USAGE)
        sessions = DemoSessions(servers, first=store, name=name)
        try:
            return run_app(
                store=store,
                demo=True,
                session_opened=sessions.opened,
                new_demo_session=sessions.start_over,
            )
        finally:
            sessions.stop()
            if not store.closed:
                store.close()
    finally:
        servers.stop()  # also saves what the demo Exchange received
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if not quiet:
            kept = (
                f" The demo session is kept: `onboard --demo` goes on with it, "
                f"`onboard delete {name}` removes it."
                if session_path(name).exists()
                else ""
            )
            print(f"Demo servers stopped.{kept}", file=sys.stderr)
