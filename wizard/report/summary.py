"""The one-page summary a customer reads before signing: who moved, how much mail, the cutover
date, DNS as last checked, add-ons, what is left and what the customer does next.

Built from the session as plain data; the renderers lay it out. Steps are found by kind through
the playbook, never by number.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..formatting import plural
from ..playbook import Step
from ..store import Evidence, SessionStore

# Evidence kinds the summary reads (written by the DNS engine, step 5 and the sign-off).
DNS_CHECKS = (("dns.mx", "Mail (MX)"), ("dns.autodiscover", "Autodiscover"), ("dns.spf", "SPF"))
PROPAGATION_KIND = "dns.propagation"
CUTOVER_SETTING = "cutover.date"
SIGNOFF_KIND = "signoff"


@dataclass(frozen=True)
class MailboxLine:
    address: str
    name: str
    source_login: str
    messages: int  # copied to the new account, all runs together
    size_bytes: int
    verified: bool | None  # None: not verified yet


@dataclass(frozen=True)
class DnsLine:
    record: str
    ok: bool | None
    summary: str
    checked_at: str


@dataclass(frozen=True)
class Signature:
    provider_name: str
    customer_name: str
    day: str
    complete: bool


@dataclass(frozen=True)
class CustomerSummary:
    mailboxes: tuple[MailboxLine, ...]
    cutover_date: str
    dns: tuple[DnsLine, ...]
    addons: tuple[str, ...]
    next_steps: tuple[str, ...]
    signature: Signature | None
    complete: bool  # every step settled and both parties signed it off as complete

    @property
    def messages(self) -> int:
        return sum(m.messages for m in self.mailboxes)

    @property
    def size_bytes(self) -> int:
        return sum(m.size_bytes for m in self.mailboxes)


def step_of_kind(store: SessionStore, kind: str) -> Step | None:
    """The first step of a kind in the session's playbook (None if the playbook has none)."""
    return next((s for s in store.playbook if s.kind == kind), None)


def _latest(store: SessionStore, kind: str) -> Evidence | None:
    found = store.evidence(kind=kind)
    return found[-1] if found else None


def _addons(store: SessionStore) -> tuple[str, ...]:
    step = step_of_kind(store, "addons")
    if step is None:
        return ()
    ticks = store.checklist(step.number)
    return tuple(
        a.name
        for a in store.profile.addons
        if (tick := ticks.get(f"addon:{a.id}")) is not None and tick.ticked
    )


def _signature(store: SessionStore) -> Signature | None:
    last = _latest(store, SIGNOFF_KIND)
    if last is None:
        return None
    data = last.data
    return Signature(
        provider_name=str(data.get("provider", "")),
        customer_name=str(data.get("customer", "")),
        day=str(data.get("date", "")),
        complete=bool(data.get("complete")),
    )


def _next_steps(
    store: SessionStore, open_steps: list[Step], signature: Signature | None
) -> tuple[str, ...]:
    provider = store.profile.name
    customer_open = [s for s in open_steps if s.owner.value in ("customer", "everyone")]
    steps: list[str] = []
    for step in customer_open[:4]:
        steps.append(f"{step.title} (step {step.number}).")
    if len(customer_open) > 4:
        steps.append(f"{plural(len(customer_open) - 4, 'more step')} for you are listed below.")
    if signature is not None and signature.complete and not open_steps:
        steps.append(
            "The old IMAP server can be switched off: every mailbox was copied and verified "
            "after the cutover, and both parties signed the migration off as complete. Keep a "
            "backup of it for as long as your retention rules ask."
        )
    else:
        steps.append(
            "Keep the old IMAP server running until both parties have signed off the final "
            f"verification: mail that still reaches it is copied by {provider} in the "
            "differential copy."
        )
    if not any(s.kind == "local-data" for s in store.playbook if s not in open_steps):
        steps.append(
            "Contacts, calendars and mail kept only on a computer are not copied over IMAP: "
            "move them in each user's mail program."
        )
    return tuple(steps)


def build_summary(store: SessionStore, open_numbers: set[str]) -> CustomerSummary:
    """The summary of a session; ``open_numbers`` are the steps not yet done or skipped."""
    from ..signoff import latest_any_verification, mailbox_figures  # figures of the sign-off

    figures = {m.mailbox: m for m in mailbox_figures(store, latest_any_verification(store))}
    lines = []
    for mailbox in store.mailboxes():
        figure = figures.get(mailbox.target_address)
        lines.append(
            MailboxLine(
                address=mailbox.target_address,
                name=mailbox.display_name,
                source_login=mailbox.source_login,
                messages=figure.copied if figure else 0,
                size_bytes=figure.copied_bytes if figure else 0,
                verified=figure.verified if figure else None,
            )
        )
    dns: list[DnsLine] = []
    for kind, label in DNS_CHECKS:
        last = _latest(store, kind)
        if last is not None:
            dns.append(DnsLine(label, last.ok, last.summary, last.created_at))
    propagation = _latest(store, PROPAGATION_KIND)
    if propagation is not None:
        dns.append(
            DnsLine("Propagation", propagation.ok, propagation.summary, propagation.created_at)
        )
    open_steps = [s for s in store.playbook if s.number in open_numbers]
    signature = _signature(store)
    return CustomerSummary(
        mailboxes=tuple(lines),
        cutover_date=str(store.setting(CUTOVER_SETTING, "") or ""),
        dns=tuple(dns),
        addons=_addons(store),
        next_steps=_next_steps(store, open_steps, signature),
        signature=signature,
        complete=bool(signature and signature.complete and not open_steps),
    )
