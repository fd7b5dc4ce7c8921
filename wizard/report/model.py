"""The completion report as plain data (``build_report`` makes it); renderers turn it into text."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..open_items import OpenItem
from ..store import StepState


@dataclass(frozen=True)
class ChecklistLine:
    text: str
    ticked: bool
    actor: str = ""
    at: str = ""


@dataclass(frozen=True)
class EvidenceLine:
    at: str
    kind: str
    summary: str
    ok: bool | None
    data: dict[str, Any]


@dataclass(frozen=True)
class StepReport:
    number: str
    phase: int
    phase_name: str
    title: str
    owner: str
    state: str
    reason: str
    actor: str
    changed_at: str
    override: str
    text: str
    checklist: tuple[ChecklistLine, ...]
    note: str
    evidence: tuple[EvidenceLine, ...]

    @property
    def is_open(self) -> bool:
        return self.state not in (StepState.DONE.value, StepState.SKIPPED.value)


@dataclass(frozen=True)
class ReportTable:
    """A table an engine adds to the report (copy figures, verification, DNS evidence)."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""
    # Optional numeric series for a small inline chart in the HTML report: {label: [values]}.
    chart: dict[str, list[float]] = field(default_factory=dict)


@dataclass(frozen=True)
class CompletionReport:
    customer: str
    domain: str
    provider: str
    provider_support: str
    session: str
    demo: bool
    third_party_filter: bool
    created_at: str
    updated_at: str
    generated_at: str
    steps_done: int
    steps_total: int
    open_items: tuple[OpenItem, ...]
    steps: tuple[StepReport, ...]
    tables: tuple[ReportTable, ...] = ()


__all__ = [
    "ChecklistLine",
    "CompletionReport",
    "EvidenceLine",
    "OpenItem",
    "ReportTable",
    "StepReport",
]
