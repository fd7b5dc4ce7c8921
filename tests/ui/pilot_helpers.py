"""Small helpers for driving the onboard app with Pilot."""

from __future__ import annotations

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
