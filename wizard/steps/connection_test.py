"""Connection-test step: every source mailbox logs in and is measured; every target exists.

The engines record the evidence themselves as they run: ``wizard.imap.probe`` ("imap-test", one
per mailbox) and ``wizard.exchange.target_mailboxes`` ("exchange-mailboxes", "provisioning-list"). Done
when every source mailbox passed and every target mailbox exists; those same results tick
"source", "sizing" (every mailbox measured) and "target".
"""

from __future__ import annotations

from collections.abc import Mapping

from ..exchange.settings import EVIDENCE_KIND as EXCHANGE_KIND
from ..exchange.target_mailboxes import PROVISIONING_KIND, latest_checks
from ..imap.probe import EVIDENCE_KIND as PROBE_KIND
from ..imap.probe import ProbeState, latest_results
from ..playbook import Kind
from .base import Proof, StepController


def source_refusal(states: Mapping[str, ProbeState | None]) -> str:
    """Why the source half is not done: mailboxes that did not pass (None: never tested)."""
    bad = [m for m, s in states.items() if s is not ProbeState.OK]
    if not bad:
        return ""
    return (
        f"{len(bad)} of {len(states)} mailboxes have not passed the source connection "
        f"test (first: {bad[0]})."
    )


def target_refusal(states: Mapping[str, str | None], addresses: Mapping[str, str]) -> str:
    """Why the target half is not done: target mailboxes not known to exist on Exchange."""
    bad = [addresses[k] for k, s in states.items() if s != "exists"]
    if not bad:
        return ""
    return (
        f"{len(bad)} of {len(states)} target mailboxes do not exist on Exchange or "
        f"were not checked (first: {bad[0]})."
    )


class ConnectionTestController(StepController):
    kind = Kind.CONNECTION_TEST
    records = (PROBE_KIND, EXCHANGE_KIND, PROVISIONING_KIND)
    engines = ("wizard.imap.probe", "wizard.exchange.target_mailboxes")

    def _newest(self, kind: str) -> str:
        found = self.evidence(kind)
        return found[-1].created_at if found else ""

    def proofs(self) -> dict[str, Proof]:
        mailboxes = self.store.mailboxes()
        if not mailboxes:
            return {}
        found: dict[str, Proof] = {}
        count = f"{len(mailboxes)} of {len(mailboxes)}"
        results = latest_results(self.store)
        tested = [results.get(m.source_login) for m in mailboxes]
        at = self._newest(PROBE_KIND)
        if all(r is not None and r.ok for r in tested):
            found["source"] = Proof(f"{count} source mailboxes log in and list", at)
        if all(r is not None and r.measured for r in tested):
            found["sizing"] = Proof(f"{count} source mailboxes measured", at)
        checks = latest_checks(self.store)
        if all(
            checks.get(m.target_address.lower(), {}).get("state") == "exists" for m in mailboxes
        ):
            found["target"] = Proof(f"{count} target mailboxes exist", self._newest(EXCHANGE_KIND))
        return found

    def work_result(self) -> str:
        proofs = self.proofs()
        if not all(item in proofs for item in ("source", "sizing", "target")):
            return ""
        return f"{proofs['source'].what} and are measured; {proofs['target'].what}."
