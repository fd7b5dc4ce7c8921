"""Bodies of the steps that an engine does not drive: what each step asks the operator to record.

Step 1 records the agreed terms and the customer's contact; 6 the add-ons enabled, by whom and
when; 7 and 13.1 the mail-routing tasks; 13.3 the client settings; 15 the per-mailbox move of
contacts, calendars and local data.
"""

from __future__ import annotations

from datetime import date

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Label, Static

from wizard.clients import client_guides
from wizard.forms import check_email, check_name, parse_day

from ..widgets.tick_box import TickBox
from .base import StepBody, register_body


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
        status = self.query_one(".status", Static)
        status.update(text)
        status.set_class(error, "error")
        status.set_class(not error, "ok")


@register_body("1")
class TermsBody(_FormBody):
    """Step 1: who at the customer agreed the terms, and when."""

    BINDINGS = [Binding("ctrl+s", "save", "Save terms")]

    def compose(self) -> ComposeResult:
        terms = self.store.setting("terms", {}) or {}
        yield Label("Customer contact person")
        with Horizontal(classes="row"):
            yield Input(terms.get("contact", ""), placeholder="Full name", id="contact")
            yield Input(terms.get("email", ""), placeholder="name@customer.com", id="email")
            yield Input(terms.get("phone", ""), placeholder="Phone (optional)", id="phone")
        yield Label("Terms agreed on")
        with Horizontal(classes="row"):
            yield Input(
                terms.get("agreed_on", ""),
                placeholder=f"YYYY-MM-DD, e.g. {date.today().isoformat()}",
                id="agreed-on",
            )
            yield Button("Save terms", id="save-terms", variant="primary")
        yield Static(self._saved_text(terms), classes="status")

    @staticmethod
    def _saved_text(terms: dict[str, str]) -> str:
        if not terms:
            return "Nothing recorded yet."
        return f"Terms agreed on {terms['agreed_on']} with {terms['contact']} ({terms['email']})."

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save-terms":
            event.stop()
            self.action_save()

    def action_save(self) -> None:
        value = {i.id: i.value for i in self.query(Input) if i.id}
        try:
            terms = {
                "contact": check_name(value["contact"], "contact person's name"),
                "email": check_email(value["email"], "contact's email address"),
                "phone": value["phone"].strip(),
                "agreed_on": parse_day(value["agreed-on"], "agreement date").isoformat(),
            }
        except ValueError as exc:
            self.say(f"Not saved: {exc}.", error=True)
            return
        self.store.set_setting("terms", terms)
        self.store.add_evidence("1", "terms", self._saved_text(terms), terms, ok=True)
        self.say(self._saved_text(terms))
        self.post_message(StepBody.EvidenceAdded())


@register_body("6")
class AddOnsBody(_FormBody):
    """Step 6: the profile's add-ons, each ticked with who enabled it and when."""

    def compose(self) -> ComposeResult:
        addons = self.store.profile.addons
        ticks = self.store.checklist("6")
        if not addons:
            yield Static(f"{self.store.profile.name} lists no optional add-ons.", classes="hint")
        yield Static(
            f"Enable what the customer chose in the control panel: {self.store.profile.control_panel_url}",
            classes="hint",
        )
        for addon in addons:
            tick = ticks.get(f"addon:{addon.id}")
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
        self.store.tick("6", f"addon:{addon_id}", event.value)
        tick = self.store.checklist("6")[f"addon:{addon_id}"]
        self.query_one(f"#who-{addon_id}", Static).update(self._who(tick))
        name = next(a.name for a in self.store.profile.addons if a.id == addon_id)
        verb = "enabled" if event.value else "disabled"
        if event.value:  # an add-on switched on: the customer chose it and it is enabled
            for item in ("chosen", "enabled"):
                self.store.tick("6", item, True)
        self.store.add_evidence(  # the report lists evidence, not these ticks: name who did it
            "6",
            "addon",
            f"{name} {verb} by {tick.actor}",
            {"addon": addon_id, verb: True, "actor": tick.actor},
        )
        self.post_message(StepBody.EvidenceAdded())


class _RoutingBody(_FormBody):
    """Steps 7 and 13.1: the provider's mail-routing change, recorded with what was done."""

    BINDINGS = [Binding("ctrl+s", "record", "Record change")]
    evidence_kind = "mail-routing"

    def tasks(self) -> list[str]:
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        for number, task in enumerate(self.tasks(), start=1):
            yield Static(f"{number}. {task}")
        yield Label("What was changed (ticket number, test message, time)")
        with Horizontal(classes="row"):
            yield Input(
                placeholder="e.g. ticket 4711, test mail received 14:05", id="routing-detail"
            )
            yield Button("Record", id="record-routing", variant="primary")
        last = self.store.latest_evidence(self.step.number, self.evidence_kind)
        yield Static(
            f"Last recorded: {last.summary} ({last.created_at})" if last else "", classes="status"
        )

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "record-routing":
            event.stop()
            self.action_record()

    def action_record(self) -> None:
        detail = self.query_one("#routing-detail", Input).value.strip()
        if not detail:
            self.say("Not recorded: describe what was changed first.", error=True)
            return
        evidence = self.store.add_evidence(
            self.step.number, self.evidence_kind, detail, {"tasks": self.tasks()}, ok=True
        )
        self.query_one("#routing-detail", Input).value = ""
        self.say(f"Last recorded: {evidence.summary} ({evidence.created_at})")
        self.post_message(StepBody.EvidenceAdded())

    def _imap_host(self) -> str:
        server = self.store.setting("imap.server", {}) or {}
        return str(server.get("host") or "the current IMAP server (see step 3)")


@register_body("7")
class RedirectOnBody(_RoutingBody):
    def tasks(self) -> list[str]:
        return [
            f"In the {self.store.profile.name} control panel, enable Mail Filter Redirection for "
            f"{self.store.domain}, delivering to {self._imap_host()}.",
            f"Send a test message to an address at {self.store.domain} through the provider and "
            "confirm it arrives on the old server.",
        ]


@register_body("13.1")
class RedirectOffBody(_RoutingBody):
    def tasks(self) -> list[str]:
        mx = ", ".join(self.store.profile.mx_hosts)
        tasks = [
            f"In the {self.store.profile.name} control panel, disable Mail Filter Redirection for "
            f"{self.store.domain}: mail now lands in the Exchange mailboxes.",
        ]
        if self.store.third_party_filter:
            tasks.append(
                f"Ask the customer to switch the filtering service's forwarding for "
                f"{self.store.domain} to {mx}."
            )
        tasks.append(
            "Send a test message from outside and confirm it arrives in an Exchange mailbox."
        )
        return tasks


@register_body("13.3")
class ClientsBody(_FormBody):
    """Step 13.3: every client and device type with the settings it needs.

    A guide's tick is the step's checklist item of the same id, so the report shows who moved
    which clients, and when."""

    def compose(self) -> ComposeResult:
        ticks = self.store.checklist("13.3")
        for guide in client_guides(self.store.profile, self.store.domain):
            tick = ticks.get(guide.id)
            yield TickBox(guide.name, value=bool(tick and tick.ticked), id=f"client-{guide.id}")
            yield Static(guide.how, classes="hint")
            yield Static("\n".join(f"    {s.label}: {s.value}" for s in guide.settings))

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        checkbox_id = event.checkbox.id or ""
        if checkbox_id.startswith("client-"):
            event.stop()
            item = checkbox_id.removeprefix("client-")
            tick = self.store.checklist("13.3").get(item)
            if bool(tick and tick.ticked) == event.value:
                return  # shown as saved already (ticked in the step's checklist)
            self.store.tick("13.3", item, event.value)
            self.post_message(StepBody.EvidenceAdded())  # the step screen re-reads its ticks

    def checklist_ticked(self, item_id: str, ticked: bool) -> None:
        for box in self.query(f"#client-{item_id}").results(Checkbox):
            box.value = ticked


@register_body("15")
class LocalDataBody(_FormBody):
    """Step 15: how to move contacts, calendars and local mail, ticked off per mailbox."""

    GUIDE = (
        "IMAP carries mail only. For each user with contacts, calendars or mail kept on their own "
        "computer: in the old client, export them to a PST file (Outlook: File > Open & Export > "
        "Import/Export > Export to a file); then, in Outlook connected to the new account, import "
        "that PST into the new mailbox. Phones that kept contacts only on the device sync them "
        "once they are added to the new account."
    )

    def compose(self) -> ComposeResult:
        yield Static(self.GUIDE)
        mailboxes = self.store.mailboxes()
        if not mailboxes:
            yield Static("No mailboxes in the list yet (step 3).", classes="hint")
        ticks = self.store.checklist("15")
        for mailbox in mailboxes:
            tick = ticks.get(f"mailbox:{mailbox.target_address}")
            label = mailbox.target_address + (
                f" ({mailbox.display_name})" if mailbox.display_name else ""
            )
            yield TickBox(label, value=bool(tick and tick.ticked), id=f"local-{mailbox.id}")
        yield Static(self._count(), classes="status")

    def _count(self) -> str:
        ticks = self.store.checklist("15")
        done = sum(
            1
            for m in self.store.mailboxes()
            if (t := ticks.get(f"mailbox:{m.target_address}")) is not None and t.ticked
        )
        return f"{done} of {len(self.store.mailboxes())} mailboxes confirmed"

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        checkbox_id = event.checkbox.id or ""
        if not checkbox_id.startswith("local-"):
            return
        event.stop()
        mailbox_id = int(checkbox_id.removeprefix("local-"))
        mailbox = next(m for m in self.store.mailboxes() if m.id == mailbox_id)
        self.store.tick("15", f"mailbox:{mailbox.target_address}", event.value)
        self.say(self._count())
