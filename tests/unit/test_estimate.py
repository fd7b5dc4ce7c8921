from __future__ import annotations

from wizard.estimate import estimate_copy
from wizard.formatting import format_bytes, format_duration


def test_slowest_lane_decides_and_measured_rate_wins() -> None:
    sizes = [(1000, 3_000_000_000), (100, 1_500_000), (100, 1_500_000)]
    assumed = estimate_copy(sizes, concurrency=2)
    assert round(assumed.seconds) == 2000  # the 3 GB mailbox alone at 1.5 MB/s
    assert "assumed rate" in assumed.describe() and "33 min" in assumed.describe()
    measured = estimate_copy(sizes, concurrency=2, measured={"bytes_per_second": 3_000_000})
    assert round(measured.seconds) == 1000 and measured.measured


def test_many_small_messages_are_bound_by_message_rate() -> None:
    estimate = estimate_copy([(15_000, 15_000_000)], concurrency=1)
    assert round(estimate.seconds) == 1000


def test_formats() -> None:
    assert format_duration(59) == "59 s"
    assert format_duration(3 * 3600 + 5 * 60) == "3 h 05 min"
    assert format_duration(3 * 86400) == "3 days 0 h"
    assert format_bytes(512) == "512 B" and format_bytes(2_621_440) == "2.5 MiB"
    assert format_duration(None) == "--"  # an ETA before anything was measured
    assert format_bytes(1_500_000) == "1.4 MiB"  # IEC: steps of 1024, never a 1000-based "MB"
    assert format_bytes(3 * 1024**3) == "3.0 GiB" and format_bytes(5 * 1024**4) == "5.0 TiB"
