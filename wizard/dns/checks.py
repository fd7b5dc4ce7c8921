"""All the domain checks of steps 8 and 13.2 at once, as `onboard check dns` runs them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wizard.profile import ProviderProfile

from .autodiscover import AutodiscoverCheck, check_autodiscover
from .model import Finding, Severity, normalize_host, worst
from .mx import MxCheck, check_mx
from .resolver import DnsResolver
from .spf import SpfCheck, check_spf


@dataclass(frozen=True)
class DomainReport:
    domain: str
    servers: tuple[str, ...]  # the DNS servers asked
    mx: MxCheck
    autodiscover: AutodiscoverCheck
    spf: SpfCheck

    @property
    def findings(self) -> tuple[Finding, ...]:
        return (*self.mx.findings, *self.autodiscover.findings, *self.spf.findings)

    @property
    def must_fix(self) -> bool:
        return worst(self.findings) is Severity.ERROR

    def to_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "servers": list(self.servers),
            "ok": not self.must_fix,
            "mx": self.mx.to_dict(),
            "autodiscover": self.autodiscover.to_dict(),
            "spf": self.spf.to_dict(),
            "spf_lookup_count": self.spf.lookup_count,
            "recommended_spf": self.spf.recommended,
            "findings": [f.to_dict() for f in self.findings],
        }


def check_domain(
    resolver: DnsResolver,
    domain: str,
    profile: ProviderProfile,
    *,
    third_party_filter: bool = False,
) -> DomainReport:
    domain = normalize_host(domain)
    return DomainReport(
        domain,
        tuple(s.address for s in resolver.servers),
        check_mx(resolver, domain, profile, third_party_filter=third_party_filter),
        check_autodiscover(resolver, domain, profile),
        check_spf(resolver, domain, profile),
    )
