"""DNS records and Outlook: the records the customer enters, and live checks of MX and Autodiscover.

Neither body asks DNS on its own when it opens: it shows the last check saved in the session
(evidence) and checks on a key press, in a worker thread. The servers asked are the session's
resolver list (the propagation step edits it), else this machine's resolver. The checks and the
evidence they record are the controllers' (``wizard.steps.dns_records`` and ``.outlook``).
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Label, Static

from wizard.dns import DnsConfigError, RecordToPublish
from wizard.playbook import Kind
from wizard.session_records import SessionError, when_short
from wizard.steps.dns_records import DnsCheckController, DnsRecordsController
from wizard.steps.outlook import OutlookController

from .base import StepBody, register_body, reveal
from .dns_view import FindingList, servers_line, session_resolver


class DnsCheckBody(StepBody):
    """A body with a "check now" action that saves each result as evidence."""

    DEFAULT_CSS = """
    DnsCheckBody { height: auto; }
    DnsCheckBody .buttons { height: auto; margin: 1 0 0 0; }
    DnsCheckBody .hint { color: $text-muted; }
    DnsCheckBody Label { margin: 1 0 0 0; text-style: bold; }
    DnsCheckBody .check-status { margin: 1 0 0 0; }
    DnsCheckBody DataTable { height: auto; max-height: 10; }
    """
    controller: DnsCheckController

    def _show_status(self, text: str | Text) -> None:
        self.query_one(".check-status", Static).update(text)

    def _last(self, kind: str) -> dict[str, Any] | None:
        return self.controller.last(kind)

    checking = "Checking…"  # the status line while the worker runs
    button_actions: dict[str, str] = {}  # button id -> action name, besides "dns-check"
    result = ".check-status"  # what a check shows its answer in: scrolled into view

    def show_saved(self) -> None:
        """Show the newest results saved in the session."""
        raise NotImplementedError

    def on_mount(self) -> None:
        self.show_saved()

    def _last_checked(self, stamp: str) -> None:
        line = servers_line(self.store)
        self._show_status(f"Last checked {when_short(stamp)}. {line}" if stamp else line)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        actions = {"dns-check": "check", **self.button_actions}
        if event.button.id in actions:
            event.stop()
            getattr(self, f"action_{actions[event.button.id]}")()

    def action_check(self) -> None:
        self.post_message(StepBody.WorkStarted())
        self._show_status(self.checking)
        self.query_one("#dns-check", Button).disabled = True
        self._reveal()
        self.run_check()

    def _reveal(self) -> None:
        reveal(self.query_one("#dns-check").parent or self, self.query_one(self.result))

    @work(thread=True, exclusive=True, group="dns-check")
    def run_check(self) -> None:
        try:
            resolver = session_resolver(self.store)
        except DnsConfigError as exc:
            self.app.call_from_thread(self._checked, f"Not checked: {exc}")
            return
        try:
            self.controller.check(resolver)
        except SessionError:
            return  # the session was closed while DNS was asked
        except Exception as exc:  # a bug or an odd reply must not take the app down
            self.app.call_from_thread(self._checked, f"The check failed: {exc!r}")
            return
        self.app.call_from_thread(self._checked, "")

    def _checked(self, error: str) -> None:
        if self.store.closed or not self.is_mounted:
            return
        self.query_one("#dns-check", Button).disabled = False
        if error:
            self._show_status(Text(error, style="red"))
            self._reveal()
            return
        self.show_saved()
        self._reveal()
        self.post_message(StepBody.EvidenceAdded())


@register_body(Kind.DNS_RECORDS)
class DnsRecordsBody(DnsCheckBody):
    """The exact records to enter, and a live check of MX and Autodiscover."""

    controller: DnsRecordsController

    BINDINGS = [
        Binding("c", "check", "Check MX + Autodiscover"),
        Binding("y", "copy_records", "Copy records"),
    ]

    def compose(self) -> ComposeResult:
        yield Static(id="dns-instructions")
        table: DataTable[str | Text] = DataTable(
            id="dns-records", cursor_type="row", zebra_stripes=True
        )
        for key, label in (
            ("name", "Name"),
            ("type", "Type"),
            ("value", "Value"),
            ("note", "Note"),
        ):
            table.add_column(label, key=key)
        yield table
        with Horizontal(classes="buttons"):
            yield Button("Check MX and Autodiscover (c)", id="dns-check", variant="primary")
            yield Button("Copy the records (y)", id="dns-copy")
        yield Static("", classes="check-status hint")
        yield Label("MX")
        yield FindingList(id="mx-findings")
        yield Label("Autodiscover")
        yield FindingList(id="autodiscover-findings")

    checking = "Checking MX and Autodiscover…"
    button_actions = {"dns-copy": "copy_records"}
    result = "#autodiscover-findings"

    def on_mount(self) -> None:
        self._show_records()
        self.show_saved()

    async def variant_changed(self) -> None:
        self._show_records()

    # ----- the records ---------------------------------------------------------------------------

    def _records(self) -> tuple[RecordToPublish, ...]:
        return self.controller.records_to_publish()

    def _show_records(self) -> None:
        store, profile = self.store, self.store.profile
        if store.third_party_filter:
            text = (
                f"The customer keeps a third-party filtering service in front of {store.domain}: "
                "leave the MX records alone, they stay on the filtering service until the "
                f"cutover (step {store.playbook.number_of(Kind.ROUTING_SWITCH)}). At the DNS host "
                "of the domain, create only the Autodiscover records below."
            )
        else:
            text = (
                f"At the DNS host of {store.domain}, replace every MX record with the "
                f"{profile.name} hosts below (delete the old ones), and create the Autodiscover "
                "records. A TTL of 3600 s or less lets the change spread quickly."
            )
        self.query_one("#dns-instructions", Static).update(text)
        table = self.query_one("#dns-records", DataTable)
        table.clear()
        for record in self._records():
            table.add_row(record.name, record.rdtype, record.value, record.note)

    def action_copy_records(self) -> None:
        lines = "\n".join(r.zone_line() for r in self._records())
        self.app.copy_to_clipboard(lines)
        self.notify(f"{len(self._records())} records copied in zone-file form.", title="Copied")

    # ----- the check -----------------------------------------------------------------------------

    def show_saved(self) -> None:
        mx, auto = self._last("dns.mx"), self._last("dns.autodiscover")
        self.query_one("#mx-findings", FindingList).show(
            mx["findings"] if mx else [], "Not checked yet: press c after the customer's change."
        )
        self.query_one("#autodiscover-findings", FindingList).show(
            auto["findings"] if auto else [], "Not checked yet."
        )
        self._last_checked((mx or auto or {}).get("checked_at", ""))


@register_body(Kind.OUTLOOK)
class OutlookBody(DnsCheckBody):
    """What the users type into Outlook, and what Autodiscover will give Outlook."""

    controller: OutlookController

    BINDINGS = [Binding("c", "check", "Check Autodiscover")]

    def compose(self) -> ComposeResult:
        outlook = self.controller.guide()
        yield Static(outlook.how)
        yield Static("\n".join(f"    {s.label}: {s.value}" for s in outlook.settings))
        yield Static(
            "On each computer: Control Panel > Mail > Show Profiles > Add, name it after the new "
            "account, enter the user's address; choose 'Always use this profile' on cutover day.",
            classes="hint",
        )
        with Horizontal(classes="buttons"):
            yield Button("Check Autodiscover (c)", id="dns-check", variant="primary")
        yield Static("", classes="check-status hint")
        yield Label("What Outlook will find")
        yield Static("", id="outlook-finds")
        yield FindingList(id="autodiscover-findings")

    checking = "Checking Autodiscover…"
    result = "#autodiscover-findings"

    def show_saved(self) -> None:
        auto = self._last("dns.autodiscover")
        self.query_one("#outlook-finds", Static).update(
            auto.get("outlook", "") if auto else "Not checked yet: press c."
        )
        self.query_one("#autodiscover-findings", FindingList).show(auto["findings"] if auto else [])
        self._last_checked(auto.get("checked_at", "") if auto else "")
