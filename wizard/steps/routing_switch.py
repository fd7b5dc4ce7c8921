"""Routing-switch step (part of the cutover): mail is now delivered to the Exchange mailboxes.

Records "mail-routing" evidence, like the mail redirect it undoes; with a third-party filtering
service the customer also points its forwarding at the provider's MX hosts.
"""

from __future__ import annotations

from ..playbook import Kind
from .mail_redirect import RoutingController


class RoutingSwitchController(RoutingController):
    kind = Kind.ROUTING_SWITCH
    change_item = "redirect-off"

    def tasks(self) -> list[str]:
        store = self.store
        tasks = [
            f"In the {store.profile.name} control panel, disable Mail Filter Redirection for "
            f"{store.domain}: mail now lands in the Exchange mailboxes.",
        ]
        if store.third_party_filter:
            tasks.append(
                f"Ask the customer to switch the filtering service's forwarding for "
                f"{store.domain} to {', '.join(store.profile.mx_hosts)}."
            )
        tasks.append(
            "Send a test message from outside and confirm it arrives in an Exchange mailbox."
        )
        return tasks
