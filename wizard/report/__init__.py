"""The completion report for the customer: Markdown, self-contained HTML, or JSON. Never a secret."""

from __future__ import annotations

from ..store import SessionStore
from .model import (
    TABLE_SOURCES,
    CompletionReport,
    ReportTable,
    build_report,
    known_secrets,
    redact,
)
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
    secrets = known_secrets(store)
    text = renderer(redact(build_report(store), secrets), audience)
    return redact(text, secrets)


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
    "render_report",
    "report_filename",
]
