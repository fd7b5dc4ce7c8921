"""Markdown and JSON renderings of a completion report (the HTML one is in ``render_html``).

Both text renderings lead with the summary a customer reads in a minute and the sign-off, then
open items, the steps (each check as its latest result, earlier attempts behind it) and an
appendix of figures. The operator's audience adds an appendix with local paths and commands.
"""

from __future__ import annotations

import dataclasses
import json

from ..formatting import format_bytes, plural
from ..formatting import format_time as human_time
from .model import CheckHistory, CompletionReport, EvidenceLine, ReportTable, StepReport
from .summary import CustomerSummary
from .words import person

AUDIENCES = ("customer", "operator")

STATE_MARK = {
    "done": "✔ done",
    "skipped": "↷ skipped",
    "blocked": "⛔ blocked",
    "in-progress": "… in progress",
    "not-started": "○ not started",
}
RESULT_MARK = {True: "ok", False: "FAILED", None: "info"}


def who_when(step: StepReport, provider: str) -> str:
    if not step.changed_at:
        return ""
    return f"{person(step.actor, provider)} at {human_time(step.changed_at)}"


def status_line(report: CompletionReport) -> str:
    summary = report.summary
    if summary is not None and summary.complete:
        return "Migration complete: every step is settled and both parties signed it off."
    return (
        f"In progress: {report.steps_done} of {report.steps_total} steps done or skipped, "
        f"{plural(len(report.open_items), 'item')} open."
    )


def verified_text(verified: bool | None) -> str:
    return {True: "verified", False: "needs attention", None: "not verified yet"}[verified]


def check_note(check: CheckHistory) -> str:
    """ "later passed after 2 failed attempts", or "" when there is nothing to say."""
    if not check.earlier:
        return ""
    failed = sum(1 for e in check.earlier if e.ok is False)
    if check.recovered:
        return f"passed after {plural(failed, 'failed attempt')}"
    return f"{plural(len(check.earlier), 'earlier attempt')}"


def tables_of(report: CompletionReport, audience: str) -> list[ReportTable]:
    """The tables meant for one audience: "customer" (the appendix) or "operator"."""
    return [t for t in report.tables if t.audience == audience]


def check_audience(audience: str) -> None:
    if audience not in AUDIENCES:
        raise ValueError(f"unknown report audience {audience!r} (expected customer or operator)")


# ----- Markdown --------------------------------------------------------------------------------


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_rows(columns: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    lines = ["| " + " | ".join(_md_escape(c) for c in columns) + " |"]
    lines.append("|" + "---|" * len(columns))
    lines += ["| " + " | ".join(_md_escape(c) for c in row) + " |" for row in rows]
    return [*lines, ""]


def _md_table(table: ReportTable) -> list[str]:
    lines = [f"### {table.title}", ""]
    if table.note:
        lines += [table.note, ""]
    return lines + _md_rows(table.columns, list(table.rows))


def _md_summary(report: CompletionReport, summary: CustomerSummary) -> list[str]:
    lines = ["## Summary", "", status_line(report), ""]
    lines += [
        f"- **Customer:** {report.customer} ({report.domain})",
        f"- **Provider:** {report.provider}"
        + (f" (support: {report.provider_support})" if report.provider_support else ""),
        f"- **Cutover date:** {human_time(summary.cutover_date) or 'not set yet'}",
        f"- **Mail copied:** {plural(summary.messages, 'message')}, "
        f"{format_bytes(summary.size_bytes)} in {plural(len(summary.mailboxes), 'mailbox')}",
        f"- **Third-party mail filtering kept in front:** {'yes' if report.third_party_filter else 'no'}",
        f"- **Add-ons enabled:** {', '.join(summary.addons) if summary.addons else 'none'}",
        f"- **Report of:** {human_time(report.generated_at)}",
        "",
        "### Mailboxes moved",
        "",
    ]
    rows = [
        (
            m.name or m.address,
            m.address,
            m.source_login,
            str(m.messages),
            format_bytes(m.size_bytes),
            verified_text(m.verified),
        )
        for m in summary.mailboxes
    ]
    if rows:
        lines += _md_rows(
            ("Mailbox", "New address", "Old login", "Messages", "Size", "Verification"), rows
        )
    else:
        lines += ["No mailboxes are listed yet.", ""]
    lines += ["### DNS as last checked", ""]
    if summary.dns:
        lines += _md_rows(
            ("Record", "Result", "Checked"),
            [
                (d.record, f"{RESULT_MARK[d.ok]}: {d.summary}", human_time(d.checked_at))
                for d in summary.dns
            ],
        )
    else:
        lines += ["Not checked yet.", ""]
    lines += ["### What you do next", ""]
    lines += [f"{n}. {text}" for n, text in enumerate(summary.next_steps, start=1)]
    return [*lines, ""]


def _md_signoff(report: CompletionReport, summary: CustomerSummary) -> list[str]:
    lines = ["## Sign-off", ""]
    signature = summary.signature
    if signature is None:
        lines += [
            "Not signed off yet.",
            "",
            f"- For {report.provider}: name ______________________ date ___________",
            f"- For {report.customer}: name ______________________ date ___________",
            "",
        ]
        return lines
    verdict = "complete" if signature.complete else "not complete yet"
    return [
        *lines,
        f"- For {report.provider}: **{signature.provider_name}**, {human_time(signature.day)}",
        f"- For {report.customer}: **{signature.customer_name}**, {human_time(signature.day)}",
        f"- Both parties call the migration **{verdict}**.",
        "",
    ]


def _md_check(check: CheckHistory) -> list[str]:
    latest = check.latest
    note = check_note(check)
    lines = [
        f"- [{RESULT_MARK[latest.ok]}] {latest.kind}: {latest.summary} "
        f"({human_time(latest.at)}{', ' + note if note else ''})"
    ]
    lines += [
        f"  - earlier, {human_time(e.at)}: [{RESULT_MARK[e.ok]}] {e.kind}: {e.summary}"
        for e in check.earlier
    ]
    return lines


def _md_step(step: StepReport, provider: str) -> list[str]:
    lines = [f"#### Step {step.number}: {step.title}", ""]
    status = f"- **Owner:** {step.owner} · **State:** {STATE_MARK.get(step.state, step.state)}"
    if step.changed_at:
        status += f" · by {who_when(step, provider)}"
    lines.append(status)
    if step.reason:
        lines.append(f"- **Reason:** {step.reason}")
    if step.override:
        lines.append(f"- **Dependency override:** {step.override}")
    lines.append(f"- {step.text}")
    for item in step.checklist:
        mark = "x" if item.ticked else " "
        who = (
            f" ({person(item.actor, provider)}, {human_time(item.at)})"
            if item.ticked and item.actor
            else ""
        )
        lines.append(f"  - [{mark}] {item.text}{who}")
    if step.note:
        lines += ["", "**Notes:**", ""]
        lines += [f"> {line}" if line else ">" for line in step.note.splitlines()]
    if step.evidence:
        lines += ["", "**Checks:**", ""]
        for check in step.checks:
            lines += _md_check(check)
    return [*lines, ""]


def _md_operator(report: CompletionReport, tables: list[ReportTable]) -> list[str]:
    lines = ["## Appendix B: for the operator", ""]
    lines += [
        f"- **Session file:** {report.session_path}",
        f"- **Session:** {report.session}, started {human_time(report.created_at)}, "
        f"last change {human_time(report.updated_at)}",
        f"- **Resume it:** `onboard resume {report.session}`; a bundle with the activity log: "
        f"`onboard report {report.session} --with-log`",
        "",
    ]
    for table in tables:
        lines += _md_table(table)
    return lines


def to_markdown(report: CompletionReport, audience: str = "customer") -> str:
    check_audience(audience)
    title = f"# Onboarding completion report: {report.customer}"
    lines = [title + (" (DEMO)" if report.demo else ""), ""]
    summary = report.summary
    if summary is not None:
        lines += _md_summary(report, summary)
        lines += _md_signoff(report, summary)
    lines += ["## Open items", ""]
    if report.open_items:
        for item in report.open_items:
            lines.append(f"- **Step {item.step}** ({item.owner}) {item.title}: {item.what}")
    else:
        lines.append("None: every step is done or skipped.")
    lines += ["", "## Steps", ""]
    phase = None
    for step in report.steps:
        if step.phase != phase:
            phase = step.phase
            lines += [f"### Phase {phase}: {step.phase_name}", ""]
        lines += _md_step(step, report.provider)
    customer_tables = tables_of(report, "customer")
    if customer_tables:
        lines += ["## Appendix A: figures", ""]
        for table in customer_tables:
            lines += _md_table(table)
    if audience == "operator":
        lines += _md_operator(report, tables_of(report, "operator"))
    return "\n".join(lines).rstrip() + "\n"


# ----- JSON --------------------------------------------------------------------------------


def to_json(report: CompletionReport, audience: str = "customer") -> str:
    """Everything, for scripts: times stay ISO 8601; the audience only drops the operator's
    tables and the session path from the customer's copy."""
    check_audience(audience)
    if audience == "customer":
        report = dataclasses.replace(
            report,
            tables=tuple(tables_of(report, "customer")),
            session_path="",
        )
    data = dataclasses.asdict(report)
    for step, source in zip(data["steps"], report.steps, strict=True):
        step["open"] = source.is_open
    return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"


__all__ = ["AUDIENCES", "EvidenceLine", "to_json", "to_markdown"]
