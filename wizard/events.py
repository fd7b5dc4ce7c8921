"""Plain event objects that engines emit while they work; the UI and the CLI render them.

Engines take an ``EventSink`` (any callable) and never know who listens. A newer ``Progress`` for
the same ``subject`` supersedes an older one, so a busy listener may drop stale ones.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Event:
    subject: str  # what the event is about: a mailbox address, a host, a DNS server


@dataclass(frozen=True)
class Started(Event):
    detail: str = ""


@dataclass(frozen=True)
class Progress(Event):
    done: int = 0
    total: int = 0
    bytes_done: int = 0
    bytes_total: int = 0
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Failure(Event):
    reason: str = ""
    code: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Done(Event):
    ok: bool = True
    summary: str = ""
    result: Any = None


EventSink = Callable[[Event], None]


def ignore(_event: Event) -> None:
    """An EventSink that drops everything, for callers that do not watch progress."""


class Listeners(Generic[T]):
    """Who listens to a long-running service; safe to use from any thread.

    ``publish`` calls each listener in the publishing thread; a listener that raises is skipped,
    never the service's problem (a screen that went away, say)."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[T], None]] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: Callable[[T], None]) -> Callable[[], None]:
        """Add ``listener``; returns the function that removes it again."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock, contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return unsubscribe

    def publish(self, item: T) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            with contextlib.suppress(Exception):
                listener(item)
