"""Step 12's propagation watch, owned by the App: an App timer that starts a round in a worker.

The App keeps one ``PropagationWatch`` per open session, so the matrix keeps refreshing while the
operator works on other steps, and step 12 shows the newest round the moment it opens again. The
rhythm is an App timer (``set_interval``); each round runs ``check()`` (a function returning the
newest matrix) in a thread worker of the App (group "propagation", exclusive: a newer round
replaces one still asking slow servers, whose answer is then dropped). A round posts
``PropagationRound`` to the App, which records it here and hands it to ``rounds``, the signal step
12 subscribes to. ``shutdown`` stops the timer and drops any round in flight without waiting for
DNS. Stopping loses nothing, so ``running`` is False: quitting never asks about it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from textual.app import App
from textual.signal import Signal
from textual.timer import Timer
from textual.worker import NoActiveWorker, Worker, get_current_worker

from .messages import PollResult, PropagationRound

INTERVALS = (2, 5, 10, 15, 30, 60, 120, 300)  # seconds the operator can step through
DEFAULT_INTERVAL = 30
GROUP = "propagation"  # the App's worker group of the rounds


def no_check() -> Any:
    raise RuntimeError("step 12 has not said what to check yet")


def round_cancelled() -> bool:
    """Whether the round asking now was called off (a check's ``cancelled``, asked from the
    round's worker thread): a stop or a quit then never waits for a silent DNS server."""
    try:
        return get_current_worker().is_cancelled
    except NoActiveWorker:
        return False


class PropagationWatch:
    """Starts a round every ``interval`` seconds on an App timer; pausable, and asked at once on
    demand (``refresh_now``)."""

    def __init__(self, app: App[object], interval: float = DEFAULT_INTERVAL) -> None:
        self.app = app
        self.check: Callable[[], Any] = no_check
        self.interval = float(interval)
        self.latest: PollResult | None = None
        self.paused = False
        self.next_at: float | None = None
        self.rounds: Signal[PollResult] = Signal(app, "propagation-rounds")
        self._timer: Timer | None = None
        self._rounds = 0
        self._last_at = 0.0  # time.time() when the last round started
        self._in_flight: Worker[None] | None = None
        self._configured = False

    def follow(self, check: Callable[[], Any], interval: float) -> None:
        """What to check (it follows the session); the interval is taken the first time only,
        as the operator may have changed it since."""
        self.check = check
        if not self._configured:
            self._configured = True
            self.interval = float(interval)

    # ----- SessionService ----------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Nothing is lost by stopping the watch, so quitting never asks about it."""
        return False

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop watching; a round still in flight is cancelled and publishes nothing."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self.next_at = None
        self.app.workers.cancel_group(self.app, GROUP)

    # ----- state and steering (the UI thread) -------------------------------------------------

    @property
    def watching(self) -> bool:
        return self._timer is not None

    @property
    def rounds_begun(self) -> int:
        """Rounds started so far, a round still in flight included."""
        return self._rounds

    def start(self) -> None:
        """Start watching with a first round at once (just that round if it watches already)."""
        if not self.watching:
            self._new_timer()
        self.refresh_now()

    def set_interval(self, seconds: float) -> None:
        """A new rhythm, timed from now."""
        self.interval = max(1.0, float(seconds))
        if self.watching:
            self._new_timer()
            self._plan_next()

    def pause(self) -> None:
        self.paused = True
        if self._timer is not None:
            self._timer.pause()
        self.next_at = None

    def resume(self) -> None:
        self.paused = False
        if self._timer is not None:
            self._timer.reset()  # resumes too, timed from now
            if time.time() >= self._last_at + self.interval:
                self._round()  # overdue while paused: ask now
            else:
                self._plan_next()

    def refresh_now(self) -> None:
        """A round at once (also while paused), then on at the interval."""
        if self._timer is not None and not self.paused:
            self._timer.reset()
        self._round()

    def _new_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.app.set_interval(
            self.interval, self._due, name="propagation", pause=self.paused
        )

    def _due(self) -> None:
        # Slow servers: the timer waits for the round in flight rather than cancel it.
        if self._in_flight is None or self._in_flight.is_finished:
            self._round()
        else:
            self._plan_next()

    def _plan_next(self) -> None:
        self.next_at = None if self.paused or not self.watching else time.time() + self.interval

    def _round(self) -> None:
        self._rounds += 1
        number, check = self._rounds, self.check
        self._last_at = time.time()
        self._plan_next()

        def work() -> None:
            try:
                result = PollResult(number, time.time(), matrix=check())
            except Exception as exc:  # a broken round is shown, and the next one tries again
                result = PollResult(number, time.time(), error=str(exc) or type(exc).__name__)
            if not get_current_worker().is_cancelled:
                self.app.post_message(PropagationRound(result))

        # Exclusive: a round asked for now replaces one still in flight, whose answer is dropped.
        self._in_flight = self.app.run_worker(
            work,
            name="propagation round",
            group=GROUP,
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    # ----- rounds reaching the UI (the App calls this on its own thread) ----------------------

    def deliver(self, message: PropagationRound) -> None:
        """Keep the round and hand it to step 12 if it is shown; a late one after a stop is
        dropped."""
        if not self.watching:
            return
        self.latest = message.result
        self.rounds.publish(message.result)
