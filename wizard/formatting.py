"""How sizes, durations, times and counts read to the operator, in the CLI, the screens and the
report alike (JSON keeps raw numbers and ISO 8601 times).

Sizes are IEC, in steps of 1024 (``2.5 MiB``), so no two places disagree on what a "KB" is;
durations drop the detail that stops mattering as they grow (``45 s``, ``12 min``, ``3 h 05 min``,
``3 days 4 h``); times are the operator's local time in words (``1 Dec 2026, 14:05``); a table in
the terminal is plain columns (``text_table``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

UNKNOWN = "--"  # a duration nobody can tell yet (an ETA before the first batch)


def now_iso() -> str:
    """Now as the session file, evidence and JSON keep times: UTC ISO 8601, whole seconds."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def epoch_of(stamp: str) -> float | None:
    """A stamp ``now_iso`` wrote as seconds since the epoch; None for text that is not one."""
    try:
        return datetime.fromisoformat(stamp).timestamp()
    except ValueError:
        return None


def format_bytes(count: float) -> str:
    """``512 B``, ``2.5 MiB``, ``3.0 GiB`` (never above TiB)."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(count) < 1024:
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} TiB"


def format_duration(seconds: float | None) -> str:
    """``59 s``, ``33 min``, ``3 h 05 min``, ``3 days 0 h``; ``--`` when not known."""
    if seconds is None:
        return UNKNOWN
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, _ = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} days {hours} h"


def format_time(stamp: str, *, with_time: bool = True) -> str:
    """An ISO 8601 stamp as the operator's local time, ``1 Dec 2026, 14:05``; a bare date
    (``2026-12-14``) stays a date; text that is not a stamp comes back as it was."""
    if not stamp:
        return ""
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    if len(stamp) == 10:  # a day, not a moment
        return f"{moment.day} {moment:%b %Y}"
    if moment.tzinfo is not None:
        moment = moment.astimezone()  # stored times are UTC; the operator reads local time
    day = f"{moment.day} {moment:%b %Y}"
    return f"{day}, {moment:%H:%M}" if with_time else day


def plural(count: int, word: str, words: str | None = None) -> str:
    """``1 message``, ``2 messages``, ``1 mailbox``, ``3 mailboxes``, ``2 entries``."""
    if count == 1:
        return f"{count} {word}"
    if words is None:
        if word.endswith(("s", "x", "ch", "sh")):
            words = word + "es"
        elif word.endswith("y") and word[-2:-1] not in "aeiou":
            words = word[:-1] + "ies"
        else:
            words = word + "s"
    return f"{count} {words}"


def text_table(rows: Sequence[Sequence[str]]) -> str:
    """Rows (the first one the header) as plain-text columns two spaces apart, one line each."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))] if rows else []
    return "".join(
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() + "\n"
        for row in rows
    )


__all__ = [
    "UNKNOWN",
    "epoch_of",
    "format_bytes",
    "format_duration",
    "format_time",
    "now_iso",
    "plural",
    "text_table",
]
