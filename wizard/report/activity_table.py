"""The completion report's "Activity log" table: where the session's log is and what it holds."""

from __future__ import annotations

from ..activity import log_summary
from ..store import SessionStore
from .model import ReportTable


def activity_tables(store: SessionStore) -> list[ReportTable]:
    """One table with the log's path and its count of lines, warnings and errors."""
    summary = log_summary(store)
    row = (
        summary["path"],
        str(summary["records"]),
        str(summary["warnings"]),
        str(summary["errors"]),
        summary["first"] or "-",
        summary["last"] or "-",
    )
    return [
        ReportTable(
            title="Activity log",
            columns=("File", "Lines", "Warnings", "Errors", "First line", "Last line"),
            rows=(row,),
            note=(
                "Every connection, folder, copied batch, retry, throttling wait and failure of "
                f"this session is logged here, without passwords. `onboard report {store.name} "
                "--with-log` bundles the log with this report."
            ),
            audience="operator",  # a local path and a command: not for the customer's copy
        )
    ]
