"""Markdown, self-contained HTML and JSON renderings of a completion report."""

from __future__ import annotations

import dataclasses
import html
import json

from .model import CompletionReport, ReportTable, StepReport

STATE_MARK = {
    "done": "✔ done",
    "skipped": "↷ skipped",
    "blocked": "⛔ blocked",
    "in-progress": "… in progress",
    "not-started": "○ not started",
}


def _who_when(step: StepReport) -> str:
    if not step.changed_at:
        return ""
    return f"{step.actor} at {step.changed_at}"


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_table(table: ReportTable) -> list[str]:
    lines = [f"### {table.title}", ""]
    if table.note:
        lines += [table.note, ""]
    lines.append("| " + " | ".join(_md_escape(c) for c in table.columns) + " |")
    lines.append("|" + "---|" * len(table.columns))
    for row in table.rows:
        lines.append("| " + " | ".join(_md_escape(c) for c in row) + " |")
    return [*lines, ""]


def to_markdown(report: CompletionReport) -> str:
    title = f"# Onboarding completion report: {report.customer}"
    lines = [title + (" (DEMO)" if report.demo else ""), ""]
    lines += [
        f"- **Customer:** {report.customer}",
        f"- **Domain:** {report.domain}",
        f"- **Provider:** {report.provider}"
        + (f" (support: {report.provider_support})" if report.provider_support else ""),
        f"- **Third-party mail filtering kept in front:** {'yes' if report.third_party_filter else 'no'}",
        f"- **Session:** {report.session}, started {report.created_at}, last change {report.updated_at}",
        f"- **Report generated:** {report.generated_at}",
        f"- **Progress:** {report.steps_done} of {report.steps_total} steps done or skipped",
        "",
        "## Open items",
        "",
    ]
    if report.open_items:
        for item in report.open_items:
            lines.append(f"- **Step {item.step}** ({item.owner}) {item.title}: {item.what}")
    else:
        lines.append("None: every step is done or skipped.")
    lines.append("")
    if report.tables:
        lines += ["## Figures", ""]
        for table in report.tables:
            lines += _md_table(table)
    lines += ["## Steps", ""]
    phase = None
    for step in report.steps:
        if step.phase != phase:
            phase = step.phase
            lines += [f"### Phase {phase}: {step.phase_name}", ""]
        lines.append(f"#### Step {step.number}: {step.title}")
        lines.append("")
        status = f"- **Owner:** {step.owner} · **State:** {STATE_MARK.get(step.state, step.state)}"
        if step.changed_at:
            status += f" · by {_who_when(step)}"
        lines.append(status)
        if step.reason:
            lines.append(f"- **Reason:** {step.reason}")
        if step.override:
            lines.append(f"- **Dependency override:** {step.override}")
        lines.append(f"- {step.text}")
        for item in step.checklist:
            mark = "x" if item.ticked else " "
            who = f" ({item.actor}, {item.at})" if item.ticked and item.actor else ""
            lines.append(f"  - [{mark}] {item.text}{who}")
        if step.note:
            lines += ["", "**Notes:**", ""]
            lines += [f"> {line}" if line else ">" for line in step.note.splitlines()]
        if step.evidence:
            lines += ["", "**Evidence:**", ""]
            for ev in step.evidence:
                mark = {True: "ok", False: "FAILED", None: "info"}[ev.ok]
                lines.append(f"- {ev.at} [{mark}] {ev.kind}: {ev.summary}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:60rem;
color:#1d232b;line-height:1.45;padding:0 1rem}
h1{font-size:1.6rem}h2{border-bottom:2px solid #d5dbe3;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0 1rem;width:100%}
td,th{border:1px solid #d5dbe3;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#eef2f6}.facts td:first-child{font-weight:600;width:16rem}
.state{font-weight:600;white-space:nowrap}.done{color:#1c7c3c}.skipped{color:#6b7480}
.blocked{color:#b3261e}.in-progress{color:#a05a00}.not-started{color:#6b7480}
.owner{display:inline-block;border-radius:.6rem;padding:0 .5rem;font-size:.8rem;color:#fff}
.owner-customer{background:#2f6fb3}.owner-provider{background:#7b3fb3}.owner-everyone{background:#2d8a74}
.step{border:1px solid #d5dbe3;border-radius:.4rem;padding:.6rem 1rem;margin:.8rem 0}
.note{background:#f7f4e8;border-left:4px solid #d8c36a;padding:.4rem .8rem;white-space:pre-wrap}
.ok{color:#1c7c3c}.failed{color:#b3261e}.info{color:#6b7480}.demo{background:#fff3cd;padding:.5rem}
ul.check{list-style:none;padding-left:1rem}
.open li{margin:.2rem 0}svg{display:block;margin:.3rem 0 1rem}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _bar_chart(table: ReportTable) -> str:
    """A small inline SVG bar chart of the table's series, no scripts, no fetches."""
    if not table.chart:
        return ""
    series = list(table.chart.items())
    count = max(len(values) for _, values in series)
    peak = max((max(values) for _, values in series if values), default=0) or 1
    width, height, pad = 640, 140, 24
    group = (width - pad) / max(count, 1)
    bar = max(group / (len(series) + 1), 2)
    colours = ["#2f6fb3", "#2d8a74", "#b3261e", "#7b3fb3"]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + pad}" '
        f'role="img" aria-label="{_e(table.title)}">'
    ]
    for s_index, (_label, values) in enumerate(series):
        for i, value in enumerate(values):
            h = (value / peak) * height
            x = pad + i * group + s_index * bar
            parts.append(
                f'<rect x="{x:.1f}" y="{height - h:.1f}" width="{bar - 1:.1f}" height="{h:.1f}" '
                f'fill="{colours[s_index % len(colours)]}"><title>{_e(value)}</title></rect>'
            )
    for s_index, (label, _values) in enumerate(series):
        parts.append(
            f'<text x="{pad + s_index * 140}" y="{height + 18}" font-size="12" '
            f'fill="{colours[s_index % len(colours)]}">■ {_e(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _html_table(table: ReportTable) -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in table.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in table.rows
    )
    note = f"<p>{_e(table.note)}</p>" if table.note else ""
    return (
        f"<h3>{_e(table.title)}</h3>{note}{_bar_chart(table)}"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def to_html(report: CompletionReport) -> str:
    out: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Onboarding report: {_e(report.customer)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Onboarding completion report: {_e(report.customer)}</h1>",
    ]
    if report.demo:
        out.append('<p class="demo">This report comes from a demo session with generated data.</p>')
    facts = [
        ("Customer", report.customer),
        ("Domain", report.domain),
        ("Provider", report.provider),
        ("Provider support", report.provider_support),
        ("Third-party filtering kept", "yes" if report.third_party_filter else "no"),
        ("Session", report.session),
        ("Started", report.created_at),
        ("Last change", report.updated_at),
        ("Report generated", report.generated_at),
        ("Progress", f"{report.steps_done} of {report.steps_total} steps done or skipped"),
    ]
    out.append('<table class="facts">')
    out += [f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in facts]
    out.append("</table>")
    out.append("<h2>Open items</h2>")
    if report.open_items:
        out.append('<ul class="open">')
        for item in report.open_items:
            out.append(
                f"<li><b>Step {_e(item.step)}</b> "
                f'<span class="owner owner-{_e(item.owner)}">{_e(item.owner)}</span> '
                f"{_e(item.title)}: {_e(item.what)}</li>"
            )
        out.append("</ul>")
    else:
        out.append("<p>None: every step is done or skipped.</p>")
    if report.tables:
        out.append("<h2>Figures</h2>")
        out += [_html_table(t) for t in report.tables]
    out.append("<h2>Steps</h2>")
    phase = None
    for step in report.steps:
        if step.phase != phase:
            phase = step.phase
            out.append(f"<h3>Phase {phase}: {_e(step.phase_name)}</h3>")
        out.append(f'<div class="step" id="step-{_e(step.number)}">')
        out.append(
            f"<h4>Step {_e(step.number)}: {_e(step.title)} "
            f'<span class="owner owner-{_e(step.owner)}">{_e(step.owner)}</span></h4>'
        )
        who = f" by {_e(_who_when(step))}" if step.changed_at else ""
        out.append(
            f'<p><span class="state {_e(step.state)}">{_e(STATE_MARK.get(step.state, step.state))}'
            f"</span>{who}</p>"
        )
        if step.reason:
            out.append(f"<p><b>Reason:</b> {_e(step.reason)}</p>")
        if step.override:
            out.append(f"<p><b>Dependency override:</b> {_e(step.override)}</p>")
        out.append(f"<p>{_e(step.text)}</p>")
        if step.checklist:
            out.append('<ul class="check">')
            for item in step.checklist:
                mark = "☑" if item.ticked else "☐"
                who = f" <small>({_e(item.actor)}, {_e(item.at)})</small>" if item.ticked else ""
                out.append(f"<li>{mark} {_e(item.text)}{who}</li>")
            out.append("</ul>")
        if step.note:
            out.append(f'<div class="note">{_e(step.note)}</div>')
        if step.evidence:
            out.append(
                "<table><thead><tr><th>When</th><th>Check</th><th>Result</th></tr></thead><tbody>"
            )
            for ev in step.evidence:
                cls = {True: "ok", False: "failed", None: "info"}[ev.ok]
                label = {True: "ok", False: "failed", None: "info"}[ev.ok]
                out.append(
                    f"<tr><td>{_e(ev.at)}</td><td>{_e(ev.kind)}</td>"
                    f'<td><span class="{cls}">{label}</span> {_e(ev.summary)}</td></tr>'
                )
            out.append("</tbody></table>")
        out.append("</div>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def to_json(report: CompletionReport) -> str:
    data = dataclasses.asdict(report)
    for step, source in zip(data["steps"], report.steps, strict=True):
        step["open"] = source.is_open
    return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"


__all__ = ["to_html", "to_json", "to_markdown"]
