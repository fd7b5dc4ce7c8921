"""Propagation body: the propagation matrix, refreshed on its own by the App's propagation watch.

The watch belongs to the App (``OnboardApp.propagation``, screens/propagation_service.py): an App
timer that keeps asking while the operator is on other steps and stops when the session closes.
This body starts it (``w``, or on its own when it opens once the change time is known), steers it
(pause, faster, slower, now) and shows each round, which reaches it through the watch's signal.
Done is held back until a round says the matrix is complete; the step screen then asks for a
reason and records it as an override. One round, the evidence, the change time and the poll
interval are ``wizard.steps.propagation``'s.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Input, Label, Static

from wizard.dns import (
    CellState,
    DnsConfigError,
    PropagationCell,
    PropagationMatrix,
    resolvers_from_store,
    save_resolvers,
)
from wizard.formatting import format_duration
from wizard.playbook import Kind
from wizard.session_records import when_short
from wizard.steps.propagation import PropagationController, done_refusal, matrix_check

from ..messages import PollResult
from ..propagation_service import DEFAULT_INTERVAL, INTERVALS, PropagationWatch, round_cancelled
from ..services import session_work
from .base import StepBody, register_body
from .dns_view import FindingList

if TYPE_CHECKING:
    from wizard.store import SessionStore

COLUMNS = (
    ("server", "Server"),
    ("role", "Role"),
    ("state", "State"),
    ("ttl", "TTL"),
    ("serial", "SOA serial"),
    ("answer", "Answer"),
)


def cell_style(state: CellState) -> str:
    if state is CellState.AGREES:
        return "bold green"
    return "bold red" if state.failed else "bold #d9a21b"


def cell_icon(state: CellState) -> str:
    if state is CellState.AGREES:
        return "✔"
    return "✖" if state.failed else "≠"


def resolver_texts(store: SessionStore) -> str:
    return ", ".join(
        f"{s.label}={s.address}" if s.label else s.address for s in resolvers_from_store(store)
    )


def since(stamp: str, now: float | None = None) -> str:
    """How long ago an ISO time stamp was ("2 h 05 min"); "?" when it is not one."""
    try:
        then = datetime.fromisoformat(stamp)
    except ValueError:
        return "?"
    if then.tzinfo is None:
        then = then.replace(tzinfo=UTC)
    return format_duration(max(0, int((now or time.time()) - then.timestamp())))


@register_body(Kind.PROPAGATION)
class PropagationBody(StepBody):
    """The matrix (servers × answer, TTL, serial, state), its summary, and the poller's controls."""

    BINDINGS = [
        Binding("w", "watch", "Watch"),
        Binding("p", "toggle_pause", "Pause/resume"),
        Binding("r", "refresh_now", "Refresh now"),
        Binding("plus,equals_sign", "faster", "Faster"),
        Binding("minus", "slower", "Slower"),
        Binding("m", "change_made", "Change made now"),
    ]
    DEFAULT_CSS = """
    PropagationBody { height: auto; }
    PropagationBody .buttons { height: auto; margin: 1 0 0 0; }
    PropagationBody Label { margin: 1 0 0 0; text-style: bold; }
    PropagationBody .buttons Button { width: auto; min-width: 0; margin: 0 1 0 0; }
    PropagationBody .hint { color: $text-muted; }
    PropagationBody #prop-summary { text-style: bold; margin: 1 0 0 0; }
    PropagationBody #prop-matrix { height: auto; max-height: 20; }
    PropagationBody #prop-resolvers { width: 1fr; }
    """
    controller: PropagationController

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._poller: PropagationWatch | None = None
        self.view: PropagationMatrix | None = None
        self._last_saved_complete: bool | None = None

    # ----- layout -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static("", id="prop-expected")
        yield Static("", id="prop-summary")
        yield Static("", id="prop-since")
        yield Static("", id="prop-poll", classes="hint")
        table: DataTable[str | Text] = DataTable(
            id="prop-matrix", cursor_type="row", zebra_stripes=True
        )
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        yield table
        yield FindingList(id="prop-findings")
        with Horizontal(classes="buttons"):
            yield Button("Watch w", id="prop-watch", variant="primary", compact=True)
            yield Button("Pause/resume p", id="prop-pause", compact=True)
            yield Button("Refresh now r", id="prop-refresh", compact=True)
            yield Button("Faster +", id="prop-faster", compact=True)
            yield Button("Slower -", id="prop-slower", compact=True)
            yield Button("Change made now m", id="prop-change", compact=True)
        yield Label("Resolvers asked (IP, IP:PORT or label=IP; comma separated; Enter saves)")
        yield Input(resolver_texts(self.store), id="prop-resolvers")
        yield Static("", id="prop-resolvers-status", classes="hint")

    # ----- the poller -----------------------------------------------------------------------------

    @property
    def poller(self) -> PropagationWatch:
        if self._poller is None:
            saved = self.controller.watch().poll_seconds
            interval = DEFAULT_INTERVAL if saved is None else saved
            self._poller = session_work(self.app).propagation
            self._poller.follow(matrix_check(self.store, round_cancelled), interval)
        return self._poller

    def on_mount(self) -> None:
        poller = self.poller
        # The signal forgets this body once it is removed: leaving the step needs no clean-up.
        poller.rounds.subscribe(self, self._show_round)
        if poller.latest is not None:
            self._show_round(poller.latest)
        else:
            self._show_view(None)
        if not poller.watching and self.controller.change_time()[0]:
            poller.start()  # the change is made: watching is what this step is for
        self.set_interval(1.0, self._tick)
        self._tick()

    async def variant_changed(self) -> None:
        """The expected answer depends on the variant: ask again at once with the new one."""
        if self.poller.watching:
            self.poller.refresh_now()

    def _show_round(self, result: PollResult) -> None:
        if self.store.closed:
            return
        if result.error:
            self.query_one("#prop-summary", Static).update(
                Text(f"Round {result.round} failed: {result.error}", style="red")
            )
            return
        matrix: PropagationMatrix = result.matrix
        self._show_view(matrix)
        self._save_when_changed(matrix)

    def _save_when_changed(self, matrix: PropagationMatrix) -> None:
        """Evidence when completeness differs from the last saved round, not every round."""
        if self._last_saved_complete is matrix.complete:
            return
        self._last_saved_complete = matrix.complete
        if self.controller.record_round(matrix):
            self.post_message(StepBody.EvidenceAdded())

    # ----- showing ------------------------------------------------------------------------------

    def _show_view(self, view: PropagationMatrix | None) -> None:
        self.view = view
        expected = self.query_one("#prop-expected", Static)
        summary = self.query_one("#prop-summary", Static)
        table = self.query_one("#prop-matrix", DataTable)
        if view is None:
            table.clear()
            self.query_one("#prop-findings", FindingList).show([])
            expected.update("")
            summary.update(
                Text("No round yet: press w to start watching.", style="dim")
                if not self.poller.watching
                else Text("First round running…", style="dim")
            )
            return
        share = (
            f"at least {view.resolvers_needed} of {len(view.resolvers)} resolvers"
            f" ({view.required_share:.0%})"
        )
        expected.update(
            f"Expected: {view.question.describe()}\n"
            f"Complete when every authoritative server and {share} answer it."
        )
        # The first finding is the summary shown above; the rest explain failed servers.
        self.query_one("#prop-findings", FindingList).show([f.to_dict() for f in view.findings[1:]])
        summary.update(Text(view.summary, style="bold green" if view.complete else "bold #d9a21b"))
        if view.authoritative_note:
            summary.update(Text(f"{view.summary}\n{view.authoritative_note}", style="bold red"))
        rows = {f"{c.role}:{c.server.address}": self._row(c) for c in view.cells}
        if [k.value for k in table.rows] == list(rows):
            for key, cells in rows.items():  # same servers: change cells in place, keep the cursor
                for (column, _label), value in zip(COLUMNS, cells, strict=True):
                    table.update_cell(key, column, value)
        else:
            table.clear()
            for key, cells in rows.items():
                table.add_row(*cells, key=key)

    @staticmethod
    def _row(cell: PropagationCell) -> list[str | Text]:
        style = cell_style(cell.state)
        if cell.state in (CellState.AGREES, CellState.DIFFERS):
            answer = ", ".join(r.rstrip(".") for r in cell.answer)
        else:
            answer = cell.detail
        return [
            cell.server.name,
            str(cell.role),
            Text(f"{cell_icon(cell.state)} {cell.state.label}", style=style),
            "" if cell.ttl is None else str(cell.ttl),
            "" if cell.soa_serial is None else str(cell.soa_serial),
            Text(answer, style=style),
        ]

    def _tick(self) -> None:
        if self.store.closed:  # the session is closing; this screen goes next
            return
        stamp, source = self.controller.change_time()
        self.query_one("#prop-since", Static).update(
            f"Change made {since(stamp)} ago ({when_short(stamp)}, {source})."
            if stamp
            else Text(
                f"Change time unknown: mark step {self._dns_step} done, or press m when the "
                "customer made it.",
                style="dim",
            )
        )
        poller = self.poller
        if not poller.watching:
            text = "Not watching (w starts)."
        elif poller.paused:
            text = f"Paused (p resumes) · interval {poller.interval:g} s"
        else:
            left = max(0, int((poller.next_at or time.time()) - time.time()))
            rounds = poller.latest.round if poller.latest else 0
            text = f"Refreshing every {poller.interval:g} s · next in {left} s · round {rounds}"
        self.query_one("#prop-poll", Static).update(text)

    # ----- done only when complete ---------------------------------------------------------------

    @property
    def _dns_step(self) -> str:
        return self.store.playbook.number_of(Kind.DNS_RECORDS)

    def done_refusal(self) -> str:
        return done_refusal(self.view)

    # ----- actions --------------------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        actions = {
            "prop-watch": self.action_watch,
            "prop-pause": self.action_toggle_pause,
            "prop-refresh": self.action_refresh_now,
            "prop-faster": self.action_faster,
            "prop-slower": self.action_slower,
            "prop-change": self.action_change_made,
        }
        if event.button.id in actions:
            event.stop()
            actions[event.button.id]()

    def action_watch(self) -> None:
        self.post_message(StepBody.WorkStarted())
        self._start_watching()

    def _start_watching(self) -> None:
        """Start the watch and say so: the matrix may look the same until a server changes."""
        poller = self.poller
        if not poller.watching:
            self.notify(f"Watching: every server is asked every {poller.interval:g} s.")
        else:
            self.notify("Asking every server again now.")
        poller.start()
        self._tick()

    def action_toggle_pause(self) -> None:
        poller = self.poller
        if not poller.watching:
            self._start_watching()
        elif poller.paused:
            poller.resume()
            self.notify("Propagation watch resumed.")
        else:
            poller.pause()
            self.notify("Propagation watch paused.")
        self._tick()

    def action_refresh_now(self) -> None:
        self._start_watching()

    def _step_interval(self, direction: int) -> None:
        poller = self.poller
        current = poller.interval
        if direction < 0:
            choices = [i for i in INTERVALS if i < current]
            new = choices[-1] if choices else INTERVALS[0]
        else:
            choices = [i for i in INTERVALS if i > current]
            new = choices[0] if choices else INTERVALS[-1]
        poller.set_interval(new)
        self.controller.set_poll_seconds(new)
        self.notify(f"The matrix refreshes every {new} s.")
        self._tick()

    def action_faster(self) -> None:
        self._step_interval(-1)

    def action_slower(self) -> None:
        self._step_interval(+1)

    def action_change_made(self) -> None:
        self.controller.change_made_now()
        self.post_message(StepBody.EvidenceAdded())
        self.poller.start()
        self._tick()

    @on(Input.Submitted, "#prop-resolvers")
    def save_resolvers(self, event: Input.Submitted) -> None:
        event.stop()
        status = self.query_one("#prop-resolvers-status", Static)
        entries = [e.strip() for e in event.value.split(",") if e.strip()]
        if not entries:
            status.update(Text("Not saved: name at least one resolver.", style="red"))
            return
        try:
            saved = save_resolvers(self.store, entries)
        except DnsConfigError as exc:
            status.update(Text(f"Not saved: {exc}", style="red"))
            return
        status.update(f"Saved: {len(saved)} resolvers. The next round asks them.")
        if self.poller.watching:
            self.poller.refresh_now()
