"""The checklist of a step: one checkbox per item; posts ``Checklist.Ticked`` when one changes."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Checkbox, Static

from wizard.playbook import ChecklistItem
from wizard.session_records import ChecklistTick

from .tick_box import TickBox


def checkbox_id(item_id: str) -> str:
    return "check-" + re.sub(r"[^A-Za-z0-9_-]", "-", item_id)


class ChecklistBox(TickBox):
    def __init__(self, item: ChecklistItem, ticked: bool) -> None:
        super().__init__(item.text, value=ticked, id=checkbox_id(item.id))
        self.item_id = item.id


class Checklist(Vertical):
    DEFAULT_CSS = """
    Checklist { height: auto; }
    Checklist ChecklistBox { border: none; padding: 0 1; background: transparent; }
    Checklist .empty { color: $text-muted; padding: 0 1; }
    """

    class Ticked(Message):
        def __init__(self, item_id: str, ticked: bool) -> None:
            super().__init__()
            self.item_id = item_id
            self.ticked = ticked

    def __init__(
        self,
        items: Sequence[ChecklistItem],
        ticks: Mapping[str, ChecklistTick],
        **kwargs: object,
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.items = tuple(items)
        self.ticked = {key: tick.ticked for key, tick in ticks.items()}

    def compose(self) -> ComposeResult:
        if not self.items:
            yield Static("This step has no checklist.", classes="empty")
        for item in self.items:
            yield ChecklistBox(item, self.ticked.get(item.id, False))

    async def show(
        self, items: Sequence[ChecklistItem], ticks: Mapping[str, ChecklistTick]
    ) -> None:
        """Show another set of items (the other filtering variant)."""
        self.items = tuple(items)
        self.ticked = {key: tick.ticked for key, tick in ticks.items()}
        await self.recompose()

    def sync(self, ticks: Mapping[str, ChecklistTick]) -> None:
        """Show ticks the step's body saved itself (say, step 5 on the customer's confirmation)."""
        for box in self.query(ChecklistBox):
            ticked = ticks[box.item_id].ticked if box.item_id in ticks else False
            if self.ticked.get(box.item_id, False) != ticked or box.value != ticked:
                self.ticked[box.item_id] = ticked  # first, so the change below is not re-saved
                box.value = ticked

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        box = event.checkbox
        if isinstance(box, ChecklistBox):
            if self.ticked.get(box.item_id, False) == event.value:
                return  # shown as saved already
            self.ticked[box.item_id] = event.value
            self.post_message(self.Ticked(box.item_id, event.value))
