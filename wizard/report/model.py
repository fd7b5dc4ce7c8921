"""The completion report as plain data (``build_report`` makes it); renderers turn it into text."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..open_items import OpenItem
from ..store import StepState
from .summary import CustomerSummary


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

    @property
    def checks(self) -> tuple[CheckHistory, ...]:
        """The evidence as one line per kind: its latest result, earlier attempts behind it."""
        by_kind: dict[str, list[EvidenceLine]] = {}
        for line in self.evidence:
            by_kind.setdefault(line.kind, []).append(line)
        return tuple(
            CheckHistory(lines[-1], tuple(reversed(lines[:-1]))) for lines in by_kind.values()
        )


@dataclass(frozen=True)
class CheckHistory:
    """A check's latest result and the attempts before it (newest first)."""

    latest: EvidenceLine
    earlier: tuple[EvidenceLine, ...] = ()

    @property
    def recovered(self) -> bool:
        """It failed before and passes now: the reader sees "later passed", not a red line."""
        return self.latest.ok is True and any(e.ok is False for e in self.earlier)


@dataclass(frozen=True)
class ReportTable:
    """A table an engine adds to the report (copy figures, verification, DNS evidence)."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""
    # Optional numeric series for a small inline chart in the HTML report: {label: [values]}.
    chart: dict[str, list[float]] = field(default_factory=dict)
    chart_labels: tuple[str, ...] = ()  # one per value along the x axis (mailbox, minute)
    chart_unit: str = ""  # what the y axis counts
    # "customer": in every report; "operator": only in the operator's appendix (paths, commands).
    audience: str = "customer"


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
    summary: CustomerSummary | None = None
    session_path: str = ""  # for the operator's appendix only


__all__ = [
    "ChecklistLine",
    "CompletionReport",
    "EvidenceLine",
    "OpenItem",
    "ReportTable",
    "StepReport",
]
