"""The completion report for the customer: Markdown, self-contained HTML, or JSON. Never a secret."""

from __future__ import annotations

from ..redaction import Redactor
from ..store import SessionStore
from .build import TABLE_SOURCES, build_report
from .model import CompletionReport, ReportTable
from .render import to_html, to_json, to_markdown

FORMATS = {"md": to_markdown, "html": to_html, "json": to_json}


def render_report(store: SessionStore, fmt: str) -> str:
    """The report of a session in one format ("md", "html" or "json"), with secrets redacted."""
    try:
        renderer = FORMATS[fmt]
    except KeyError:
        raise ValueError(f"unknown report format {fmt!r} (expected md, html or json)") from None
    # Only the session's own secrets: look-alike rules would mangle the playbook's prose.
    redactor = Redactor.for_session(store, look_alikes=False)
    text = renderer(redactor.value(build_report(store)))
    return redactor.text(text)


def report_filename(store: SessionStore, fmt: str) -> str:
    """A file name for the report, e.g. ``acme-corp-onboarding-report.html``."""
    return f"{store.name}-onboarding-report.{fmt}"


__all__ = [
    "FORMATS",
    "TABLE_SOURCES",
    "CompletionReport",
    "ReportTable",
    "build_report",
    "render_report",
    "report_filename",
]
