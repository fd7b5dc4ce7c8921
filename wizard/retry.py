"""The one retry and back-off policy every engine uses (IMAP copy paths, Exchange, the copy engine).

A ``RetryPolicy`` says how often and how long to try again; ``retry_call`` runs one operation
under it. The caller says which failures are worth another try (``retryable`` turns an exception
into a ``Retryable``, or None to let it through), how a wait is reported (``on_wait``) and how the
next attempt is prepared (``recover``: reconnect, look up what landed). A wait the server asked for
(a throttling hint) is waited exactly; otherwise the wait doubles from ``initial`` up to
``ceiling``, with jitter. Throttling is bounded by ``max_wait`` seconds in total, other failures by
``attempts`` retries, so a busy server is waited out and a broken one given up on.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from .events import Event

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long one operation is tried again."""

    attempts: int | None = 6  # retries after a failure that is not throttling (None: no limit)
    initial: float = 0.5  # seconds before the first retry
    ceiling: float = 30.0  # longest single wait of our own choosing
    max_wait: float = 900.0  # seconds of waiting in total before giving up
    jitter: float = 0.2  # +/- this share of each wait of our own, so clients do not march

    def delay(self, attempt: int, hint: float = 0.0) -> float:
        """Seconds to wait before retry number ``attempt`` (1, 2, ...); a server's hint wins."""
        if hint > 0:
            return hint
        delay = min(self.ceiling, self.initial * 2 ** max(0, attempt - 1))
        if self.jitter:
            delay *= random.uniform(1 - self.jitter, 1 + self.jitter)
        return delay


NO_RETRY = RetryPolicy(attempts=0, max_wait=0.0)  # one try: the caller retries around it

# How long what was sent may still be landing on the target after its sender was last seen
# alive, or after the target stopped answering: a copy killed just after sending a batch leaves
# it in the sockets and on the way (a killed client's whole MULTIAPPEND lands ~0.5 s later on
# loopback, later over a slow link), and the heartbeat of its hold is up to 5 s old when it dies.
# Looked up sooner, "not there yet" would read as "never arrived" and the batch be sent twice.
LANDING_SECONDS = 10.0


@dataclass(frozen=True)
class Retryable:
    """Why a failure deserves another try."""

    reason: str
    hint: float = 0.0  # seconds the server asked us to wait (0: none given)
    throttled: bool = False  # the server asked us to slow down (bounded by max_wait only)
    dropped: bool = False  # the connection dropped: part of a write may have landed
    unanswered: bool = False  # no answer in time: the server may still be at the write


@dataclass(frozen=True)
class Wait:
    """One wait before a retry, as ``on_wait`` is told of it."""

    what: str  # the operation, in the operator's words ("writing to Inbox")
    why: Retryable
    seconds: float
    attempt: int


@dataclass(frozen=True)
class Waiting(Event):
    """An engine waits before retrying because the server asked it to (or the link dropped)."""

    seconds: float = 0.0
    reason: str = ""
    attempt: int = 0


class RetryCancelled(Exception):
    """The operation was cancelled while it waited to retry."""


def plain_sleep(seconds: float) -> bool:
    time.sleep(seconds)
    return True


def retry_call(
    call: Callable[[], T],
    *,
    what: str,
    policy: RetryPolicy,
    retryable: Callable[[Exception], Retryable | None],
    on_wait: Callable[[Wait], None] | None = None,
    sleep: Callable[[float], bool | None] = plain_sleep,
    recover: Callable[[Retryable], None] | None = None,
    give_up: Callable[[Exception, Wait], BaseException] | None = None,
) -> T:
    """Run ``call`` until it succeeds, a failure is not retryable, or the policy gives up.

    ``sleep`` returns False when the wait was cancelled (RetryCancelled is raised). ``recover``
    runs before the next attempt and counts as part of it: when it fails retryably, that is the
    next failure. ``give_up`` turns the last failure into the exception raised (default: the
    failure itself).
    """
    attempt, waited = 0, 0.0
    why: Retryable | None = None
    while True:
        try:
            if why is not None and recover is not None:
                recover(why)
            return call()
        except Exception as exc:
            found = retryable(exc)
            if found is None:
                raise
            why = found
            attempt += 1
            seconds = policy.delay(attempt, why.hint)
            wait = Wait(what, why, seconds, attempt)
            over_attempts = (
                not why.throttled and policy.attempts is not None and attempt > policy.attempts
            )
            if over_attempts or waited + seconds > policy.max_wait or policy.attempts == 0:
                if give_up is not None:
                    raise give_up(exc, wait) from exc
                raise
            if on_wait is not None:
                on_wait(wait)
            if sleep(seconds) is False:
                raise RetryCancelled(what) from exc
            waited += seconds


__all__ = [
    "LANDING_SECONDS",
    "NO_RETRY",
    "RetryCancelled",
    "RetryPolicy",
    "Retryable",
    "Wait",
    "Waiting",
    "plain_sleep",
    "retry_call",
]
