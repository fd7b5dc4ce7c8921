"""How long a copy will take, from sizes measured on the source.

The estimate uses a conservative rate for one IMAP-to-EWS connection over the internet; a caller
that knows a measured rate passes it as ``measured`` ({"bytes_per_second": ..,
"messages_per_second": ..}) and that wins. The session keeps no measured rate (yet).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .formatting import format_bytes, format_duration

# One connection: ~1.5 MB/s of message data, and a floor of ~15 messages/s for small mail.
ASSUMED_BYTES_PER_SECOND = 1_500_000.0
ASSUMED_MESSAGES_PER_SECOND = 15.0
DEFAULT_CONCURRENCY = 4


@dataclass(frozen=True)
class CopyEstimate:
    seconds: float
    bytes_per_second: float
    messages_per_second: float
    concurrency: int
    measured: bool

    def describe(self) -> str:
        basis = "measured rate" if self.measured else "assumed rate"
        return (
            f"about {format_duration(self.seconds)} with {self.concurrency} mailboxes at once "
            f"({basis}: {format_bytes(self.bytes_per_second)}/s, "
            f"{self.messages_per_second:.0f} messages/s per connection)"
        )


def estimate_copy(
    mailbox_sizes: list[tuple[int, int]],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    measured: dict[str, Any] | None = None,
) -> CopyEstimate:
    """Estimate from (messages, bytes) per mailbox; the slowest lane decides."""
    bps = float((measured or {}).get("bytes_per_second") or ASSUMED_BYTES_PER_SECOND)
    mps = float((measured or {}).get("messages_per_second") or ASSUMED_MESSAGES_PER_SECOND)
    lanes = [0.0] * max(1, concurrency)
    per_mailbox = sorted(
        (max(size / bps, count / mps) for count, size in mailbox_sizes), reverse=True
    )
    for seconds in per_mailbox:  # longest first into the least loaded lane
        lanes[lanes.index(min(lanes))] += seconds
    return CopyEstimate(max(lanes), bps, mps, max(1, concurrency), measured is not None)
