"""Read-only access to a folder: EXAMINE, UID lists and UID FETCH of BODY.PEEK[] in batches.

Nothing here can change the source: folders are opened with EXAMINE (read-only) and bodies are
fetched with BODY.PEEK, which does not set \\Seen.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from imapclient import IMAPClient

FETCH_ITEMS = [b"BODY.PEEK[]", b"FLAGS", b"INTERNALDATE", b"RFC822.SIZE"]
DEFAULT_BATCH = 100
DEFAULT_BATCH_BYTES = 16_000_000


@dataclass(frozen=True)
class FolderState:
    name: str
    uidvalidity: int
    exists: int
    uidnext: int


@dataclass(frozen=True)
class FetchedMessage:
    uid: int
    raw: bytes  # the message exactly as the server holds it
    flags: tuple[str, ...]  # without \Recent, which belongs to the session
    internaldate: dt.datetime
    size: int


def _int(value: object) -> int:
    if isinstance(value, (list, tuple)):
        value = value[0] if value else 0
    return int(value or 0)  # type: ignore[call-overload]


def examine(client: IMAPClient, folder: str) -> FolderState:
    """Open a folder read-only (EXAMINE) and return its UIDVALIDITY, size and UIDNEXT."""
    info = client.select_folder(folder, readonly=True)
    return FolderState(
        folder,
        _int(info.get(b"UIDVALIDITY")),
        _int(info.get(b"EXISTS")),
        _int(info.get(b"UIDNEXT")),
    )


def list_uids(client: IMAPClient) -> list[int]:
    """UIDs of the examined folder, ascending."""
    return sorted(int(u) for u in client.search("ALL"))


def message_sizes(
    client: IMAPClient, uids: Sequence[int] | None = None, batch: int = 1000
) -> dict[int, int]:
    """RFC822.SIZE per UID of the examined folder, fetched in batches."""
    uids = list_uids(client) if uids is None else list(uids)
    sizes: dict[int, int] = {}
    for start in range(0, len(uids), batch):
        part = uids[start : start + batch]
        for uid, row in client.fetch(part, [b"RFC822.SIZE"]).items():
            sizes[int(uid)] = int(row[b"RFC822.SIZE"])
    return sizes


def _flags(values: Sequence[bytes | str]) -> tuple[str, ...]:
    out = []
    for value in values:
        text = value.decode() if isinstance(value, bytes) else value
        if text.lower() != "\\recent":
            out.append(text)
    return tuple(out)


def fetch_messages(
    client: IMAPClient,
    uids: Sequence[int],
    *,
    batch: int = DEFAULT_BATCH,
    sizes: dict[int, int] | None = None,
    batch_bytes: int = DEFAULT_BATCH_BYTES,
) -> Iterator[FetchedMessage]:
    """Yield messages of the examined folder in UID order, one UID FETCH per batch. With
    ``sizes`` a batch also stops at ``batch_bytes``, so big messages come a few at a time."""
    pending = list(uids)
    while pending:
        part: list[int] = []
        total = 0
        for uid in pending:
            size = (sizes or {}).get(uid, 0)
            if part and (len(part) >= batch or total + size > batch_bytes):
                break
            part.append(uid)
            total += size
        pending = pending[len(part) :]
        rows = client.fetch(part, FETCH_ITEMS)
        for uid in part:
            row = rows.get(uid)
            if row is None or b"BODY[]" not in row:
                continue  # expunged meanwhile
            raw = bytes(row[b"BODY[]"])
            yield FetchedMessage(
                uid=uid,
                raw=raw,
                flags=_flags(row.get(b"FLAGS", ())),
                internaldate=row[b"INTERNALDATE"],
                size=int(row.get(b"RFC822.SIZE", len(raw))),
            )
