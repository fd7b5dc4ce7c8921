"""DNS-records step: the MX and Autodiscover records the customer enters, and a live check.

Each check result is recorded as evidence of its own kind ("dns.mx", "dns.autodiscover").
``DnsCheckController`` is shared with the Outlook and SPF steps, which check DNS the same way.
A check's newest result, when it passed, proves the items named in ``proves``; all of them
passed is the step's result.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..dns import (
    DnsResolver,
    RecordToPublish,
    check_autodiscover,
    check_mx,
    records_to_publish,
    save_evidence,
)
from ..dns.evidence import DnsResult
from ..playbook import Kind
from .base import Proof, StepController, proof_from


class DnsCheckController(StepController):
    """A step whose check asks DNS and records every result as evidence."""

    engines = ("wizard.dns",)
    proves: ClassVar[dict[str, tuple[str, ...]]] = {}  # evidence kind -> checklist items

    def proofs(self) -> dict[str, Proof]:
        found: dict[str, Proof] = {}
        for kind, items in self.proves.items():
            proof = proof_from(self.latest(kind))
            if proof is not None:
                found.update(dict.fromkeys(items, proof))
        return found

    def work_result(self) -> str:
        latest = [self.latest(kind) for kind in self.records]
        if not latest or any(e is None or e.ok is not True for e in latest):
            return ""
        return " ".join(e.summary.rstrip(".") + "." for e in latest if e is not None)

    def checks(self, resolver: DnsResolver) -> list[DnsResult]:
        raise NotImplementedError

    def check(self, resolver: DnsResolver) -> list[DnsResult]:
        """Ask DNS (slow: run it off the UI thread) and save each result as evidence."""
        results = self.checks(resolver)
        for result in results:
            save_evidence(self.store, self.number, result)  # the store is thread-safe
        return results

    def last(self, kind: str) -> dict[str, Any] | None:
        """The newest saved result of one check, in its plain form."""
        evidence = self.latest(kind)
        return evidence.data if evidence else None


class DnsRecordsController(DnsCheckController):
    kind = Kind.DNS_RECORDS
    records = ("dns.mx", "dns.autodiscover")
    proves = {"dns.mx": ("mx", "mx-kept"), "dns.autodiscover": ("autodiscover",)}

    def records_to_publish(self) -> tuple[RecordToPublish, ...]:
        store = self.store
        return records_to_publish(
            store.domain, store.profile, third_party_filter=store.third_party_filter
        )

    def checks(self, resolver: DnsResolver) -> list[DnsResult]:
        store = self.store
        return [
            check_mx(
                resolver, store.domain, store.profile, third_party_filter=store.third_party_filter
            ),
            check_autodiscover(resolver, store.domain, store.profile),
        ]
