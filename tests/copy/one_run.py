"""One mailbox copied in this process by the engine, with the copy's log lines collected: for
tests that put something between the engine and a server (a slow proxy, a slow stand-in)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wizard.copy.engine import CopyEngine, CopySettings, MailboxJob
from wizard.copy.events import CopyLog
from wizard.copy.folder_map import PlanOptions
from wizard.copy.ledger import CopyLedger
from wizard.copy.outcome import MailboxResult
from wizard.copy.source import CopySource
from wizard.copy.target import TargetFactory
from wizard.profile import example_profile
from wizard.session import create_session
from wizard.store import SessionStore


def copy_one(
    mailbox: str,
    source: Callable[[], CopySource],
    target: TargetFactory,
    *,
    store: SessionStore | None = None,
    **settings: Any,
) -> tuple[MailboxResult, list[str]]:
    """Copy one mailbox into a new session (or into ``store``, left open for a rerun); its
    result and every log line of the copy."""
    logs: list[str] = []
    job = MailboxJob(mailbox=mailbox, source=source, target=target, options=PlanOptions())
    own = store is None
    if store is None:
        store = create_session("One run", "one-run.example", example_profile())
    engine = CopyEngine(
        CopyLedger(store),
        [job],
        CopySettings(**settings),
        sink=lambda e: logs.append(e.message) if isinstance(e, CopyLog) else None,
    )
    try:
        return engine.run().mailboxes[0], logs
    finally:
        if own:
            store.close()
