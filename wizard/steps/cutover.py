"""Cutover step: the day of the switch, done once its parts are (its dependencies say so).

The work is in its parts: the routing switch, the SPF record and the clients. Records no
evidence of its own; the operator ticks that users were told. Its parts all done is its result.
"""

from __future__ import annotations

from ..playbook import Kind
from .base import StepController


class CutoverController(StepController):
    kind = Kind.CUTOVER

    def work_result(self) -> str:
        records = self.store.step_records()
        parts = self.store.playbook.children(self.number)
        if not parts or not all(records[s.number].state.settled for s in parts):
            return ""
        return f"Its {len(parts)} parts are done."
