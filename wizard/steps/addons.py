"""Add-ons step: the profile's optional services, each switched on with who did it and when.

A switch is the checklist item "addon:<id>"; switching one on also ticks "chosen" and "enabled".
Records "addon" evidence for every switch, as the report lists evidence, not these ticks.
An add-on that is on proves both items; a customer who wants none leaves them to the operator.
"""

from __future__ import annotations

from ..playbook import Kind
from ..session_records import ChecklistTick, Evidence
from .base import Proof, StepController


def addon_item(addon_id: str) -> str:
    return f"addon:{addon_id}"


class AddOnsController(StepController):
    kind = Kind.ADDONS
    records = ("addon",)

    def switch_tick(self, addon_id: str) -> ChecklistTick | None:
        return self.ticks().get(addon_item(addon_id))

    def switch(self, addon_id: str, enabled: bool) -> tuple[ChecklistTick, Evidence]:
        """Record that an add-on was switched on (or off) in the control panel."""
        name = next(a.name for a in self.store.profile.addons if a.id == addon_id)
        self.tick(addon_item(addon_id), enabled)
        tick = self.ticks()[addon_item(addon_id)]
        if enabled:  # an add-on switched on: the customer chose it and it is enabled
            for item in ("chosen", "enabled"):
                self.tick(item, True)
        verb = "enabled" if enabled else "disabled"
        evidence = self.record(
            "addon",
            f"{name} {verb} by {tick.actor}",
            {"addon": addon_id, verb: True, "actor": tick.actor},
        )
        return tick, evidence

    def enabled(self) -> list[str]:
        """The names of the add-ons switched on now."""
        return [
            a.name
            for a in self.store.profile.addons
            if (tick := self.switch_tick(a.id)) is not None and tick.ticked
        ]

    def proofs(self) -> dict[str, Proof]:
        names = self.enabled()
        if not names:
            return {}
        at = max(t.changed_at for key, t in self.ticks().items() if key.startswith("addon:"))
        proof = Proof(f"Enabled: {', '.join(names)}", at)
        return {"chosen": proof, "enabled": proof}

    def work_result(self) -> str:
        names = self.enabled()
        return f"{len(names)} add-ons enabled: {', '.join(names)}." if names else ""
