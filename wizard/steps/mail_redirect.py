"""Mail-redirect step: before MX changes, mail reaching the provider is passed to the old server.

Records "mail-routing" evidence (what was changed: ticket, test message, time) with the tasks the
operator was shown. ``RoutingController`` is shared with the routing switch at cutover. The
recorded change proves the change item (``CHANGE_ITEM``); the test message and a filtering
service's forwarding are confirmed by the operator.
"""

from __future__ import annotations

from typing import ClassVar

from ..imap.settings import load_settings
from ..playbook import Kind
from ..session_records import Evidence
from .base import Proof, StepController, proof_from

ROUTING_KIND = "mail-routing"


class RoutingController(StepController):
    """A provider-side mail-routing change, recorded with what was done."""

    records = (ROUTING_KIND,)
    change_item: ClassVar[str] = ""  # the checklist item the recorded change proves

    def proofs(self) -> dict[str, Proof]:
        proof = proof_from(self.last_change())
        return {self.change_item: proof} if proof and self.change_item else {}

    def work_result(self) -> str:
        last = self.last_change()
        return f"Change recorded: {last.summary}." if last else ""

    def tasks(self) -> list[str]:
        raise NotImplementedError

    def last_change(self) -> Evidence | None:
        return self.latest(ROUTING_KIND)

    def record_change(self, detail: str) -> Evidence:
        """Record what was changed; raises ValueError when nothing was described."""
        detail = detail.strip()
        if not detail:
            raise ValueError("describe what was changed first")
        return self.record(ROUTING_KIND, detail, {"tasks": self.tasks()}, ok=True)

    def imap_host(self) -> str:
        server = load_settings(self.store)
        settings_step = self.store.playbook.number_of(Kind.IMAP_SETTINGS)
        return server.host if server else f"the current IMAP server (see step {settings_step})"


class MailRedirectController(RoutingController):
    kind = Kind.MAIL_REDIRECT
    change_item = "redirect"

    def tasks(self) -> list[str]:
        store = self.store
        return [
            f"In the {store.profile.name} control panel, enable Mail Filter Redirection for "
            f"{store.domain}, delivering to {self.imap_host()}.",
            f"Send a test message to an address at {store.domain} through the provider and "
            "confirm it arrives on the old server.",
        ]
