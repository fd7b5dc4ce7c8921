"""Clients step (part of the cutover): every client and device type with the settings it needs.

A guide's tick is the step's checklist item of the same id, so the report shows who moved which
clients, and when. Records no evidence of its own: every guide ticked is the step's result.
"""

from __future__ import annotations

from ..clients import ClientGuide, client_guides
from ..playbook import Kind
from .base import StepController


class ClientsController(StepController):
    kind = Kind.CLIENTS

    def guides(self) -> list[ClientGuide]:
        return list(client_guides(self.store.profile, self.store.domain))

    def is_moved(self, guide_id: str) -> bool:
        tick = self.ticks().get(guide_id)
        return bool(tick and tick.ticked)
