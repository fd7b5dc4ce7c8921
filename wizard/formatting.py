"""How sizes and durations read to the operator, in the CLI, the screens and the report alike.

Sizes step by 1000 (``2.5 MB`` is 2,500,000 bytes); durations drop the detail that stops mattering
as they grow (``45 s``, ``12 min``, ``3 h 05 min``, ``3 days 4 h``).
"""

from __future__ import annotations

UNKNOWN = "--"  # a duration nobody can tell yet (an ETA before the first batch)


def format_bytes(count: float) -> str:
    """``512 B``, ``2.5 MB``, ``3.0 GB`` (never above GB: ``1200.0 GB``)."""
    for unit in ("B", "KB", "MB", "GB"):
        if abs(count) < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} TB"


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


__all__ = ["UNKNOWN", "format_bytes", "format_duration"]
