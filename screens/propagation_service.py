"""The propagation poller of step 12 as a service of the App, not of a step screen.

Choice: the App owns it (``app.services["propagation"]``), so the matrix keeps refreshing while
the operator works on other steps and step 12 shows the newest matrix the moment it is opened
again. It is stopped when the session is closed or the app quits (``shutdown``). It never holds
anything that a stop would lose, so ``running`` is False: quitting does not ask about it
(``watching`` tells whether it polls).

The service knows nothing of DNS: it calls ``check()`` (a function returning the newest matrix)
in its own thread every ``interval`` seconds and hands each result to its listeners, which are
called from that thread (a screen listener must use ``call_from_thread`` or ``post_message``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual.app import App

from wizard.events import Listeners

INTERVALS = (2, 5, 10, 15, 30, 60, 120, 300)  # seconds the operator can step through
DEFAULT_INTERVAL = 30


@dataclass(frozen=True)
class PollResult:
    """One round of the poller: the matrix, or why it could not be built."""

    round: int
    at: float  # time.time() when the round finished
    matrix: Any = None
    error: str = ""


Listener = Callable[[PollResult], None]


class PropagationPoller:
    """Calls ``check`` every ``interval`` seconds in a thread of its own; pausable."""

    def __init__(self, check: Callable[[], Any], interval: float = DEFAULT_INTERVAL) -> None:
        self.check = check
        self.interval = float(interval)
        self.latest: PollResult | None = None
        self.paused = False
        self._rounds = 0
        self._listeners: Listeners[PollResult] = Listeners()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._force = False
        self.next_at: float | None = None

    # ----- SessionService ----------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Nothing is lost by stopping a poller, so quitting never asks about it."""
        return False

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop polling. A round still asking slow servers is left to end on its own (its thread
        is a daemon and publishes nothing once stopped), so closing never waits for DNS."""
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(min(timeout, 0.5))
        self._thread = None

    # ----- state and steering ------------------------------------------------------------------

    @property
    def watching(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and not self._stop.is_set()

    def start(self) -> None:
        """Start polling with a first round at once (just that round if it polls already)."""
        if self.watching:
            self.refresh_now()
            return
        # Events of its own, so a round left over from before stays stopped.
        self._stop, self._wake = threading.Event(), threading.Event()
        self._thread = threading.Thread(
            target=self._loop, args=(self._stop, self._wake), name="propagation-poller", daemon=True
        )
        self._thread.start()

    def set_interval(self, seconds: float) -> None:
        self.interval = max(1.0, float(seconds))
        self._wake.set()  # the next round is timed from now with the new interval

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        self.paused = False
        self._wake.set()

    def refresh_now(self) -> None:
        """Poll at once (also while paused), then go on at the interval."""
        self._force = True
        self._wake.set()

    # ----- listening ---------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        return self._listeners.subscribe(listener)

    def _publish(self, result: PollResult) -> None:
        self.latest = result
        self._listeners.publish(result)

    # ----- the thread --------------------------------------------------------------------------

    def _round(self, stop: threading.Event) -> None:
        self._rounds += 1
        try:
            result = PollResult(self._rounds, time.time(), matrix=self.check())
        except Exception as exc:  # a broken round is shown, and the next one tries again
            result = PollResult(self._rounds, time.time(), error=str(exc) or type(exc).__name__)
        if not stop.is_set():
            self._publish(result)

    def _loop(self, stop: threading.Event, wake: threading.Event) -> None:
        force = True
        while not stop.is_set():
            if force or not self.paused:
                self._force = False
                self._round(stop)
            last = time.time()
            force = False
            while not stop.is_set():
                self.next_at = None if self.paused else last + self.interval
                timeout = None if self.next_at is None else max(0.0, self.next_at - time.time())
                wake.wait(timeout)
                wake.clear()
                if self._force:
                    force = True
                    break
                # Woken by an interval change, a resume, or the time: poll once it is due.
                if not self.paused and time.time() >= last + self.interval - 0.01:
                    break


def propagation_poller(
    app: App[object], check: Callable[[], Any], interval: float
) -> PropagationPoller:
    """The App's poller, made the first time; ``check`` is replaced so it follows the session."""
    services: dict[str, Any] = getattr(app, "services", {})
    poller = services.get("propagation")
    if not isinstance(poller, PropagationPoller):
        poller = PropagationPoller(check, interval)
        services["propagation"] = poller
    else:
        poller.check = check
    return poller
