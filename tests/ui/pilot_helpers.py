"""Small helpers for driving the onboard app with Pilot."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.pilot import Pilot
from textual.widgets import Static

KEY_NAMES = {
    " ": "space",
    ".": "full_stop",
    "-": "minus",
    "/": "slash",
    ",": "comma",
    "@": "at",
    "(": "left_parenthesis",
    ")": "right_parenthesis",
}


async def type_text(pilot: Pilot, text: str) -> None:
    """Type into the focused widget, key by key, as an operator would."""
    await pilot.press(*(KEY_NAMES.get(ch, ch) for ch in text))


def shown(widget: Static) -> str:
    """The plain text a Static shows."""
    return str(widget.render())


async def settle(pilot: Pilot, rounds: int = 3) -> None:
    for _ in range(rounds):
        await pilot.pause()


async def wait_until(
    pilot: Pilot, condition: Callable[[], bool], timeout: float = 60.0, what: object = ""
) -> None:
    """Let the app run until ``condition()`` holds; a slow machine gets the whole timeout."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for the screen {what}".rstrip()
        await pilot.pause(0.05)
