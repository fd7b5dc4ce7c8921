"""The step navigator: every step grouped by phase, with number, title, owner badge and state."""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from wizard.playbook import PHASES, Playbook, Step
from wizard.session_records import StepRecord, StepState

from ..text import OWNER_STYLE, STATE_ICON, STATE_STYLE

WIDE = 52  # full titles and owner badges, on wide terminals
OWNER_COLUMNS = 11  # " customer  " badge
FIXED_COLUMNS = 2 + 5 + 4  # state icon, number, border and scrollbar


def step_prompt(step: Step, state: StepState, width: int = WIDE) -> Text:
    """One navigator line: state icon, number, title (shortened to fit the navigator's width)
    and, when there is room, the owner badge."""
    indent = "  " if step.is_substep else ""
    with_owner = width >= 44
    room = max(8, width - FIXED_COLUMNS - (OWNER_COLUMNS if with_owner else 0) - len(indent))
    title = step.title
    if len(title) > room:
        title = title[: room - 1] + "…"
    line = Text(no_wrap=True, overflow="ellipsis")
    line.append(f"{STATE_ICON[state]} ", style=STATE_STYLE[state])
    line.append(f"{indent}{step.number:<5}", style="bold")
    line.append(f"{title:<{room}} ")
    if with_owner:
        line.append(f" {step.owner.value:<8} ", style=OWNER_STYLE[step.owner])
    return line


class StepNavigator(OptionList):
    """Choose a step with the cursor and enter; posts ``StepNavigator.StepChosen``.

    It is told the states (``update_states``); it never reads the session itself.
    """

    DEFAULT_CSS = """
    StepNavigator {
        width: 52;
        min-width: 30;
        height: 1fr;
        border: round $primary 50%;
        border-title-color: $text;
        padding: 0;
    }
    StepNavigator:focus {
        border: round $primary;
    }
    """

    class StepChosen(Message):
        def __init__(self, number: str) -> None:
            super().__init__()
            self.number = number

    def __init__(
        self,
        playbook: Playbook,
        records: Mapping[str, StepRecord],
        current: str,
        **kwargs: object,
    ) -> None:
        options: list[Option | None] = []
        for phase, name in PHASES.items():
            if options:
                options.append(None)
            options.append(Option(Text(f"Phase {phase} · {name}", style="bold"), disabled=True))
            for step in playbook.phase_steps(phase):
                state = (
                    records[step.number].state if step.number in records else StepState.NOT_STARTED
                )
                options.append(Option(step_prompt(step, state), id=f"step-{step.number}"))
        super().__init__(*options, **kwargs)  # type: ignore[arg-type]
        self.playbook = playbook
        self.current = current
        self.border_title = "Steps"
        self._states = {
            step.number: records[step.number].state
            if step.number in records
            else StepState.NOT_STARTED
            for step in playbook
        }
        self._width = WIDE

    def on_mount(self) -> None:
        self.highlighted = self.get_option_index(f"step-{self.current}")
        self.scroll_to_highlight(top=False)

    def on_resize(self) -> None:
        """The screen's width decides the navigator's (wide, compact, folded away): re-fit the
        titles so nothing is cut mid-word where a shorter form fits."""
        if self.size.width and self.size.width != self._width:
            self._width = self.size.width
            self._show(self._states)

    def update_states(self, records: Mapping[str, StepRecord]) -> None:
        self._states.update({number: record.state for number, record in records.items()})
        self._show({number: record.state for number, record in records.items()})

    def _show(self, states: Mapping[str, StepState]) -> None:
        for number, state in states.items():
            self.replace_option_prompt(
                f"step-{number}", step_prompt(self.playbook.step(number), state, self._width)
            )

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option_id and event.option_id.startswith("step-"):
            self.post_message(self.StepChosen(event.option_id.removeprefix("step-")))
