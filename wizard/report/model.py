"""The completion report as plain data, built from a session; renderers turn it into text."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..playbook import PHASES
from ..secrets import SecretStore, session_secret_keys
from ..store import SessionStore, StepState, now_iso
from .summary import CustomerSummary, build_summary

REDACTED = "[redacted]"


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
class OpenItem:
    step: str
    title: str
    owner: str
    what: str


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


# Engines append functions that add tables of their own to the report.
TableSource = Callable[[SessionStore], list[ReportTable]]
TABLE_SOURCES: list[TableSource] = []


def _default_sources() -> list[TableSource]:
    from ..activity import report_tables as activity_tables
    from .figures import copy_tables

    return [copy_tables, activity_tables]


def build_report(store: SessionStore) -> CompletionReport:
    records = store.step_records()
    notes = store.notes()
    variant_filter = store.third_party_filter
    steps: list[StepReport] = []
    open_items: list[OpenItem] = []
    for step in store.playbook:
        record = records[step.number]
        variant = store.step_text(step.number)
        ticks = store.checklist(step.number)
        checklist = tuple(
            ChecklistLine(
                item.text,
                bool(ticks.get(item.id) and ticks[item.id].ticked),
                ticks[item.id].actor if item.id in ticks else "",
                ticks[item.id].changed_at if item.id in ticks else "",
            )
            for item in variant.checklist
        )
        evidence = tuple(
            EvidenceLine(e.created_at, e.kind, e.summary, e.ok, e.data)
            for e in store.evidence(step.number)
        )
        report = StepReport(
            number=step.number,
            phase=step.phase,
            phase_name=PHASES[step.phase],
            title=step.title,
            owner=step.owner.value,
            state=record.state.value,
            reason=record.reason,
            actor=record.actor,
            changed_at=record.changed_at,
            override=record.override,
            text=variant.text,
            checklist=checklist,
            note=notes.get(step.number, ""),
            evidence=evidence,
        )
        steps.append(report)
        if record.state == StepState.BLOCKED:
            open_items.append(
                OpenItem(step.number, step.title, step.owner.value, f"blocked: {record.reason}")
            )
        elif report.is_open:
            missing = [c.text for c in checklist if not c.ticked]
            what = record.state.label
            if missing:
                what += "; not yet ticked: " + "; ".join(missing)
            open_items.append(OpenItem(step.number, step.title, step.owner.value, what))
        latest = {e.kind: e for e in evidence}  # a later check of the same kind supersedes
        failed = [e for e in latest.values() if e.ok is False]
        if failed and not report.is_open:
            open_items.append(
                OpenItem(
                    step.number,
                    step.title,
                    step.owner.value,
                    f"last check failed: {failed[-1].summary}",
                )
            )
    done, total = store.progress()
    support = store.profile.support
    tables: list[ReportTable] = []
    for source in [*_default_sources(), *TABLE_SOURCES]:
        tables.extend(source(store))
    return CompletionReport(
        customer=store.customer,
        domain=store.domain,
        provider=store.profile.name,
        provider_support=", ".join(x for x in (support.email, support.phone, support.url) if x),
        session=store.name,
        demo=store.demo,
        third_party_filter=variant_filter,
        created_at=store.created_at,
        updated_at=store.updated_at,
        generated_at=now_iso(),
        steps_done=done,
        steps_total=total,
        open_items=tuple(open_items),
        steps=tuple(steps),
        tables=tuple(tables),
        summary=build_summary(store, {s.number for s in steps if s.is_open}),
        session_path=str(store.path),
    )


def known_secrets(store: SessionStore) -> list[str]:
    """Every secret the keyring holds for this session, to be kept out of reports."""
    secrets = SecretStore(store.name)
    found = [secrets.get(key) for key in session_secret_keys(store)]
    return sorted({s for s in found if s and len(s) >= 3}, key=len, reverse=True)


def redact(value: Any, secrets: list[str]) -> Any:
    """A copy of a report (or any part of it) with every known secret replaced.

    Done on the data before rendering, so escaping (HTML entities, JSON) cannot hide a secret.
    """
    if not secrets:
        return value
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, REDACTED)
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            f.name: redact(getattr(value, f.name), secrets) for f in dataclasses.fields(value)
        }
        return dataclasses.replace(value, **changes)
    if isinstance(value, dict):
        return {redact(k, secrets): redact(v, secrets) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(redact(v, secrets) for v in value)
    if isinstance(value, list):
        return [redact(v, secrets) for v in value]
    return value
