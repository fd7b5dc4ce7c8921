"""What the checks of a step found, newest first."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import Static

from wizard.session_records import Evidence

from ..text import when

SHOWN = 30  # older records stay in the session and the report


def evidence_line(record: Evidence) -> Text:
    marker = {True: ("✔ ok", "bold #3fae5a"), False: ("✖ failed", "bold #d9534f")}.get(
        record.ok, ("• noted", "dim")
    )
    line = Text()
    line.append(f"{marker[0]:<9}", style=marker[1])
    line.append(f" {when(record.created_at)}  ", style="dim")
    line.append(f"[{record.kind}] ", style="italic")
    line.append(record.summary)
    return line


class EvidenceList(Static):
    """Shows evidence records it is given (``show``); it never reads the session itself."""

    DEFAULT_CSS = """
    EvidenceList { height: auto; padding: 0 1; }
    """

    def show(self, records: Sequence[Evidence]) -> None:
        if not records:
            self.update(Text("No evidence recorded for this step yet.", style="dim"))
            return
        newest = sorted(records, key=lambda r: r.id, reverse=True)
        lines = Text("\n").join(evidence_line(r) for r in newest[:SHOWN])
        if len(newest) > SHOWN:
            lines.append(f"\n… and {len(newest) - SHOWN} older records (see the report)", "dim")
        self.update(lines)
