"""Plain event objects that engines emit while they work; the UI and the CLI render them.

Engines take an ``EventSink`` (any callable) and never know who listens. A newer ``Progress`` for
the same ``subject`` supersedes an older one, so a busy listener may drop stale ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


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
