"""Re-matching: pairing source messages with what the ledger or the target already knows.

Two cases, both without sending anything twice:

- ``find_on_target``: rows an interrupted run left "in flight" (or a batch cut off by a dropped
  connection) are looked up on the target; copies the ledger already gives to other messages are
  not handed out again, so identical twins in one folder are each found at most once.
- ``rematch_generation``: a source folder's UIDVALIDITY changed, so every UID is new; the old
  rows are paired with today's messages by Message-ID and size, or by content hash for messages
  without one, and moved to the new generation.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict, deque
from collections.abc import Callable, Iterator, Sequence

from .folder_map import FolderPlan
from .ledger import CopyLedger, MessageRecord, MessageState
from .source import FolderStatus, SourceMessage
from .target import CopyTarget, Probe
from .work import FolderWork, Todo


def find_on_target(
    target: CopyTarget,
    ledger: CopyLedger,
    mailbox: str,
    work: FolderWork,
    items: Sequence[tuple[Todo, str]],
) -> list[tuple[Todo, str]]:
    """Which of these (todo, sha256) are already in the target folder: [(todo, target id)]."""
    probes = [
        Probe(t.message.message_id, t.message.size, sha, t.message.internaldate) for t, sha in items
    ]
    matches = target.find(work.plan.target, probes)
    claimed: set[str] = set()
    unknown_claims: dict[tuple[str, int, str], int] = defaultdict(int)
    for row in ledger.messages(mailbox, states=[MessageState.COPIED]):
        if row.target_folder != work.plan.target:
            continue
        if row.target_id:
            claimed.add(row.target_id)
        else:
            unknown_claims[_key(row.message_id, row.size, row.sha256)] += 1
    found: list[tuple[Todo, str]] = []
    for (todo, sha), ids in zip(items, matches, strict=True):
        free = [i for i in ids if i not in claimed]
        key = _key(todo.message.message_id, todo.message.size, sha)
        while free and unknown_claims.get(key, 0) > 0:
            free.pop(0)
            unknown_claims[key] -= 1
        if free:
            claimed.add(free[0])
            found.append((todo, free[0]))
    return found


def rematch_generation(
    ledger: CopyLedger,
    mailbox: str,
    folder: FolderPlan,
    status: FolderStatus,
    listing: list[SourceMessage],
    fetch: Callable[[list[int]], dict[int, bytes]],
    chunk: int,
) -> list[str]:
    """Pair rows of earlier UIDVALIDITY generations with today's messages; returns log lines."""
    rows = ledger.store.query(
        "SELECT DISTINCT uidvalidity FROM copy_messages WHERE mailbox = ? AND "
        "source_folder = ? AND uidvalidity != ?",
        (mailbox, folder.source, status.uidvalidity),
    )
    lines: list[str] = []
    for row in rows:
        old_validity = int(row["uidvalidity"])
        old = ledger.messages(mailbox, folder.source, uidvalidity=old_validity)
        taken = {
            r.uid for r in ledger.messages(mailbox, folder.source, uidvalidity=status.uidvalidity)
        }
        by_id: dict[tuple[str, int], deque[MessageRecord]] = defaultdict(deque)
        by_hash: dict[str, deque[MessageRecord]] = defaultdict(deque)
        for r in sorted(old, key=lambda r: (r.state is not MessageState.COPIED, r.uid)):
            if r.message_id:
                by_id[(r.message_id, r.size)].append(r)
            elif r.sha256:
                by_hash[r.sha256].append(r)
        moves: dict[int, tuple[int, int]] = {}
        unmatched: list[SourceMessage] = []
        for msg in listing:
            if msg.uid in taken:
                continue
            queue_ = by_id.get((msg.message_id, msg.size)) if msg.message_id else None
            if queue_:
                moves[queue_.popleft().uid] = (status.uidvalidity, msg.uid)
            elif not msg.message_id:
                unmatched.append(msg)
        sizes = {r.size for q in by_hash.values() for r in q}
        candidates = [m for m in unmatched if m.size in sizes]
        for part in _chunks(candidates, chunk):
            bodies = fetch([m.uid for m in part])
            for msg in part:
                raw = bodies.get(msg.uid)
                if raw is None:
                    continue
                queue_ = by_hash.get(hashlib.sha256(raw).hexdigest())
                if queue_:
                    moves[queue_.popleft().uid] = (status.uidvalidity, msg.uid)
        ledger.move_generation(mailbox, folder.source, old_validity, moves)
        lines.append(
            f"{folder.source}: UIDVALIDITY changed ({old_validity} → {status.uidvalidity}); "
            f"{len(moves)} of {len(old)} earlier messages re-matched by Message-ID or content"
        )
    return lines


def _key(message_id: str, size: int, sha256: str) -> tuple[str, int, str]:
    return (message_id, size, "") if message_id else ("", size, sha256)


def _chunks(items: Sequence[SourceMessage], size: int) -> Iterator[Sequence[SourceMessage]]:
    for start in range(0, len(items), max(1, size)):
        yield items[start : start + size]


__all__ = ["find_on_target", "rematch_generation"]
