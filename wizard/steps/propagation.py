"""Propagation step: has the MX change reached the domain's name servers and public resolvers?

One round asks every server (``matrix_check``); the App's poller repeats it. A round is
recorded as evidence ("dns.propagation") only when its completeness changes, and the operator's
"change made now" as "dns.change-made". The change time and the poll interval are
``PropagationWatch``, read and written here alone. Done when a round says the matrix is complete.
The newest round proves "authoritative" when every authoritative server agrees and "resolvers"
when the required share of resolvers does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..dns import (
    DnsResolver,
    PropagationMatrix,
    authoritative_from_store,
    check_propagation,
    find_authoritative,
    mx_question,
    never,
    query_server,
    question,
    required_share_from_store,
    resolvers_from_store,
    save_evidence,
)
from ..formatting import now_iso
from ..playbook import Kind
from ..session_records import StepState, when_short
from ..store import SessionStore
from .base import Proof, StepController

POLL_SETTING = "dns.poll_seconds"
CHANGE_SETTING = "dns.change_made_at"
MATRIX_KIND = PropagationMatrix.kind
CHANGE_KIND = "dns.change-made"


@dataclass(frozen=True)
class PropagationWatch:
    """What the propagation step keeps in the session."""

    poll_seconds: float | None  # None: the poller's own default
    change_made_at: str  # ISO time the operator said the change was made, "" when not said


def matrix_check(
    store: SessionStore, cancelled: Callable[[], bool] = never
) -> Callable[[], PropagationMatrix]:
    """One round for the session: its resolvers, the domain's authoritative servers (fixed in
    "dns.authoritative" or found through NS), asked for the domain's MX. The round stops
    waiting for slow servers once ``cancelled()`` is true (``RoundCancelled``).

    Plain variant: every server must answer the profile's MX hosts. Filtering variant: MX stays
    on the filtering service, so every server must answer what the first authoritative server
    answers.
    """

    def check() -> PropagationMatrix:
        resolvers = resolvers_from_store(store)
        fixed = authoritative_from_store(store)
        if fixed is not None:
            authoritative, note = fixed, ""
        else:
            authoritative, note = find_authoritative(DnsResolver(resolvers), store.domain)
        q = mx_question(store.domain, store.profile)
        if store.third_party_filter and authoritative:
            found = query_server(authoritative[0], store.domain, "MX", recursion=False)
            if found.ok:
                hosts = [r.exchange.to_text() for r in found.rdata]
                q = question(store.domain, "MX", hosts, store.domain)
        return check_propagation(
            q,
            resolvers,
            authoritative,
            required_share=required_share_from_store(store),
            authoritative_note=note,
            cancelled=cancelled,
        )

    return check


def done_refusal(matrix: PropagationMatrix | None) -> str:
    """Why the step is not done: no round yet, or the latest round is not complete."""
    if matrix is None:
        return "The propagation matrix has not been checked yet (press w to watch it)."
    if not matrix.complete:
        return f"The propagation matrix is not complete: {matrix.summary}"
    return ""


class PropagationController(StepController):
    kind = Kind.PROPAGATION
    records = (MATRIX_KIND, CHANGE_KIND)
    engines = ("wizard.dns.propagation",)

    def watch(self) -> PropagationWatch:
        seconds = self.store.setting(POLL_SETTING)
        return PropagationWatch(
            poll_seconds=None if seconds is None else float(seconds),
            change_made_at=str(self.store.setting(CHANGE_SETTING, "") or ""),
        )

    def set_poll_seconds(self, seconds: float) -> None:
        self.store.set_setting(POLL_SETTING, seconds)

    def change_time(self) -> tuple[str, str]:
        """When the DNS change was made, and where that time comes from ("" when unknown)."""
        recorded = self.watch().change_made_at
        if recorded:
            return recorded, f"recorded in step {self.number}"
        dns_step = self.store.playbook.number_of(Kind.DNS_RECORDS)
        record = self.store.step_record(dns_step)
        if record.state is StepState.DONE and record.changed_at:
            return record.changed_at, f"step {dns_step} marked done"
        return "", ""

    def change_made_at(self, stamp: str) -> None:
        """The change was made at ``stamp`` (ISO), as the demo's customer says when it makes it."""
        self.store.set_setting(CHANGE_SETTING, stamp)

    def change_made_now(self) -> str:
        """The operator says the customer made the change just now; returns the time saved."""
        stamp = now_iso()
        self.store.set_setting(CHANGE_SETTING, stamp)
        self.record(CHANGE_KIND, f"DNS change made at {when_short(stamp)}")
        return stamp

    def record_round(self, matrix: PropagationMatrix) -> bool:
        """Save a round unless the newest saved one says the same; True when it was saved."""
        last = self.latest(matrix.kind)
        if last is not None and last.ok is matrix.complete and last.summary == matrix.summary:
            return False
        save_evidence(self.store, self.number, matrix)
        return True

    def proofs(self) -> dict[str, Proof]:
        latest = self.latest(MATRIX_KIND)
        if latest is None:
            return {}
        cells = latest.data.get("cells", [])
        auth = [c for c in cells if c.get("role") == "authoritative"]
        agreeing = sum(
            1 for c in cells if c.get("role") == "resolver" and c.get("state") == "agrees"
        )
        found: dict[str, Proof] = {}
        if auth and all(c.get("state") == "agrees" for c in auth):
            found["authoritative"] = Proof(
                f"{len(auth)} of {len(auth)} authoritative servers agree", latest.created_at
            )
        if agreeing and agreeing >= int(latest.data.get("resolvers_needed", 1)):
            found["resolvers"] = Proof(f"{agreeing} resolvers agree", latest.created_at)
        return found

    def work_result(self) -> str:
        latest = self.latest(MATRIX_KIND)
        return f"{latest.summary}." if latest and latest.ok else ""
