"""DNS-records step: the MX and Autodiscover records the customer enters, and a live check.

Each check result is recorded as evidence of its own kind ("dns.mx", "dns.autodiscover").
``DnsCheckController`` is shared with the Outlook and SPF steps, which check DNS the same way.
"""

from __future__ import annotations

from typing import Any

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
from .base import StepController


class DnsCheckController(StepController):
    """A step whose check asks DNS and records every result as evidence."""

    engines = ("wizard.dns",)

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
