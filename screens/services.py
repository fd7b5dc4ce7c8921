"""Long-running work the App owns for an open session (the copy engine, later others).

A worker started by a screen dies with the screen, so anything that must outlive a step screen
is a service object kept in ``OnboardApp.services`` under a name ("copy"). The App asks
``running`` before quitting or closing the session, and calls ``shutdown()`` when it closes it.
"""

from __future__ import annotations

from typing import Protocol


class SessionService(Protocol):
    @property
    def running(self) -> bool: ...

    def shutdown(self, timeout: float = 10.0) -> None: ...
