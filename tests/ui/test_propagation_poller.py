"""The step 12 poller alone: rounds on a timer, pause, refresh now, interval changes, stop."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from screens.propagation_service import PollResult, PropagationPoller


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError("condition not met in time")


class Counter:
    def __init__(self) -> None:
        self.calls = 0
        self.lock = threading.Lock()

    def __call__(self) -> int:
        with self.lock:
            self.calls += 1
            return self.calls


@pytest.fixture
def rounds() -> list[PollResult]:
    return []


def test_polls_on_its_own_and_tells_listeners(rounds: list[PollResult]) -> None:
    check = Counter()
    poller = PropagationPoller(check, interval=1)
    poller.set_interval(0.05)  # clamped: never faster than once a second
    assert poller.interval == 1.0
    poller.interval = 0.05  # tests may poll faster than an operator can choose
    unsubscribe = poller.subscribe(rounds.append)
    poller.start()
    try:
        wait_for(lambda: len(rounds) >= 3)
        assert [r.matrix for r in rounds[:3]] == [1, 2, 3]
        assert poller.watching and not poller.running  # quitting never asks about it
        unsubscribe()
        seen = len(rounds)
        wait_for(lambda: check.calls >= seen + 2)
        assert len(rounds) == seen  # an unsubscribed listener hears nothing more
    finally:
        poller.shutdown()
    assert not poller.watching


def test_pause_stops_rounds_until_resumed_or_asked(rounds: list[PollResult]) -> None:
    check = Counter()
    poller = PropagationPoller(check, interval=0.05)
    poller.subscribe(rounds.append)
    poller.start()
    try:
        wait_for(lambda: len(rounds) >= 1)
        poller.pause()
        time.sleep(0.1)  # a round in flight may still finish
        paused_at = check.calls
        time.sleep(0.3)
        assert check.calls == paused_at
        assert poller.next_at is None

        poller.refresh_now()  # one round while paused
        wait_for(lambda: check.calls == paused_at + 1)
        time.sleep(0.2)
        assert check.calls == paused_at + 1

        poller.resume()
        wait_for(lambda: check.calls >= paused_at + 3)
    finally:
        poller.shutdown()


def test_a_longer_interval_waits_and_a_failed_round_is_reported(
    rounds: list[PollResult],
) -> None:
    calls: list[float] = []

    def check() -> str:
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise OSError("network is unreachable")
        return "matrix"

    poller = PropagationPoller(check, interval=60)
    poller.subscribe(rounds.append)
    poller.start()
    try:
        wait_for(lambda: len(rounds) == 1)
        assert rounds[0].error == "network is unreachable" and rounds[0].matrix is None
        time.sleep(0.2)
        assert len(calls) == 1  # the next round is a minute away
        poller.set_interval(1)  # the next round is now due 1 s after the last one
        wait_for(lambda: len(rounds) == 2, timeout=3)
        assert rounds[1].matrix == "matrix" and not rounds[1].error
    finally:
        poller.shutdown()


def test_shutdown_does_not_wait_for_a_slow_round_and_a_restart_is_clean(
    rounds: list[PollResult],
) -> None:
    release = threading.Event()
    started = threading.Event()

    def slow() -> str:
        started.set()
        release.wait(5)
        return "late"

    poller = PropagationPoller(slow, interval=60)
    poller.subscribe(rounds.append)
    poller.start()
    started.wait(2)
    began = time.monotonic()
    poller.shutdown()
    assert time.monotonic() - began < 1.5
    assert not poller.watching
    release.set()
    time.sleep(0.1)
    assert rounds == []  # the round left over after the stop publishes nothing

    poller.check = lambda: "fresh"
    poller.start()
    try:
        wait_for(lambda: len(rounds) == 1)
        assert rounds[0].matrix == "fresh"
    finally:
        poller.shutdown()
