"""One numbered step on its own screen: navigator, text, body, checklist, notes, evidence, actions.

Every step uses this class. What is particular to a step (a connection test, a DNS matrix, the copy
view) is its registered ``StepBody`` (screens/steps/base.py); a step without one still has all the
rest. The screen reads the session when it opens and after an action, never per keystroke; it
writes ticks, notes and states through the step's controller (``wizard.steps``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, Footer, Header, Input, Label, Static, TabPane, TextArea

from wizard.playbook import PHASES, Step
from wizard.session_records import StepRecord, StepState
from wizard.steps import controller_for

from .dialogs import ReasonDialog
from .footer_fit import fit_footer, hidden
from .steps.base import StepBody, body_for
from .text import OWNER_STYLE, STATE_ICON, STATE_STYLE, owner_badge, step_text, when
from .widgets.checklist import Checklist
from .widgets.demo_banner import DemoBanner, is_demo
from .widgets.done_proposal import DoneProposalLine
from .widgets.evidence import EvidenceList
from .widgets.navigator import StepNavigator

if TYPE_CHECKING:
    from wizard.store import SessionStore

    from .app import OnboardApp


def state_line(record: StepRecord) -> Text:
    line = Text()
    line.append(f"{STATE_ICON[record.state]} {record.state.label}", style=STATE_STYLE[record.state])
    if record.reason:
        line.append(f": {record.reason}")
    if record.actor:
        line.append(f"  · by {record.actor}, {when(record.changed_at)}", style="dim")
    if record.override:
        line.append(f"\nDone before its dependencies; override: {record.override}", style="#d9a21b")
    return line


class StepScreen(Screen[None]):
    CSS_PATH = "step_screen.tcss"
    AUTO_FOCUS = None  # on_mount focuses the step's main action instead of the navigator
    # The navigator is full width on wide terminals, compact on medium ones, folded away on
    # narrow ones (escape shows it again).
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-medium"), (150, "-wide")]
    # The state keys are printed on their buttons, so the footer keeps its room for the step's
    # own keys; every binding is still in the keys panel of the command palette.
    BINDINGS = [
        Binding("ctrl+n", "next_step", "Next", priority=True),
        Binding("ctrl+b", "previous_step", "Back", priority=True),
        Binding("escape", "toggle_steps", "Steps"),
        Binding("f2", "mark_done", "Done", show=False),
        Binding("f3", "mark_in_progress", "Doing", show=False),
        Binding("f4", "skip", "Skip…", show=False),
        Binding("f5", "block", "Block…", show=False),
        Binding("f6", "reopen", "Reopen", show=False),
        Binding("ctrl+s", "save_notes", "Save notes", show=False),
        Binding("ctrl+t", "toggle_filtering", "Filtering", show=False),
        Binding("ctrl+g", "go_to_step", "Go to"),
        Binding("ctrl+r", "export_report", "Report"),
        Binding("ctrl+o", "sessions", "Sessions", show=False),
    ]

    # On narrow terminals the footer shows the step's own keys first, then the way around, then
    # the app's, and leaves to the palette's key list what it also offers: else the step's keys
    # are cut off.
    NARROW_FOOTER_LAST = ("toggle_steps", "next_step", "previous_step")
    NARROW_FOOTER_HIDDEN = ("go_to_step", "export_report")
    # The palette's key (the App's) goes last into the row, in place of the key Textual docks
    # at the footer's right edge, which on 80 columns covered the keys under it.
    NARROW_FOOTER_SHOWN = ("command_palette", "app.command_palette")

    def __init__(self, store: SessionStore, number: str) -> None:
        super().__init__(name=f"step-{number}")
        self.store = store
        self.step: Step = store.playbook.step(number)
        self.controller = controller_for(store, self.step)
        self.record = store.step_record(number)
        self._notes_text = store.note(number)
        self._notes_saved = self._notes_text
        self._body_keys: dict[str, tuple[Widget, str]] = {}  # key -> (body widget, its action)

    @property
    def onboard(self) -> OnboardApp:
        return cast("OnboardApp", self.app)

    # ----- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        step, store = self.step, self.store
        yield Header()
        if is_demo(store):
            yield DemoBanner(servers=self.onboard.demo)
        with Horizontal(id="session"):
            yield StepNavigator(store.playbook, store.step_records(), step.number, id="navigator")
            with VerticalScroll(id="step-pane", can_focus=False):
                yield Static(f"Step {step.number} · {step.title}", id="step-title", markup=False)
                yield Static(self._meta_line(), id="step-meta")
                yield Static(state_line(self.record), id="step-state")
                yield DoneProposalLine(id="done-proposal")
                text = step_text(step, store)
                yield Static(text.text, id="step-text", markup=False)
                body = body_for(step)
                if body is not None:
                    with Vertical(id="step-body"):
                        yield body(store, step)
                yield Label("Checklist", classes="section")
                yield Checklist(text.checklist, store.checklist(step.number), id="checklist")
                yield Label(
                    "Notes (saved when you leave the notes, the step, or with ctrl+s)",
                    classes="section",
                )
                yield TextArea(self._notes_text, id="notes", soft_wrap=True)
                yield Static(self._notes_status(), id="notes-status")
                yield Label("Evidence", classes="section")
                yield EvidenceList(id="evidence")
                with Horizontal(id="actions"):
                    yield Button("Done (F2)", id="action-done", variant="success")
                    yield Button("In progress (F3)", id="action-in-progress")
                    yield Button("Skip… (F4)", id="action-skip")
                    yield Button("Block… (F5)", id="action-block", variant="error")
                    yield Button("Reopen (F6)", id="action-reopen")
        yield Footer(compact=True)

    def _meta_line(self) -> Text:
        step = self.step
        line = Text()
        line.append(owner_badge(step.owner), style=OWNER_STYLE[step.owner])
        line.append(f"   Phase {step.phase} · {PHASES[step.phase]}")
        if step.depends:
            records = self.store.step_records()
            line.append("  ·  Depends on ", style="dim")
            for i, dep in enumerate(step.depends):
                state = records[dep].state
                if i:
                    line.append(", ", style="dim")
                line.append(f"{dep} {STATE_ICON[state]}", style=STATE_STYLE[state])
        return line

    def _notes_status(self) -> str:
        who, stamp = self.store.note_meta(self.step.number)
        return f"Last saved by {who}, {when(stamp)}" if who else "No notes yet."

    def on_mount(self) -> None:
        self.controller.open_here()  # resume lands here
        self._show_progress()
        self.refresh_evidence()
        self.refresh_work(announce=False)
        self._bind_body_keys()
        self._update_buttons()
        self._focus_main_action()

    # ----- keys and focus ----------------------------------------------------------------------

    @property
    def body(self) -> StepBody | None:
        found = self.query(StepBody)
        return found.first() if found else None

    def _bind_body_keys(self) -> None:
        """The keys a step's body advertises work wherever the focus is (typing into a field
        aside): each is bound on the screen too, unless the screen has that key already. The
        body's own widgets (this package's, not Textual's inputs and tables) count as the body."""
        body = self.body
        if body is None:
            return
        owners = [body, *(w for w in body.query("*") if type(w).__module__.startswith("screens."))]
        for owner in owners:
            for key, bindings in owner._bindings.key_to_bindings.items():  # noqa: SLF001
                if key in self._bindings.key_to_bindings or key in self._body_keys:
                    continue
                binding = bindings[0]
                self._body_keys[key] = (owner, binding.action)
                self._bindings.bind(
                    key,
                    f"body_key({key!r})",
                    binding.description,
                    show=binding.show,
                    key_display=binding.key_display,
                )

    def _shown(self, widget: Widget) -> bool:
        """Displayed, and so are the containers it sits in (not in a tab that is not shown)."""
        return all(node.display for node in widget.ancestors_with_self if node is not self)

    def on_tabbed_content_tab_activated(self) -> None:
        self.refresh_bindings()  # another tab's keys now

    async def action_body_key(self, key: str) -> None:
        owner, action = self._body_keys[key]
        await owner.run_action(action)

    def _focus_main_action(self) -> None:
        """Focus what the step is for: the body's named main control (a form's first field),
        else its primary button, else its first control, else the Done button."""
        body = self.body
        target: Widget | None = None
        if body is not None:
            # Not into a tab: a focused widget pulls its tab to the front, whatever is chosen
            # later; the tab strip is the step's first control then (its keys work anyway).
            controls = [
                w
                for w in body.query("*")
                if w.focusable
                and self._shown(w)
                and not any(isinstance(a, TabPane) for a in w.ancestors)
            ]
            named = (
                [w for w in body.query(body.MAIN_CONTROL) if w in controls]
                if body.MAIN_CONTROL
                else []
            )
            primary = (w for w in controls if isinstance(w, Button) and w.variant == "primary")
            target = named[0] if named else next(primary, controls[0] if controls else None)
        (target or self.query_one("#action-done", Button)).focus(scroll_visible=False)

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        """The keys as the footer and the key list show them (dispatch does not read this)."""
        bindings = super().active_bindings
        if not self.has_class("-narrow"):
            return bindings
        own, way, app, last = {}, {}, {}, {}
        for key, active in bindings.items():
            action = active.binding.action
            if action in self.NARROW_FOOTER_HIDDEN:
                active = hidden(active)
            if action in self.NARROW_FOOTER_SHOWN:
                shown = replace(active.binding, show=True, description="Palette")
                last[key] = active._replace(binding=shown)
                continue
            group = way if action in self.NARROW_FOOTER_LAST else own
            (app if active.node is self.app else group)[key] = active
        order = self.NARROW_FOOTER_LAST
        way = dict(sorted(way.items(), key=lambda item: order.index(item[1].binding.action)))
        return self._fit_footer(own, way, app, last)

    def _fit_footer(
        self,
        own: dict[str, ActiveBinding],
        way: dict[str, ActiveBinding],
        app: dict[str, ActiveBinding],
        last: dict[str, ActiveBinding],
    ) -> dict[str, ActiveBinding]:
        """The narrow footer's keys, with those the row has no room for hidden: the app's first,
        then the step's own from the last (they still work, and the palette's key list shows
        them all). The way around and the palette's key always stay in the row, whole."""
        fit_footer(self.app, self.size.width or self.app.size.width, [way, last], [app, own])
        return {**own, **way, **app, **last}

    def on_resize(self, event: events.Resize) -> None:
        narrow = self.has_class("-narrow")
        if narrow != getattr(self, "_footer_narrow", None):  # the footer's order follows
            self._footer_narrow = narrow
            # Narrow: the palette key goes into the row (NARROW_FOOTER_SHOWN), not over its end.
            self.query_one(Footer).show_command_palette = not narrow
            self.refresh_bindings()

    def action_toggle_steps(self) -> None:
        """Go to the step list: show it (folded away on narrow terminals) and focus it; pressed
        in the list, fold it away again."""
        navigator = self.query_one(StepNavigator)
        folding = "-show-steps" if self.has_class("-narrow") else "-hide-steps"
        shown = navigator.styles.display != "none"
        if shown and not navigator.has_focus:
            navigator.focus()
            return
        self.toggle_class(folding)
        if navigator.styles.display != "none":
            navigator.focus()
        else:
            self._focus_main_action()

    def _show_progress(self) -> None:
        done, total = self.store.progress()
        self.title = f"{self.store.customer} · {self.store.domain}"
        variant = " · third-party filtering" if self.store.third_party_filter else ""
        self.sub_title = f"{done}/{total} steps settled{variant}"

    # ----- evidence, checklist, notes --------------------------------------------------------

    def refresh_evidence(self) -> None:
        self.query_one("#evidence", EvidenceList).show(self.store.evidence(self.step.number))

    def on_step_body_evidence_added(self, event: StepBody.EvidenceAdded) -> None:
        event.stop()
        self.refresh_evidence()
        self.refresh_work()  # ticks what the evidence proves, and a body may have set states

    def on_step_body_work_started(self, event: StepBody.WorkStarted) -> None:
        event.stop()
        if self.controller.work_started() is not None:
            self.refresh_states()

    def on_input_changed(self, event: Input.Changed) -> None:
        # Typed by the operator into the step's own form (not a value set by the program). Once
        # the step is under way a keystroke reads nothing: the screen knows its state.
        if self.record.state is not StepState.NOT_STARTED:
            return
        body = self.body
        if body is not None and event.input.has_focus and body in event.input.ancestors:
            self.on_step_body_work_started(StepBody.WorkStarted())

    def refresh_work(self, *, announce: bool = True) -> None:
        """Tick what the evidence proves, show the states, and the proposal to mark done (a
        toast too when it has just become ready)."""
        self.controller.tick_proven()
        self.query_one(Checklist).sync(self.store.checklist(self.step.number))
        self.refresh_states()
        line = self.query_one(DoneProposalLine)
        if line.show(self.controller.done_proposal()) and announce and line.proposal:
            self.notify(line.proposal.describe(), title="Press F2 to mark done", timeout=8)

    def refresh_states(self) -> None:
        """Re-read every step's state (after a body changed the session) and show it."""
        records = self.store.step_records()
        self.record = records[self.step.number]
        self.query_one(StepNavigator).update_states(records)
        self.query_one("#step-state", Static).update(state_line(self.record))
        self.query_one("#step-meta", Static).update(self._meta_line())
        self._show_progress()
        self._update_buttons()

    def on_checklist_ticked(self, event: Checklist.Ticked) -> None:
        self.controller.tick(event.item_id, event.ticked)
        for body in self.query(StepBody):
            body.checklist_ticked(event.item_id, event.ticked)
        self.refresh_work()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        if event.text_area.id == "notes":
            self._notes_text = event.text_area.text  # kept in memory; written on leaving

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        if getattr(event.widget, "id", None) == "notes":
            self.save_notes()

    def save_notes(self) -> bool:
        """Write the notes if they changed; True when something was written."""
        if self._notes_text == self._notes_saved or self.store.closed:
            return False
        self.controller.set_note(self._notes_text)
        self._notes_saved = self._notes_text
        for status in self.query("#notes-status").results(Static):  # none while closing
            status.update(self._notes_status())
        return True

    def action_save_notes(self) -> None:
        if self.save_notes():
            self.notify(f"Notes of step {self.step.number} saved.")
        else:
            self.notify("Notes are saved already.")

    def on_unmount(self) -> None:
        self.save_notes()

    # ----- state actions -----------------------------------------------------------------------

    def _update_buttons(self) -> None:
        for action, button in (
            ("mark_done", "action-done"),
            ("mark_in_progress", "action-in-progress"),
            ("skip", "action-skip"),
            ("block", "action-block"),
            ("reopen", "action-reopen"),
        ):
            self.query_one(f"#{button}", Button).disabled = not self.check_action(action, ())
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "body_key" and parameters:
            owner, body_action = self._body_keys[str(parameters[0])]
            if not self._shown(owner):
                return False  # in a tab that is not shown: neither in the footer nor pressable
            return owner.check_action(body_action, ())
        state = self.record.state
        allowed = {
            "mark_done": state is not StepState.DONE,
            "mark_in_progress": state is not StepState.IN_PROGRESS,
            "skip": state is not StepState.SKIPPED,
            "block": state is not StepState.BLOCKED,
            "reopen": state is not StepState.NOT_STARTED,
        }.get(action, True)
        return True if allowed else None  # None: shown dimmed in the footer

    def set_state(self, state: StepState, *, reason: str = "", override: str = "") -> None:
        self.record = self.controller.set_state(state, reason=reason, override=override)
        self.query_one("#step-state", Static).update(state_line(self.record))
        self.query_one(StepNavigator).update_states({self.step.number: self.record})
        self._show_progress()
        self._update_buttons()
        self.query_one(DoneProposalLine).show(self.controller.done_proposal())
        self.notify(f"Step {self.step.number} marked {state.label}.")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        actions = {
            "action-done": self.action_mark_done,
            "action-in-progress": self.action_mark_in_progress,
            "action-skip": self.action_skip,
            "action-block": self.action_block,
            "action-reopen": self.action_reopen,
        }
        if event.button.id in actions:
            event.stop()
            actions[event.button.id]()

    def action_mark_done(self) -> None:
        unmet = self.store.unmet_dependencies(self.step.number)
        checks = [
            self.controller.done_refusal,
            *(body.done_refusal for body in self.query(StepBody)),
        ]
        refusals = [r for check in checks if (r := check())]
        if not unmet and not refusals:
            self.set_state(StepState.DONE)
            return
        records = self.store.step_records()
        lines = "\n".join(
            f"  Step {n} · {self.store.playbook.step(n).title} ({records[n].state.label})"
            for n in unmet
        )
        if refusals:  # the body's own reason (an incomplete check) comes first
            lines = "\n".join(refusals) + (
                f"\n\nNot done or skipped yet:\n{lines}" if unmet else ""
            )

        def proceed(reason: str | None) -> None:
            if reason:
                self.set_state(StepState.DONE, override=reason)

        self.app.push_screen(
            ReasonDialog(
                f"Step {self.step.number} is not finished"
                if refusals
                else f"Step {self.step.number} depends on steps that are not finished",
                "Why mark it done anyway? The reason is recorded as an override.",
                message=lines if refusals else f"Not done or skipped yet:\n{lines}",
                confirm="Mark done anyway",
                warning=True,
            ),
            proceed,
        )

    def action_mark_in_progress(self) -> None:
        self.set_state(StepState.IN_PROGRESS)

    def _ask_reason(self, state: StepState, verb: str) -> None:
        def record(reason: str | None) -> None:
            if reason:
                self.set_state(state, reason=reason)

        self.app.push_screen(
            ReasonDialog(
                f"{verb} step {self.step.number} · {self.step.title}",
                f"Why is this step {state.label}? The reason goes into the report.",
                confirm=f"{verb} step",
            ),
            record,
        )

    def action_skip(self) -> None:
        self._ask_reason(StepState.SKIPPED, "Skip")

    def action_block(self) -> None:
        self._ask_reason(StepState.BLOCKED, "Block")

    def action_reopen(self) -> None:
        self.set_state(StepState.NOT_STARTED)

    # ----- texts of the filtering variant ------------------------------------------------------

    async def show_variant(self) -> None:
        """Show the text and checklist of the session's current filtering variant."""
        text = step_text(self.step, self.store)
        self.query_one("#step-text", Static).update(text.text)
        await self.query_one(Checklist).show(text.checklist, self.store.checklist(self.step.number))
        for body in self.query(StepBody):
            await body.variant_changed()
        self._show_progress()

    # ----- moving around -----------------------------------------------------------------------

    def on_step_navigator_step_chosen(self, event: StepNavigator.StepChosen) -> None:
        event.stop()
        if event.number != self.step.number:
            self.onboard.goto_step(event.number)

    def action_next_step(self) -> None:
        following = self.store.playbook.next_after(self.step.number)
        if following is None:
            self.notify("This is the last step.")
        else:
            self.onboard.goto_step(following.number)

    def action_previous_step(self) -> None:
        before = self.store.playbook.previous_before(self.step.number)
        if before is None:
            self.notify("This is the first step.")
        else:
            self.onboard.goto_step(before.number)

    def action_go_to_step(self) -> None:
        self.onboard.search_steps()

    def action_toggle_filtering(self) -> None:
        self.onboard.toggle_filtering()

    def action_export_report(self) -> None:
        self.onboard.search_exports()

    def action_sessions(self) -> None:
        self.onboard.close_session()
