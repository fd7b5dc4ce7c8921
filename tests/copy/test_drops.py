"""Connections to the target cut in the middle of uploads: retried, looked up, nothing lost."""

from __future__ import annotations

import pytest

from wizard.copy.connect import imap_client, source_factory, target_factory
from wizard.copy.engine import CopyEngine, CopySettings, MailboxJob
from wizard.copy.folder_map import PlanOptions
from wizard.copy.ledger import CopyLedger
from wizard.copy.target import ImapTarget
from wizard.endpoint import parse_endpoint
from wizard.profile import example_profile
from wizard.session import create_session

from .corpus import WHEN, bodies, message
from .one_run import copy_one
from .proxy import DroppingProxy, LaggingProxy


@pytest.mark.parametrize("side", ["target", "source"])
def test_dropped_connections_lose_and_duplicate_nothing(dovecots, users, side: str) -> None:
    src, dst = dovecots
    source = src.client(users[0])
    for start in range(0, 200, 40):
        source.multiappend(
            "INBOX",
            [
                {"msg": message(n, message_id=n % 6 != 0, size=3000 + 97 * n), "date": WHEN}
                for n in range(start, start + 40)
            ],
        )
    upstream = dst if side == "target" else src
    proxy = DroppingProxy(
        (upstream.host, upstream.port),
        low=20_000,
        high=200_000,
        drops=6,
        direction="up" if side == "target" else "down",
    )
    source_url, target_url = src.url(users[0]), dst.url(users[1])
    via_proxy = f"127.0.0.1:{proxy.port}"
    if side == "target":
        target_url = target_url.replace(f"{dst.host}:{dst.port}", via_proxy)
    else:
        source_url = source_url.replace(f"{src.host}:{src.port}", via_proxy)
    try:
        job = MailboxJob(
            mailbox="drops@new.example",
            source=source_factory(parse_endpoint(source_url), src.password),
            target=target_factory(parse_endpoint(target_url), dst.password),
            options=PlanOptions(),
        )
        store = create_session("Drops", "drops.example", example_profile())
        engine = CopyEngine(
            CopyLedger(store),
            [job],
            CopySettings(batch_messages=16, backoff_initial=0.05, retries=8),
        )
        result = engine.run().mailboxes[0]
    finally:
        proxy.close()
    assert proxy.dropped >= 3, "the proxy should have cut several connections"
    assert result.failed == 0, result.error
    assert bodies(dst.client(users[1]), "INBOX") == bodies(source, "INBOX")
    store.close()


def test_a_batch_the_target_did_not_answer_in_time_is_not_sent_twice(dovecots, users) -> None:  # type: ignore[no-untyped-def]
    """The first batch reaches the target 3 s late (a slow link), after the copy's 1 s timeout:
    the copy reconnects and finds nothing yet. It must not send the batch again at once (the
    server was still going to store it): it waits, looks again, finds it, and goes on."""
    src, dst = dovecots
    source = src.client(users[0])
    source.multiappend(
        "INBOX",
        [
            {"msg": message(n, message_id=n % 6 != 0, size=3000 + 97 * n), "date": WHEN}
            for n in range(40)
        ],
    )
    proxy = LaggingProxy((dst.host, dst.port), lag=3.0, connections=1)
    target = parse_endpoint(
        dst.url(users[1]).replace(f"{dst.host}:{dst.port}", f"127.0.0.1:{proxy.port}")
    )

    def slow_target(_sink):  # type: ignore[no-untyped-def]
        client = imap_client(target, dst.password, timeout=1.0, side="target")
        return ImapTarget(client, target.host)

    try:
        result, logs = copy_one(
            "late@new.example",
            source_factory(parse_endpoint(src.url(users[0])), src.password),
            slow_target,
            backoff_initial=0.05,
        )
        proxy.drain()  # what was held back has arrived: nothing more can come
    finally:
        proxy.close()
    assert proxy.delivered > 0, "the first batch was never held back"
    assert result.failed == 0, result.error
    assert bodies(dst.client(users[1]), "INBOX") == bodies(source, "INBOX")
    assert any("did not answer in time" in line for line in logs), logs
