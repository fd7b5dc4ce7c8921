"""Outlook step: what the users type into Outlook, and what Autodiscover will give Outlook.

Records "dns.autodiscover" evidence from its check.
"""

from __future__ import annotations

from ..clients import ClientGuide, client_guides
from ..dns import DnsResolver, check_autodiscover
from ..dns.evidence import DnsResult
from ..playbook import Kind
from .dns_records import DnsCheckController


class OutlookController(DnsCheckController):
    kind = Kind.OUTLOOK
    records = ("dns.autodiscover",)
    proves = {"dns.autodiscover": ("autodiscover",)}  # the profiles are the customer's to tick

    def guide(self) -> ClientGuide:
        guides = client_guides(self.store.profile, self.store.domain)
        return next(g for g in guides if g.id == "outlook")

    def checks(self, resolver: DnsResolver) -> list[DnsResult]:
        return [check_autodiscover(resolver, self.store.domain, self.store.profile)]
