"""``build_report``: the completion report of a session as plain data, with every engine's tables."""

from __future__ import annotations

from collections.abc import Callable

from ..open_items import open_items
from ..playbook import PHASES
from ..store import SessionStore, now_iso
from .activity_table import activity_tables
from .figures import copy_tables
from .model import ChecklistLine, CompletionReport, EvidenceLine, ReportTable, StepReport
from .summary import build_summary

# Engines append functions that add tables of their own to the report.
TableSource = Callable[[SessionStore], list[ReportTable]]
TABLE_SOURCES: list[TableSource] = []
DEFAULT_SOURCES: tuple[TableSource, ...] = (copy_tables, activity_tables)


def build_report(store: SessionStore) -> CompletionReport:
    records = store.step_records()
    notes = store.notes()
    steps: list[StepReport] = []
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
        steps.append(
            StepReport(
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
        )
    done, total = store.progress()
    support = store.profile.support
    tables: list[ReportTable] = []
    for source in [*DEFAULT_SOURCES, *TABLE_SOURCES]:
        tables.extend(source(store))
    return CompletionReport(
        customer=store.customer,
        domain=store.domain,
        provider=store.profile.name,
        provider_support=", ".join(x for x in (support.email, support.phone, support.url) if x),
        session=store.name,
        demo=store.demo,
        third_party_filter=store.third_party_filter,
        created_at=store.created_at,
        updated_at=store.updated_at,
        generated_at=now_iso(),
        steps_done=done,
        steps_total=total,
        open_items=open_items(store),
        steps=tuple(steps),
        tables=tuple(tables),
        summary=build_summary(store, {s.number for s in steps if s.is_open}),
        session_path=str(store.path),
    )
