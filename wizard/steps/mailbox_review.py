"""Mailbox-review step: the customer confirms the Exchange mailboxes and gives the cutover date.

The review joins the session's mailbox list with the connection test's evidence (target exists,
folder count on Exchange, size measured on the source). Records "mailboxes-confirmed" and
"cutover-date" evidence and ticks the matching checklist items; the cutover date is also kept as
the setting "cutover.date", which this controller alone reads and writes. The two records are
also the proofs of those items and, together, the step's result.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

from ..estimate import estimate_copy
from ..exchange.target_mailboxes import latest_checks
from ..forms import check_name, parse_day
from ..migration_plan import measured_sizes
from ..playbook import Kind
from ..session_records import Evidence
from .base import Proof, StepController, proof_from

CONFIRM_KIND = "mailboxes-confirmed"
CUTOVER_KIND = "cutover-date"
CUTOVER_SETTING = "cutover.date"


@dataclass(frozen=True)
class ReviewRow:
    source: str
    target: str
    display_name: str
    state: str  # exists / missing / error / not checked
    folders: int | None
    messages: int | None
    bytes: int | None


@dataclass(frozen=True)
class CutoverEstimate:
    """How long the copy is expected to take, as the review shows it beside the date."""

    text: str
    seconds: float | None


def check_cutover(text: str, today: date) -> date:
    """The cutover day typed by the operator: a real day, today or later."""
    day = parse_day(text, "cutover date")
    if day < today:
        raise ValueError(
            f"the cutover date {day.isoformat()} is in the past (today is {today.isoformat()})"
        )
    return day


class MailboxReviewController(StepController):
    kind = Kind.MAILBOX_REVIEW
    records = (CONFIRM_KIND, CUTOVER_KIND)
    engines = ("wizard.exchange.target_mailboxes",)  # reads the connection test's Exchange checks

    def rows(self) -> list[ReviewRow]:
        checks = latest_checks(self.store)
        sizes = measured_sizes(self.store)
        rows = []
        for mailbox in self.store.mailboxes():
            check = checks.get(mailbox.target_address.lower(), {})
            state = str(check.get("state") or "not checked")
            size = sizes.get(mailbox.source_login)
            rows.append(
                ReviewRow(
                    mailbox.source_login,
                    mailbox.target_address,
                    mailbox.display_name,
                    state,
                    int(check["folder_count"]) if state == "exists" else None,
                    size[0] if size else None,
                    size[1] if size else None,
                )
            )
        return rows

    def estimate(self, rows: list[ReviewRow]) -> CutoverEstimate:
        measured = [(r.messages or 0, r.bytes or 0) for r in rows if r.bytes is not None]
        unknown = sum(1 for r in rows if r.bytes is None)
        if not measured:
            return CutoverEstimate(
                "Copy time unknown until step "
                f"{self.store.playbook.number_of(Kind.CONNECTION_TEST)} has measured the mailboxes.",
                None,
            )
        estimate = estimate_copy(measured)
        text = f"Estimated copy: {estimate.describe()}"
        if unknown:
            text += f"; {unknown} mailboxes not measured yet"
        return CutoverEstimate(text, estimate.seconds)

    def saved_cutover(self) -> str:
        return str(self.store.setting(CUTOVER_SETTING, "") or "")

    def confirm_mailboxes(self, confirmed_by: str, rows: list[ReviewRow]) -> Evidence:
        """The customer's confirmation; raises ValueError saying why it cannot be recorded."""
        who = check_name(confirmed_by, "customer's name")
        if not rows:
            raise ValueError(
                "the session has no mailboxes "
                f"(step {self.store.playbook.number_of(Kind.IMAP_SETTINGS)})"
            )
        absent = [r.target for r in rows if r.state != "exists"]
        if absent:
            raise ValueError(
                f"{len(absent)} mailboxes are not known to exist on Exchange "
                f"(first: {absent[0]}). Create them and check again in step "
                f"{self.store.playbook.number_of(Kind.CONNECTION_TEST)}"
            )
        evidence = self.record(
            CONFIRM_KIND,
            f"{who} confirmed the {len(rows)} mailboxes on Exchange",
            {"confirmed_by": who, "confirmed": [asdict(r) for r in rows]},
            ok=True,
        )
        self.tick("objects", True)
        return evidence

    def save_cutover(self, text: str, today: date, estimate: CutoverEstimate) -> date:
        """Save the cutover day; raises ValueError when it is not a day, or in the past."""
        day = check_cutover(text, today)
        self.store.set_setting(CUTOVER_SETTING, day.isoformat())
        self.record(
            CUTOVER_KIND,
            f"Cutover date {day.isoformat()} received; {estimate.text}",
            {
                "cutover_date": day.isoformat(),
                "estimate": estimate.text,
                "estimate_seconds": estimate.seconds,
            },
            ok=True,
        )
        self.tick("cutover", True)
        return day

    def proofs(self) -> dict[str, Proof]:
        found = {
            "objects": proof_from(self.latest(CONFIRM_KIND)),
            "cutover": proof_from(self.latest(CUTOVER_KIND)),
        }
        return {item: proof for item, proof in found.items() if proof}

    def work_result(self) -> str:
        proofs = self.proofs()
        if len(proofs) < 2:
            return ""
        return f"{proofs['objects'].what}; cutover on {self.saved_cutover()}."
