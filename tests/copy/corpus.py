"""A small deterministic mailbox for copy tests, and read-back helpers that compare both sides."""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone

from imapclient import IMAPClient

WHEN = datetime(2021, 3, 14, 9, 26, 53, tzinfo=timezone(timedelta(hours=1)))
NESTED = "Kunden/Müller & Söhne"
DEEP = "Projekte/2024/Q1"


def message(n: int, *, message_id: bool = True, size: int = 0, subject: str = "") -> bytes:
    head = [
        "From: Anna Alt <anna@old.example>",
        "To: Bert <bert@old.example>",
        f"Subject: {subject or f'Message {n}'}",
        f"Date: {(WHEN + timedelta(hours=n)).strftime('%a, %d %b %Y %H:%M:%S %z')}",
    ]
    if message_id:
        head.append(f"Message-ID: <msg-{n}@old.example>")
    head += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8"]
    body = f"Hello {n}, grüße.\r\n" + ("x" * 70 + "\r\n") * (size // 72)
    return ("\r\n".join(head) + "\r\n\r\n" + body).encode()


def populate(client: IMAPClient, *, oversize: int = 0) -> dict[str, int]:
    """Fill a source mailbox; returns how many messages each folder got."""
    for folder in ("Kunden", NESTED, "Projekte", "Projekte/2024", DEEP):
        if not client.folder_exists(folder):
            client.create_folder(folder)
    counts: dict[str, int] = {}

    def put(folder: str, raw: bytes, flags: tuple[bytes, ...] = (), hours: int = 0) -> None:
        client.append(folder, raw, flags=flags, msg_time=WHEN + timedelta(hours=hours))
        counts[folder] = counts.get(folder, 0) + 1

    for n in range(12):
        flags = ((b"\\Seen",) if n % 2 else ()) + ((b"\\Flagged", b"$Label1") if n % 5 == 0 else ())
        put("INBOX", message(n, message_id=n % 4 != 3, size=n * 900), flags, n)
    twin = message(100, subject="identical twin")
    put("INBOX", twin, (b"\\Seen",), 3)
    put("INBOX", twin, (b"\\Seen",), 3)
    for n in range(200, 205):
        put("Sent", message(n), (b"\\Seen", b"\\Answered"), n)
    for n in range(300, 306):
        put(NESTED, message(n, message_id=n != 301), (), n)
    for n in range(400, 403):
        put(DEEP, message(n), (b"\\Seen",), n)
    put("Drafts", message(500, message_id=False), (b"\\Draft",), 1)
    if oversize:
        put("INBOX", message(900, size=oversize, subject="too large"), (), 2)
    return counts


def snapshot(client: IMAPClient, folder: str) -> Counter[tuple[str, tuple[str, ...], float]]:
    """(sha256 of the raw bytes, flags, INTERNALDATE as UTC seconds) of every message."""
    client.normalise_times = False
    info = client.select_folder(folder, readonly=True)
    if not info.get(b"EXISTS"):
        return Counter()
    data = client.fetch(client.search("ALL"), ["BODY.PEEK[]", "FLAGS", "INTERNALDATE"])
    out: Counter[tuple[str, tuple[str, ...], float]] = Counter()
    for item in data.values():
        flags = tuple(
            sorted(f.decode() for f in item[b"FLAGS"] if f.decode().lower() != "\\recent")
        )
        when = item[b"INTERNALDATE"]
        stamp = when.astimezone(UTC).timestamp() if when.tzinfo else when.timestamp()
        out[(hashlib.sha256(item[b"BODY[]"]).hexdigest(), flags, stamp)] += 1
    return out


def bodies(client: IMAPClient, folder: str) -> Counter[str]:
    return Counter(sha for (sha, _f, _d), n in snapshot(client, folder).items() for _ in range(n))


def all_flags(client: IMAPClient) -> dict[tuple[str, int], tuple[bytes, ...]]:
    out: dict[tuple[str, int], tuple[bytes, ...]] = {}
    for _flags, _delim, name in client.list_folders():
        try:
            info = client.select_folder(name, readonly=True)
        except Exception:  # noqa: BLE001 - \\Noselect parents
            continue
        if info.get(b"EXISTS"):
            for uid, item in client.fetch(client.search("ALL"), ["FLAGS"]).items():
                out[(name, uid)] = tuple(sorted(item[b"FLAGS"]))
    return out
