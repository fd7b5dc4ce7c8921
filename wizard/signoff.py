"""The sign-off step: the figures both parties sign off on, and the sign-off record itself."""

from __future__ import annotations

from dataclasses import dataclass

from .copy.ledger import CopyLedger
from .copy.verify import Verification, latest_verification
from .formatting import format_time
from .forms import check_name, parse_day
from .open_items import OpenItem, open_items
from .playbook import Kind
from .store import Evidence, SessionStore


@dataclass(frozen=True)
class MailboxFigures:
    mailbox: str
    copied: int
    copied_bytes: int
    skipped: int
    failed: int
    source_count: int | None
    target_count: int | None
    verified: bool | None


@dataclass(frozen=True)
class SignoffFigures:
    mailboxes: tuple[MailboxFigures, ...]
    verification: Verification | None
    open_items: tuple[OpenItem, ...]

    @property
    def copied(self) -> int:
        return sum(m.copied for m in self.mailboxes)

    @property
    def copied_bytes(self) -> int:
        return sum(m.copied_bytes for m in self.mailboxes)

    @property
    def skipped(self) -> int:
        return sum(m.skipped for m in self.mailboxes)

    @property
    def failed(self) -> int:
        return sum(m.failed for m in self.mailboxes)

    @property
    def verification_text(self) -> str:
        return verification_text(self.verification)


def verification_text(verification: Verification | None) -> str:
    """The verification the figures rest on, in one line (which step, when)."""
    if verification is None:
        return "not verified yet (steps 10 and 16)"
    when = format_time(verification.created_at)
    return f"{verification.summary()} (step {verification.step}, {when})"


def latest_any_verification(store: SessionStore) -> Verification | None:
    """The final verification when there is one, else the check of the initial copy."""
    final = latest_verification(store, store.playbook.number_of(Kind.VERIFY_FINAL))
    return final or latest_verification(store, store.playbook.number_of(Kind.VERIFY_INITIAL))


def mailbox_figures(
    store: SessionStore, verification: Verification | None
) -> tuple[MailboxFigures, ...]:
    """Per mailbox of the session (and of the ledger): what was copied and how it verified."""
    ledger = CopyLedger(store)
    checks = {m.mailbox: m for m in verification.mailboxes} if verification else {}
    names = [m.target_address for m in store.mailboxes()]
    names += [n for n in ledger.mailboxes() if n not in names]
    rows = []
    for name in names:
        totals = ledger.totals(name)
        check = checks.get(name)
        rows.append(
            MailboxFigures(
                mailbox=name,
                copied=totals.copied,
                copied_bytes=totals.copied_bytes,
                skipped=totals.skipped,
                failed=totals.failed,
                source_count=check.source_count if check else None,
                target_count=check.target_count if check else None,
                verified=check.ok if check else None,
            )
        )
    return tuple(rows)


def gather_figures(store: SessionStore) -> SignoffFigures:
    """The figures of the sign-off: per mailbox, the verification, what else is open."""
    verification = latest_any_verification(store)
    signoff = store.playbook.number_of(Kind.SIGNOFF)
    others = tuple(i for i in open_items(store) if i.step != signoff)
    return SignoffFigures(mailbox_figures(store, verification), verification, others)


def record_signoff(
    store: SessionStore, *, provider_name: str, customer_name: str, day: str, complete: bool
) -> Evidence:
    """Save who signed off for each party, on which day, and whether both call it complete."""
    provider = check_name(provider_name, "provider engineer's name")
    customer = check_name(customer_name, "customer representative's name")
    when = parse_day(day, "sign-off date").isoformat()
    figures = gather_figures(store)
    verdict = "complete" if complete else "not complete yet"
    summary = f"Signed off on {when} by {provider} ({store.profile.name}) and {customer} ({store.customer}): {verdict}"
    return store.add_evidence(
        store.playbook.number_of(Kind.SIGNOFF),
        "signoff",
        summary,
        {
            "provider": provider,
            "customer": customer,
            "date": when,
            "complete": complete,
            "messages_copied": figures.copied,
            "bytes_copied": figures.copied_bytes,
            "skipped": figures.skipped,
            "failed": figures.failed,
            "verification": figures.verification_text,
            "open_items": [f"step {i.step}: {i.what}" for i in figures.open_items],
        },
        ok=complete,
    )
