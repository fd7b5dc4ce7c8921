"""Report tables drawn from the copy ledger and the checks: per-mailbox figures and throughput."""

from __future__ import annotations

from datetime import UTC, datetime

from ..copy.ledger import CopyLedger
from ..formatting import format_bytes
from ..signoff import latest_any_verification, mailbox_figures, verification_text
from ..store import SessionStore
from .model import ReportTable


def copy_tables(store: SessionStore) -> list[ReportTable]:
    verification = latest_any_verification(store)
    mailboxes = mailbox_figures(store, verification)
    if not any(m.copied or m.skipped or m.failed for m in mailboxes) and not verification:
        return []
    rows = tuple(
        (
            m.mailbox,
            str(m.copied),
            format_bytes(m.copied_bytes),
            str(m.skipped),
            str(m.failed),
            "" if m.source_count is None else str(m.source_count),
            "" if m.target_count is None else str(m.target_count),
            {True: "ok", False: "needs attention", None: "not verified"}[m.verified],
        )
        for m in mailboxes
    )
    tables = [
        ReportTable(
            title="Mail copied per mailbox",
            columns=(
                "Mailbox",
                "Copied",
                "Size",
                "Skipped",
                "Failed",
                "Source",
                "Target",
                "Verification",
            ),
            rows=rows,
            note=f"Verification: {verification_text(verification)}.",
            chart={
                "source messages": [float(m.source_count or 0) for m in mailboxes],
                "target messages": [float(m.target_count or 0) for m in mailboxes],
            }
            if verification
            else {"copied messages": [float(m.copied) for m in mailboxes]},
            chart_labels=tuple(m.mailbox for m in mailboxes),
            chart_unit="messages",
        )
    ]
    ledger = CopyLedger(store)
    folders = _folder_table(ledger, [m.mailbox for m in mailboxes])
    if folders is not None:
        tables.append(folders)
    problems = ledger.problems()
    if problems:
        tables.append(
            ReportTable(
                title="Messages not copied",
                columns=("Mailbox", "Folder", "UID", "State", "Reason"),
                rows=tuple(
                    (p.mailbox, p.source_folder, str(p.uid), str(p.state), p.reason)
                    for p in problems[:500]
                ),
                note="" if len(problems) <= 500 else f"First 500 of {len(problems)}.",
            )
        )
    throughput = _throughput(ledger)
    if throughput:
        tables.append(throughput)
    return tables


def _folder_table(ledger: object, mailboxes: list[str]) -> ReportTable | None:
    """Per folder of each mailbox: where it went and what was copied (the report's appendix)."""
    rows = []
    for mailbox in mailboxes:
        for mark in ledger.folders(mailbox):  # type: ignore[attr-defined]
            totals = ledger.totals(mailbox, mark.source_folder)  # type: ignore[attr-defined]
            rows.append(
                (
                    mailbox,
                    mark.source_folder,
                    mark.target_folder,
                    str(totals.copied),
                    format_bytes(totals.copied_bytes),
                    str(totals.skipped),
                    str(totals.failed),
                )
            )
    if not rows:
        return None
    return ReportTable(
        title="Mail copied per folder",
        columns=("Mailbox", "Folder", "Copied to", "Copied", "Size", "Skipped", "Failed"),
        rows=tuple(rows),
    )


def _throughput(ledger: object) -> ReportTable | None:
    """Messages copied per minute over the session's copy runs, all mailboxes together."""
    per_minute: dict[int, int] = {}
    for run in ledger.runs():  # type: ignore[attr-defined]
        previous = 0
        for sample in ledger.samples(run.id):  # type: ignore[attr-defined]
            minute = int(sample.at // 60)
            per_minute[minute] = per_minute.get(minute, 0) + max(0, sample.messages - previous)
            previous = sample.messages
    if not per_minute:
        return None
    minutes = sorted(per_minute)
    return ReportTable(
        title="Copy throughput",
        columns=("Minute (UTC)", "Messages copied"),
        rows=tuple(
            (datetime.fromtimestamp(m * 60, UTC).strftime("%Y-%m-%d %H:%M"), str(per_minute[m]))
            for m in minutes
        ),
        chart={"messages per minute": [float(per_minute[m]) for m in minutes]},
        chart_labels=tuple(datetime.fromtimestamp(m * 60, UTC).strftime("%H:%M") for m in minutes),
        chart_unit="messages per minute",
    )
