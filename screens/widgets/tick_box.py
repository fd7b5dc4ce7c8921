"""A checkbox that reads clearly: a tick when on, an empty box when off (Textual's own shows the
same "X" in both states, only dimmed when off, which reads as ticked)."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Checkbox


class TickBox(Checkbox):
    BUTTON_INNER = "✔"

    @property
    def _button(self) -> Content:
        box = super()._button
        if self.value:
            return box
        left, tick, right = box.divide([1, 2])
        blank = Content(" ").stylize(tick.spans[0].style) if tick.spans else Content(" ")
        return Content.assemble(left, blank, right)
