"""Bodies of the steps that an engine does not drive: what each step asks the operator to record.

Terms: the agreed terms and the customer's contact; add-ons: the add-ons enabled, by whom and
when; mail redirect and routing switch: the mail-routing tasks; clients: the client settings;
local data: the per-mailbox move of contacts, calendars and local data. The rules and the
evidence are the controllers' (``wizard.steps.<kind>``); these bodies show and ask.
"""

from __future__ import annotations

from datetime import date

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Label, Static

from wizard.playbook import Kind
from wizard.steps.addons import AddOnsController
from wizard.steps.clients import ClientsController
from wizard.steps.local_data import GUIDE, LocalDataController
from wizard.steps.mail_redirect import RoutingController
from wizard.steps.terms import TermsController, describe

from ..widgets.tick_box import TickBox
from .base import StepBody, register_body, reveal


class _FormBody(StepBody):
    """A body with a status line for save results."""

    DEFAULT_CSS = """
    _FormBody { height: auto; }
    _FormBody .row { height: auto; }
    _FormBody .row Input { width: 1fr; }
    _FormBody .status { margin: 1 0 0 0; }
    _FormBody .status.error { color: $error; }
    _FormBody .status.ok { color: $success; }
    _FormBody .hint { color: $text-muted; }
    """

    def say(self, text: str, *, error: bool = False) -> None:
        """The answer to what the operator just did, in view with where they did it."""
        status = self.query_one(".status", Static)
        status.update(text)
        status.set_class(error, "error")
        status.set_class(not error, "ok")
        reveal(None, status)


@register_body(Kind.TERMS)
class TermsBody(_FormBody):
    """Who at the customer agreed the terms, and when."""

    MAIN_CONTROL = "#contact"

    BINDINGS = [Binding("ctrl+s", "save", "Save terms")]
    controller: TermsController

    def compose(self) -> ComposeResult:
        terms = self.controller.saved()
        yield Label("Customer contact person")
        with Horizontal(classes="row"):
            yield Input(terms.contact if terms else "", placeholder="Full name", id="contact")
            yield Input(terms.email if terms else "", placeholder="name@customer.com", id="email")
            yield Input(terms.phone if terms else "", placeholder="Phone (optional)", id="phone")
        yield Label("Terms agreed on")
        with Horizontal(classes="row"):
            yield Input(
                terms.agreed_on if terms else "",
                placeholder=f"YYYY-MM-DD, e.g. {date.today().isoformat()}",
                id="agreed-on",
            )
            yield Button("Save terms", id="save-terms", variant="primary")
        yield Static(describe(terms), classes="status")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save-terms":
            event.stop()
            self.action_save()

    def action_save(self) -> None:
        value = {i.id: i.value for i in self.query(Input) if i.id}
        try:
            evidence = self.controller.agree(
                contact=value["contact"],
                email=value["email"],
                phone=value["phone"],
                agreed_on=value["agreed-on"],
            )
        except ValueError as exc:
            self.say(f"Not saved: {exc}.", error=True)
            return
        self.say(evidence.summary)
        self.post_message(StepBody.EvidenceAdded())


@register_body(Kind.ADDONS)
class AddOnsBody(_FormBody):
    """The profile's add-ons, each ticked with who enabled it and when."""

    controller: AddOnsController

    def compose(self) -> ComposeResult:
        addons = self.store.profile.addons
        if not addons:
            yield Static(f"{self.store.profile.name} lists no optional add-ons.", classes="hint")
        yield Static(
            f"Enable what the customer chose in the control panel: {self.store.profile.control_panel_url}",
            classes="hint",
        )
        for addon in addons:
            tick = self.controller.switch_tick(addon.id)
            with Vertical(classes="row"):
                yield TickBox(
                    f"{addon.name}: {addon.description}",
                    value=bool(tick and tick.ticked),
                    id=f"addon-{addon.id}",
                )
                yield Static(self._who(tick), id=f"who-{addon.id}", classes="hint")
        yield Static("", classes="status")

    @staticmethod
    def _who(tick: object) -> str:
        if tick is None or not getattr(tick, "ticked", False):
            return "  not enabled"
        return f"  enabled by {tick.actor} at {tick.changed_at}"  # type: ignore[attr-defined]

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        checkbox_id = event.checkbox.id or ""
        if not checkbox_id.startswith("addon-"):
            return
        event.stop()
        addon_id = checkbox_id.removeprefix("addon-")
        tick, _evidence = self.controller.switch(addon_id, event.value)
        self.query_one(f"#who-{addon_id}", Static).update(self._who(tick))
        self.post_message(StepBody.EvidenceAdded())


@register_body(Kind.MAIL_REDIRECT, Kind.ROUTING_SWITCH)
class RoutingBody(_FormBody):
    """The provider's mail-routing change (redirect on, later off), recorded with what was done."""

    MAIN_CONTROL = "#routing-detail"

    BINDINGS = [Binding("ctrl+s", "record", "Record change")]
    controller: RoutingController

    def compose(self) -> ComposeResult:
        for number, task in enumerate(self.controller.tasks(), start=1):
            yield Static(f"{number}. {task}")
        yield Label("What was changed (ticket number, test message, time)")
        with Horizontal(classes="row"):
            yield Input(
                placeholder="e.g. ticket 4711, test mail received 14:05", id="routing-detail"
            )
            yield Button("Record", id="record-routing", variant="primary")
        last = self.controller.last_change()
        yield Static(
            f"Last recorded: {last.summary} ({last.created_at})" if last else "", classes="status"
        )

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "record-routing":
            event.stop()
            self.action_record()

    def action_record(self) -> None:
        try:
            evidence = self.controller.record_change(self.query_one("#routing-detail", Input).value)
        except ValueError as exc:
            self.say(f"Not recorded: {exc}.", error=True)
            return
        self.query_one("#routing-detail", Input).value = ""
        self.say(f"Last recorded: {evidence.summary} ({evidence.created_at})")
        self.post_message(StepBody.EvidenceAdded())


@register_body(Kind.CLIENTS)
class ClientsBody(_FormBody):
    """Every client and device type with the settings it needs; a tick per guide."""

    controller: ClientsController

    def compose(self) -> ComposeResult:
        for guide in self.controller.guides():
            moved = self.controller.is_moved(guide.id)
            yield TickBox(guide.name, value=moved, id=f"client-{guide.id}")
            yield Static(guide.how, classes="hint")
            yield Static("\n".join(f"    {s.label}: {s.value}" for s in guide.settings))

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        checkbox_id = event.checkbox.id or ""
        if checkbox_id.startswith("client-"):
            event.stop()
            item = checkbox_id.removeprefix("client-")
            if self.controller.is_moved(item) == event.value:
                return  # shown as saved already (ticked in the step's checklist)
            self.controller.tick(item, event.value)
            self.post_message(StepBody.EvidenceAdded())  # the step screen re-reads its ticks

    def checklist_ticked(self, item_id: str, ticked: bool) -> None:
        for box in self.query(f"#client-{item_id}").results(Checkbox):
            box.value = ticked


@register_body(Kind.LOCAL_DATA)
class LocalDataBody(_FormBody):
    """How to move contacts, calendars and local mail, ticked off per mailbox."""

    controller: LocalDataController

    def compose(self) -> ComposeResult:
        yield Static(GUIDE)
        mailboxes = self.store.mailboxes()
        if not mailboxes:
            settings_step = self.store.playbook.number_of(Kind.IMAP_SETTINGS)
            yield Static(f"No mailboxes in the list yet (step {settings_step}).", classes="hint")
        for mailbox in mailboxes:
            label = mailbox.target_address + (
                f" ({mailbox.display_name})" if mailbox.display_name else ""
            )
            moved = self.controller.is_moved(mailbox)
            yield TickBox(label, value=moved, id=f"local-{mailbox.id}")
        yield Static(self.controller.count_text(), classes="status")

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        checkbox_id = event.checkbox.id or ""
        if not checkbox_id.startswith("local-"):
            return
        event.stop()
        self.controller.set_moved(int(checkbox_id.removeprefix("local-")), event.value)
        self.say(self.controller.count_text())
        self.post_message(StepBody.EvidenceAdded())  # the step screen re-reads its ticks
