"""A copy holds no more message bytes than its memory budget: what bounds its peak RSS."""

from __future__ import annotations

import tracemalloc

from wizard.copy.connect import source_factory, target_factory
from wizard.copy.engine import CopyEngine, CopySettings, MailboxJob
from wizard.copy.ledger import CopyLedger
from wizard.endpoint import parse_endpoint
from wizard.profile import example_profile
from wizard.session import create_session

from .corpus import bodies, message

KIB = 1024


def test_mailboxes_sharing_a_budget_hold_no_more_bytes_than_it(dovecots, users) -> None:  # type: ignore[no-untyped-def]
    """Four mailboxes of eight 600 KB messages, one message a batch, a budget of 2 MiB for all:
    three messages in memory at once. Each mailbox's threads used to keep a batch it was done
    with until the next came (the mailbox thread while it waited for one, the fetch thread until
    it had read one), so mailboxes waiting their turn held up to two messages each beyond it."""
    src, dst = dovecots
    names = [(f"{users[0]}m{n}", f"{users[1]}m{n}") for n in range(4)]
    for source_user, _ in names:
        client = src.client(source_user)
        for n in range(8):
            client.append("INBOX", message(n, size=600 * KIB))
    store = create_session("Budget", "budget.example", example_profile())
    jobs = [
        MailboxJob(
            mailbox=f"{target_user}@new.example",
            source=source_factory(parse_endpoint(src.url(source_user)), src.password),
            target=target_factory(parse_endpoint(dst.url(target_user)), dst.password),
        )
        for source_user, target_user in names
    ]
    settings = CopySettings(batch_bytes=1024 * KIB, memory_budget=2048 * KIB, concurrency=4)
    engine = CopyEngine(CopyLedger(store), jobs, settings)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        result = engine.run()
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
        store.close()
    assert result.ok and result.copied == 32, result
    for source_user, target_user in names:
        assert bodies(dst.client(target_user), "INBOX") == bodies(src.client(source_user), "INBOX")
    assert engine.budget.peak <= settings.memory_budget  # by its own count
    assert peak < settings.memory_budget + 600 * KIB, f"{peak / KIB:.0f} KiB at the peak"
