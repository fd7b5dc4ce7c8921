"""SPF step (part of the cutover): the domain's SPF record(s), their problems, the record to publish.

Records "dns.spf" evidence from its check.
"""

from __future__ import annotations

from ..dns import DnsResolver, check_spf
from ..dns.evidence import DnsResult
from ..playbook import Kind
from .dns_records import DnsCheckController


class SpfController(DnsCheckController):
    kind = Kind.SPF
    records = ("dns.spf",)
    proves = {"dns.spf": ("published", "checked")}  # a passing check found the published record

    def fallback_record(self) -> str:
        """Before a check: the provider's include alone (the check merges existing senders)."""
        return f"v=spf1 {self.store.profile.spf_mechanism()} -all"

    def checks(self, resolver: DnsResolver) -> list[DnsResult]:
        return [check_spf(resolver, self.store.domain, self.store.profile)]
