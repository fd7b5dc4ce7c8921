"""Long work the App owns for an open session, and how step bodies reach it with types.

A worker started by a screen dies with the screen, so work that must outlive a step screen (the
copy, step 12's propagation watch) is started by the App: ``OnboardApp.copy`` and
``OnboardApp.propagation``. Each is a ``SessionService``: the App asks ``running`` before
quitting or closing the session, and calls ``shutdown()`` when it closes it. Step bodies reach
them through ``session_work(self.app)``, typed by ``SessionWork``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from textual.app import App

    from .copy_service import SessionCopy
    from .propagation_service import PropagationWatch


class SessionService(Protocol):
    @property
    def running(self) -> bool: ...

    def shutdown(self, timeout: float = 10.0) -> None: ...


class SessionWork:
    """What a step body may ask of the App that shows it: the open session's long work.

    A base class of ``OnboardApp`` rather than a runtime protocol, so telling an App that owns
    the work from one that does not never runs a property (which would make the work)."""

    @property
    def copy(self) -> SessionCopy:
        raise NotImplementedError

    @property
    def propagation(self) -> PropagationWatch:
        raise NotImplementedError


def session_work(app: App[object]) -> SessionWork:
    """The App as the owner of the session's long work (``OnboardApp`` is one)."""
    if not isinstance(app, SessionWork):
        raise TypeError(f"{type(app).__name__} does not own a session's copy and DNS watch")
    return app
