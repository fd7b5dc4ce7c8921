"""Step 12's propagation watch in the App: rounds on an App timer, pause, refresh now, interval
changes, a failed round, and a stop that waits for no slow round."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from screens.app import OnboardApp
from screens.messages import PollResult
from screens.propagation_service import PropagationWatch
from wizard.profile import example_profile
from wizard.session import create_session
from wizard.store import SessionStore

from .pilot_helpers import wait_until

SIZE = (120, 40)


class Counter:
    def __init__(self) -> None:
        self.calls = 0
        self.lock = threading.Lock()

    def __call__(self) -> int:
        with self.lock:
            self.calls += 1
            return self.calls


@pytest.fixture
def store() -> Iterator[SessionStore]:
    s = create_session("Watch Test", "watch.example", example_profile())
    yield s
    s.close()


def watch_of(
    app: OnboardApp, check: Callable[[], object], rounds: list[PollResult]
) -> PropagationWatch:
    watch = app.propagation
    watch.follow(check, 30)
    watch.rounds.subscribe(app, rounds.append)  # as step 12 subscribes while it is shown
    return watch


async def test_rounds_on_the_app_timer_reach_subscribers_until_stopped(store) -> None:
    check, rounds = Counter(), []
    app = OnboardApp(store=store)
    async with app.run_test(size=SIZE) as pilot:
        watch = watch_of(app, check, rounds)
        watch.set_interval(0.05)  # clamped: never faster than once a second
        assert watch.interval == 1.0
        watch.interval = 0.05  # tests may poll faster than an operator can choose
        watch.start()
        await wait_until(pilot, lambda: len(rounds) >= 3, what="for three rounds")
        assert [r.round for r in rounds[:3]] == [1, 2, 3]
        assert [r.matrix for r in rounds[:3]] == [1, 2, 3]
        assert watch.latest is rounds[-1]
        assert watch.watching and not watch.running  # quitting never asks about it
        watch.shutdown()
        assert not watch.watching and watch.next_at is None
        begun, published = watch.rounds_begun, len(rounds)
        await pilot.pause(0.3)
        # No timer, so no new round; one the timer began just before the stop may still have
        # asked its check (a DNS query cannot be called back), but its answer is dropped.
        assert watch.rounds_begun == begun
        assert check.calls <= begun
        assert len(rounds) == published


async def test_pause_stops_rounds_until_resumed_or_asked(store) -> None:
    check, rounds = Counter(), []
    app = OnboardApp(store=store)
    async with app.run_test(size=SIZE) as pilot:
        watch = watch_of(app, check, rounds)
        watch.interval = 0.05
        watch.start()
        await wait_until(pilot, lambda: len(rounds) >= 1, what="for a first round")
        watch.pause()
        paused_at = watch.rounds_begun  # a round in flight may still finish
        await pilot.pause(0.3)
        assert watch.rounds_begun == paused_at
        assert check.calls == paused_at
        assert watch.next_at is None

        watch.refresh_now()  # one round while paused
        await wait_until(pilot, lambda: check.calls == paused_at + 1)
        await pilot.pause(0.2)
        assert watch.rounds_begun == check.calls == paused_at + 1 and watch.paused

        watch.resume()
        await wait_until(pilot, lambda: check.calls >= paused_at + 3, what="for rounds again")
        watch.shutdown()


async def test_a_longer_interval_waits_and_a_failed_round_is_shown(store) -> None:
    calls: list[float] = []
    rounds: list[PollResult] = []

    def check() -> str:
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise OSError("network is unreachable")
        return "matrix"

    app = OnboardApp(store=store)
    async with app.run_test(size=SIZE) as pilot:
        watch = watch_of(app, check, rounds)
        watch.set_interval(60)
        watch.start()
        await wait_until(pilot, lambda: len(rounds) == 1, what="for the first round")
        assert rounds[0].error == "network is unreachable" and rounds[0].matrix is None
        await pilot.pause(0.3)
        assert len(calls) == 1  # the next round is a minute away
        watch.set_interval(1)  # the next round is now due a second from now
        await wait_until(pilot, lambda: len(rounds) == 2, timeout=5, what="for round two")
        assert rounds[1].matrix == "matrix" and not rounds[1].error
        watch.shutdown()


async def test_a_stop_waits_for_no_slow_round_and_a_restart_is_clean(store) -> None:
    release, started = threading.Event(), threading.Event()
    rounds: list[PollResult] = []

    def slow() -> str:
        started.set()
        release.wait(5)
        return "late"

    app = OnboardApp(store=store)
    async with app.run_test(size=SIZE) as pilot:
        watch = watch_of(app, slow, rounds)
        watch.set_interval(60)
        watch.start()
        await wait_until(pilot, started.is_set, what="for the slow round to start")
        began = time.monotonic()
        watch.shutdown()
        assert time.monotonic() - began < 0.5
        assert not watch.watching
        release.set()
        await pilot.pause(0.3)
        assert rounds == []  # the round left over after the stop publishes nothing

        watch.follow(lambda: "fresh", 30)
        watch.start()
        await wait_until(pilot, lambda: len(rounds) == 1, what="for the fresh round")
        assert rounds[0].matrix == "fresh"
        watch.shutdown()
