"""The completion report for the customer: Markdown, self-contained HTML, or JSON. Never a secret."""

from __future__ import annotations

from pathlib import Path

from ..exports import write_private
from ..redaction import Redactor
from ..store import SessionStore
from .build import TABLE_SOURCES, build_report
from .model import CompletionReport, ReportTable
from .render import AUDIENCES, check_audience, to_json, to_markdown
from .render_html import to_html

FORMATS = {"md": to_markdown, "html": to_html, "json": to_json}


def render_report(store: SessionStore, fmt: str, audience: str = "customer") -> str:
    """The report of a session in one format ("md", "html" or "json"), with secrets redacted.

    The customer's copy has no local paths or commands; ``audience="operator"`` adds them in an
    appendix."""
    try:
        renderer = FORMATS[fmt]
    except KeyError:
        raise ValueError(f"unknown report format {fmt!r} (expected md, html or json)") from None
    check_audience(audience)
    # Only the session's own secrets: look-alike rules would mangle the playbook's prose.
    redactor = Redactor.for_session(store, look_alikes=False)
    text = renderer(redactor.value(build_report(store)), audience)
    return redactor.text(text)


def export_report(store: SessionStore, fmt: str, directory: Path) -> Path:
    """Write the customer's completion report into ``directory`` and record it in the sign-off
    step (the report sits above the step rules, so it is written here, not in the controller)."""
    from ..steps.signoff import SignoffController

    path = directory / report_filename(store, fmt)
    write_private(path, render_report(store, fmt))  # the customer's data: 0600
    SignoffController(store).report_exported(fmt, path)
    return path


def report_filename(store: SessionStore, fmt: str) -> str:
    """A file name for the report, e.g. ``acme-corp-onboarding-report.html``."""
    return f"{store.name}-onboarding-report.{fmt}"


__all__ = [
    "AUDIENCES",
    "FORMATS",
    "TABLE_SOURCES",
    "CompletionReport",
    "ReportTable",
    "build_report",
    "export_report",
    "render_report",
    "report_filename",
]
