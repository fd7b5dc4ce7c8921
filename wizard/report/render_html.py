"""The completion report as one self-contained HTML page (no scripts, no fetches), laid out to
print: the summary and the sign-off on the first page, the steps after, figures in an appendix.
The PDF is this page printed by Chromium."""

from __future__ import annotations

import html

from ..formatting import format_bytes, plural
from ..formatting import format_time as human_time
from .model import CheckHistory, CompletionReport, ReportTable, StepReport
from .render import (
    RESULT_MARK,
    STATE_MARK,
    check_audience,
    check_note,
    status_line,
    tables_of,
    verified_text,
    who_when,
)
from .summary import CustomerSummary
from .words import person

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:60rem;
color:#1d232b;line-height:1.45;padding:0 1rem}
h1{font-size:1.6rem}h2{border-bottom:2px solid #d5dbe3;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0 1rem;width:100%}
td,th{border:1px solid #d5dbe3;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#eef2f6}.facts td:first-child{font-weight:600;width:16rem}td.num{text-align:right}
.state{font-weight:600;white-space:nowrap}.done{color:#1c7c3c}.skipped{color:#6b7480}
.blocked{color:#b3261e}.in-progress{color:#a05a00}.not-started{color:#6b7480}
.owner{display:inline-block;border-radius:.6rem;padding:0 .5rem;font-size:.8rem;color:#fff}
.owner-customer{background:#2f6fb3}.owner-provider{background:#7b3fb3}.owner-everyone{background:#2d8a74}
.step{border:1px solid #d5dbe3;border-radius:.4rem;padding:.6rem 1rem;margin:.8rem 0;break-inside:avoid}
.note{background:#f7f4e8;border-left:4px solid #d8c36a;padding:.4rem .8rem;white-space:pre-wrap}
.ok{color:#1c7c3c}.failed{color:#b3261e}.info{color:#6b7480}.demo{background:#fff3cd;padding:.5rem}
.status{font-size:1.1rem;font-weight:600}.complete{color:#1c7c3c}
.signoff{display:flex;gap:2rem;margin:1rem 0}.signoff>div{flex:1;border:1px solid #d5dbe3;
border-radius:.4rem;padding:.6rem 1rem}.line{border-bottom:1px solid #1d232b;height:1.6rem;margin:.4rem 0}
ul.check{list-style:none;padding-left:1rem}.history{color:#6b7480;font-size:.9rem}
.open li{margin:.2rem 0}svg{display:block;margin:.3rem 0 1rem}
@media print{body{margin:0;max-width:none}.steps{break-before:page}.appendix{break-before:page}}
"""
COLOURS = ("#2f6fb3", "#2d8a74", "#b3261e", "#7b3fb3")


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _nice_top(peak: float) -> float:
    """A round number at or above the peak for the y axis (1, 2, 5 x 10^n)."""
    if peak <= 0:
        return 1.0
    scale = 10 ** (len(str(int(peak))) - 1)
    for step in (1, 2, 5, 10):
        if step * scale >= peak:
            return float(step * scale)
    return float(10 * scale)


def bar_chart(table: ReportTable) -> str:
    """An inline SVG bar chart with a labelled y axis and one label per bar group."""
    if not table.chart:
        return ""
    series = list(table.chart.items())
    count = max(len(values) for _, values in series)
    top = _nice_top(max((max(values) for _, values in series if values), default=0))
    left, bottom, width, height = 56, 64, 640, 150
    top, unit_x = 10, 12  # room above the bars; where the y axis's unit is written
    group = (width - left) / max(count, 1)
    bar = max(group / (len(series) + 1), 2)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + bottom + 20}" '
        f'role="img" aria-label="{_e(table.title)}" font-size="11px" fill="#1d232b">'
    ]
    for tick in range(5):  # y axis: 0, 1/4 .. top, with grid lines
        value = top * tick / 4
        y = height - (value / top) * height + 10
        parts.append(
            f'<line x1="{left}" x2="{width}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e8ee"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{value:g}</text>'
        )
    if table.chart_unit:
        parts.append(
            f'<text x="{unit_x}" y="{height / 2 + top:.0f}" '
            f'transform="rotate(-90 {unit_x} {height / 2 + top:.0f})" '
            f'text-anchor="middle">{_e(table.chart_unit)}</text>'
        )
    parts.append(
        f'<line x1="{left}" x2="{left}" y1="{top}" y2="{height + top}" stroke="#1d232b"/>'
        f'<line x1="{left}" x2="{width}" y1="{height + 10}" y2="{height + 10}" stroke="#1d232b"/>'
    )
    for s_index, (_label, values) in enumerate(series):
        for i, value in enumerate(values):
            h = (value / top) * height
            x = left + 4 + i * group + s_index * bar
            parts.append(
                f'<rect x="{x:.1f}" y="{height - h + 10:.1f}" width="{bar - 1:.1f}" '
                f'height="{h:.1f}" fill="{COLOURS[s_index % len(COLOURS)]}">'
                f"<title>{_e(value)}</title></rect>"
            )
    every = max(1, count // 12)  # at most about a dozen x labels
    for i, label in enumerate(table.chart_labels[:count]):
        if i % every:
            continue
        x = left + 4 + i * group + (bar * len(series)) / 2
        short = label if len(label) <= 18 else label[:17] + "…"
        parts.append(
            f'<text x="{x:.1f}" y="{height + 24}" text-anchor="end" '
            f'transform="rotate(-30 {x:.1f} {height + 24})">{_e(short)}</text>'
        )
    for s_index, (label, _values) in enumerate(series):
        parts.append(
            f'<text x="{left + s_index * 160}" y="{height + bottom + 14}" '
            f'fill="{COLOURS[s_index % len(COLOURS)]}">■ {_e(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _table(columns: tuple[str, ...], rows: list[tuple[str, ...]], numeric: set[int]) -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in columns)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{_e(c)}</td>' if i in numeric else f"<td>{_e(c)}</td>"
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _report_table(table: ReportTable) -> str:
    note = f"<p>{_e(table.note)}</p>" if table.note else ""
    return f"<h3>{_e(table.title)}</h3>{note}{bar_chart(table)}" + _table(
        table.columns, list(table.rows), set()
    )


def _summary(report: CompletionReport, summary: CustomerSummary) -> list[str]:
    cls = "status complete" if summary.complete else "status"
    out = [
        f'<section class="summary"><h2>Summary</h2><p class="{cls}">{_e(status_line(report))}</p>'
    ]
    facts = [
        ("Customer", f"{report.customer} ({report.domain})"),
        ("Provider", report.provider),
        ("Provider support", report.provider_support),
        ("Cutover date", human_time(summary.cutover_date) or "not set yet"),
        (
            "Mail copied",
            f"{plural(summary.messages, 'message')}, {format_bytes(summary.size_bytes)} in "
            f"{plural(len(summary.mailboxes), 'mailbox')}",
        ),
        ("Third-party filtering kept", "yes" if report.third_party_filter else "no"),
        ("Add-ons enabled", ", ".join(summary.addons) if summary.addons else "none"),
        ("Report of", human_time(report.generated_at)),
    ]
    out.append('<table class="facts">')
    out += [f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in facts]
    out.append("</table><h3>Mailboxes moved</h3>")
    if summary.mailboxes:
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
        cols = ("Mailbox", "New address", "Old login", "Messages", "Size", "Verification")
        out.append(_table(cols, rows, {3, 4}))
    else:
        out.append("<p>No mailboxes are listed yet.</p>")
    out.append("<h3>DNS as last checked</h3>")
    if summary.dns:
        rows = [
            (d.record, f"{RESULT_MARK[d.ok]}: {d.summary}", human_time(d.checked_at))
            for d in summary.dns
        ]
        out.append(_table(("Record", "Result", "Checked"), rows, set()))
    else:
        out.append("<p>Not checked yet.</p>")
    out.append("<h3>What you do next</h3><ol>")
    out += [f"<li>{_e(text)}</li>" for text in summary.next_steps]
    out.append("</ol>")
    return out


def _signoff(report: CompletionReport, summary: CustomerSummary) -> list[str]:
    out = ["<h2>Sign-off</h2>", '<div class="signoff">']
    signature = summary.signature
    for party, name in (
        (report.provider, signature.provider_name if signature else ""),
        (report.customer, signature.customer_name if signature else ""),
    ):
        if signature is None:
            out.append(
                f"<div><b>For {_e(party)}</b><p>Name</p><div class='line'></div><p>Date</p>"
                "<div class='line'></div><p>Signature</p><div class='line'></div></div>"
            )
        else:
            out.append(
                f"<div><b>For {_e(party)}</b><p>{_e(name)}</p>"
                f"<p>{_e(human_time(signature.day))}</p></div>"
            )
    out.append("</div>")
    if signature is not None:
        verdict = "complete" if signature.complete else "not complete yet"
        out.append(f"<p>Both parties call the migration <b>{verdict}</b>.</p>")
    out.append("</section>")
    return out


def _check(check: CheckHistory) -> str:
    latest = check.latest
    cls = {True: "ok", False: "failed", None: "info"}[latest.ok]
    label = {True: "ok", False: "failed", None: "info"}[latest.ok]
    note = check_note(check)
    earlier = ""
    if check.earlier:
        items = "".join(
            f"<li>{_e(human_time(e.at))}: {RESULT_MARK[e.ok]}: {_e(e.summary)}</li>"
            for e in check.earlier
        )
        earlier = (
            f'<details class="history"><summary>{_e(note)}</summary><ul>{items}</ul></details>'
        )
    return (
        f"<tr><td>{_e(human_time(latest.at))}</td><td>{_e(latest.kind)}</td>"
        f'<td><span class="{cls}">{label}</span> {_e(latest.summary)}{earlier}</td></tr>'
    )


def _step(step: StepReport, provider: str) -> list[str]:
    out = [
        f'<div class="step" id="step-{_e(step.number)}">',
        f"<h4>Step {_e(step.number)}: {_e(step.title)} "
        f'<span class="owner owner-{_e(step.owner)}">{_e(step.owner)}</span></h4>',
    ]
    who = f" by {_e(who_when(step, provider))}" if step.changed_at else ""
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
            who = (
                f" <small>({_e(person(item.actor, provider))}, {_e(human_time(item.at))})</small>"
                if item.ticked
                else ""
            )
            out.append(f"<li>{mark} {_e(item.text)}{who}</li>")
        out.append("</ul>")
    if step.note:
        out.append(f'<div class="note">{_e(step.note)}</div>')
    if step.evidence:
        out.append(
            "<table><thead><tr><th>When</th><th>Check</th><th>Result</th></tr></thead><tbody>"
        )
        out += [_check(c) for c in step.checks]
        out.append("</tbody></table>")
    out.append("</div>")
    return out


def to_html(report: CompletionReport, audience: str = "customer") -> str:
    check_audience(audience)
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
    if report.summary is not None:
        out += _summary(report, report.summary)
        out += _signoff(report, report.summary)
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
    out.append('<section class="steps"><h2>Steps</h2>')
    phase = None
    for step in report.steps:
        if step.phase != phase:
            phase = step.phase
            out.append(f"<h3>Phase {phase}: {_e(step.phase_name)}</h3>")
        out += _step(step, report.provider)
    out.append("</section>")
    customer_tables = tables_of(report, "customer")
    if customer_tables:
        out.append('<section class="appendix"><h2>Appendix A: figures</h2>')
        out += [_report_table(t) for t in customer_tables]
        out.append("</section>")
    if audience == "operator":
        out.append('<section class="appendix"><h2>Appendix B: for the operator</h2>')
        facts = [
            ("Session file", report.session_path),
            ("Session", report.session),
            ("Started", human_time(report.created_at)),
            ("Last change", human_time(report.updated_at)),
            ("Resume it", f"onboard resume {report.session}"),
        ]
        out.append('<table class="facts">')
        out += [f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in facts]
        out.append("</table>")
        out += [_report_table(t) for t in tables_of(report, "operator")]
        out.append("</section>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


__all__ = ["bar_chart", "to_html"]
