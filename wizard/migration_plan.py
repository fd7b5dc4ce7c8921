"""The migration plan agreed in the planning step: scope, volume, options, cutover, estimate."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .estimate import CopyEstimate, estimate_copy
from .formatting import format_bytes, format_time
from .playbook import Kind
from .store import SessionStore, now_iso

PLANNING_SETTING = "plan"


@dataclass(frozen=True)
class PlanningSettings:
    """What the planning step keeps in the session (the setting "plan")."""

    cutover_window: str = ""


def load_planning(store: SessionStore) -> PlanningSettings:
    saved = store.setting(PLANNING_SETTING, {}) or {}
    return PlanningSettings(cutover_window=str(saved.get("cutover_window", "")))


def save_planning(store: SessionStore, settings: PlanningSettings) -> None:
    store.set_setting(PLANNING_SETTING, asdict(settings))


@dataclass(frozen=True)
class PlannedMailbox:
    source_login: str
    target_address: str
    display_name: str
    messages: int | None
    size_bytes: int | None


@dataclass(frozen=True)
class MigrationPlan:
    customer: str
    domain: str
    provider: str
    mailboxes: tuple[PlannedMailbox, ...]
    third_party_filter: bool
    excluded_folders: tuple[str, ...]
    max_message_mb: int
    cutover_window: str
    cutover_date: str
    estimate: CopyEstimate | None
    written_at: str

    @property
    def measured(self) -> list[PlannedMailbox]:
        return [m for m in self.mailboxes if m.size_bytes is not None]

    @property
    def total_messages(self) -> int:
        return sum(m.messages or 0 for m in self.mailboxes)

    @property
    def total_bytes(self) -> int:
        return sum(m.size_bytes or 0 for m in self.mailboxes)


def measured_sizes(store: SessionStore) -> dict[str, tuple[int, int]]:
    """(messages, bytes) per source login from the latest connection-test sizing, where present."""
    sizes: dict[str, tuple[int, int]] = {}
    for evidence in store.evidence(store.playbook.number_of(Kind.CONNECTION_TEST)):
        data: dict[str, Any] = evidence.data
        login = data.get("login") or data.get("source_login")
        if login and "messages" in data and ("bytes" in data or "size" in data):
            sizes[str(login)] = (int(data["messages"]), int(data.get("bytes", data.get("size", 0))))
        for login, row in (data.get("mailboxes") or {}).items():
            if isinstance(row, dict) and "messages" in row:
                sizes[str(login)] = (
                    int(row["messages"]),
                    int(row.get("bytes", row.get("size", 0))),
                )
    return sizes


def build_plan(store: SessionStore) -> MigrationPlan:
    sizes = measured_sizes(store)
    mailboxes = tuple(
        PlannedMailbox(
            m.source_login,
            m.target_address,
            m.display_name,
            sizes[m.source_login][0] if m.source_login in sizes else None,
            sizes[m.source_login][1] if m.source_login in sizes else None,
        )
        for m in store.mailboxes()
    )
    known = [(m.messages or 0, m.size_bytes or 0) for m in mailboxes if m.size_bytes is not None]
    cutover = store.latest_evidence(store.playbook.number_of(Kind.MAILBOX_REVIEW), "cutover-date")
    return MigrationPlan(
        customer=store.customer,
        domain=store.domain,
        provider=store.profile.name,
        mailboxes=mailboxes,
        third_party_filter=store.third_party_filter,
        excluded_folders=(),  # the session keeps no exclusions; the copy plan's own rules apply
        max_message_mb=store.profile.max_message_mb,
        cutover_window=load_planning(store).cutover_window,
        cutover_date=str(cutover.data.get("cutover_date", "")) if cutover else "",
        estimate=estimate_copy(known) if known else None,
        written_at=now_iso(),
    )


def plan_markdown(plan: MigrationPlan) -> str:
    lines = [
        f"# Migration plan: {plan.customer} ({plan.domain})",
        "",
        f"Provider: {plan.provider}. Written {format_time(plan.written_at)}.",
        "",
        "## Scope",
        "",
        f"- Mailboxes: {len(plan.mailboxes)}"
        + (
            f", {plan.total_messages} messages, {format_bytes(plan.total_bytes)} measured"
            f" in {len(plan.measured)} of them"
            if plan.measured
            else " (not measured yet: run the connection test of step 4)"
        ),
        f"- Mail filtering: {'a third-party filtering service stays in front; MX moves at cutover' if plan.third_party_filter else 'MX points straight at the provider'}",
        f"- Folders left out: {', '.join(plan.excluded_folders) or 'none'}",
        f"- Largest message accepted: {plan.max_message_mb} MB (larger ones are listed, not copied)",
        "- Carried by IMAP: mail only; contacts, calendars and local data move with PST files",
        "",
        "## Timing",
        "",
        f"- Cutover window: {plan.cutover_window or 'not agreed yet'}",
        f"- Cutover date: {plan.cutover_date or 'not given yet (step 5)'}",
        f"- Initial copy: {plan.estimate.describe() if plan.estimate else 'unknown until the mailboxes are measured'}",
        "",
        "## Mailboxes",
        "",
    ]
    if plan.mailboxes:
        lines += [
            "| Source login | Target address | Name | Messages | Size |",
            "|---|---|---|---|---|",
        ]
        for m in plan.mailboxes:
            lines.append(
                f"| {m.source_login} | {m.target_address} | {m.display_name} | "
                f"{'' if m.messages is None else m.messages} | "
                f"{'' if m.size_bytes is None else format_bytes(m.size_bytes)} |"
            )
    else:
        lines.append("No mailboxes listed yet (step 3).")
    return "\n".join(lines) + "\n"
