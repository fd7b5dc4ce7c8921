"""What is still open in a session: the items the completion report and the sign-off list.

A step is open when it is neither done nor skipped (its unticked checklist items are named), a
blocked step says why, and a finished step whose latest check of some kind failed is open again.
"""

from __future__ import annotations

from dataclasses import dataclass

from .store import SessionStore, StepState


@dataclass(frozen=True)
class OpenItem:
    step: str
    title: str
    owner: str
    what: str


def open_items(store: SessionStore) -> tuple[OpenItem, ...]:
    """The session's open items, in playbook order."""
    records = store.step_records()
    items: list[OpenItem] = []
    for step in store.playbook:
        record = records[step.number]
        owner = step.owner.value
        if record.state == StepState.BLOCKED:
            items.append(OpenItem(step.number, step.title, owner, f"blocked: {record.reason}"))
        elif not record.state.settled:
            ticks = store.checklist(step.number)
            missing = [
                item.text
                for item in store.step_text(step.number).checklist
                if not (item.id in ticks and ticks[item.id].ticked)
            ]
            what = record.state.label
            if missing:
                what += "; not yet ticked: " + "; ".join(missing)
            items.append(OpenItem(step.number, step.title, owner, what))
        latest = {e.kind: e for e in store.evidence(step.number)}  # a later check supersedes
        failed = [e for e in latest.values() if e.ok is False]
        if failed and record.state.settled:
            items.append(
                OpenItem(step.number, step.title, owner, f"last check failed: {failed[-1].summary}")
            )
    return tuple(items)
