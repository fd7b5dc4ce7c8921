"""Step 8 (and 12): where the domain's mail goes, compared with the provider profile's MX hosts."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from wizard.profile import ProviderProfile

from .model import Finding, Severity, normalize_host, utc_now, worst
from .resolver import DnsResolver, Lookup


class MxStatus(StrEnum):
    ALL_PROVIDER = "all_provider"  # every MX host is one of the provider's
    MIXED = "mixed"  # some provider hosts, some others
    STILL_OLD = "still_old"  # no provider host yet
    FILTERING = "filtering"  # third-party filtering: MX stays on the filter, as expected
    NONE = "none"  # the domain publishes no MX
    LOOKUP_FAILED = "lookup_failed"  # no server could answer


@dataclass(frozen=True)
class MxRecord:
    preference: int
    host: str
    provider: bool  # one of the profile's MX hosts

    def to_dict(self) -> dict[str, Any]:
        return {"preference": self.preference, "host": self.host, "provider": self.provider}


@dataclass(frozen=True)
class MxCheck:
    """The MX records of ``domain``, what they mean and what to do."""

    domain: str
    status: MxStatus
    records: tuple[MxRecord, ...]
    expected: tuple[MxRecord, ...]  # the profile's hosts with the preference to publish
    third_party_filter: bool
    findings: tuple[Finding, ...]
    lookup: Lookup
    checked_at: str

    kind = "dns.mx"

    @property
    def ok(self) -> bool:
        return worst(self.findings) is not Severity.ERROR

    @property
    def summary(self) -> str:
        return self.findings[0].message if self.findings else f"MX of {self.domain}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "status": str(self.status),
            "records": [r.to_dict() for r in self.records],
            "expected": [r.to_dict() for r in self.expected],
            "third_party_filter": self.third_party_filter,
            "findings": [f.to_dict() for f in self.findings],
            "lookup": self.lookup.to_dict(),
            "checked_at": self.checked_at,
        }


def expected_mx(profile: ProviderProfile) -> tuple[MxRecord, ...]:
    return tuple(MxRecord(m.preference, m.host, True) for m in profile.mx)


def mx_records(lookup: Lookup, profile: ProviderProfile) -> tuple[MxRecord, ...]:
    """The answer's MX records in preference order, each marked provider or not."""
    provider = {normalize_host(h) for h in profile.mx_hosts}
    records = []
    for rdata in lookup.rdata:
        host = normalize_host(rdata.exchange.to_text())
        records.append(MxRecord(int(rdata.preference), host, host in provider))
    return tuple(sorted(records, key=lambda r: (r.preference, r.host)))


def check_mx(
    resolver: DnsResolver,
    domain: str,
    profile: ProviderProfile,
    *,
    third_party_filter: bool = False,
) -> MxCheck:
    """Ask for the domain's MX and judge it: all provider, mixed, still old (or filtering)."""
    domain = normalize_host(domain)
    lookup = resolver.query(domain, "MX")
    expected = expected_mx(profile)
    wanted = ", ".join(f"{r.preference} {r.host}" for r in expected)
    records = mx_records(lookup, profile) if lookup.ok else ()
    findings: list[Finding] = []
    if lookup.failed:
        status = MxStatus.LOOKUP_FAILED
        findings.append(
            Finding(
                "mx.lookup_failed",
                Severity.ERROR,
                f"Could not get the MX records of {domain}: {lookup.state.label}",
                "Check that the DNS servers asked are reachable and try again. "
                + (lookup.detail or ""),
                {"state": str(lookup.state)},
            )
        )
        return _result(domain, status, records, expected, third_party_filter, findings, lookup)
    if not records:
        status = MxStatus.NONE
        findings.append(
            Finding(
                "mx.none",
                Severity.ERROR,
                f"{domain} publishes no MX record ({lookup.state.label}); mail to it cannot "
                "be delivered reliably",
                f"Publish MX records: {wanted}"
                if not third_party_filter
                else "Publish the filtering service's MX records.",
            )
        )
        return _result(domain, status, records, expected, third_party_filter, findings, lookup)
    if any(r.host == "" for r in records):  # RFC 7505 null MX: "this domain takes no mail"
        findings.append(
            Finding(
                "mx.null",
                Severity.ERROR,
                f"{domain} publishes a null MX (0 .): it declares that it accepts no mail",
                f"Replace it with: {wanted}"
                if not third_party_filter
                else "Replace it with the filtering service's MX records.",
            )
        )
        return _result(
            domain, MxStatus.NONE, records, expected, third_party_filter, findings, lookup
        )
    on_provider = [r for r in records if r.provider]
    others = [r for r in records if not r.provider]
    other_names = ", ".join(r.host for r in others)
    if third_party_filter:
        if not on_provider:
            status = MxStatus.FILTERING
            findings.append(
                Finding(
                    "mx.filtering_kept",
                    Severity.OK,
                    f"MX of {domain} stays on the filtering service ({other_names}), as "
                    "expected with third-party filtering",
                    "In the filtering service, set the delivery (outbound) host to the "
                    f"provider's MX: {', '.join(r.host for r in expected)}.",
                    {"filter_hosts": [r.host for r in others]},
                )
            )
        elif not others:
            status = MxStatus.ALL_PROVIDER
            findings.append(
                Finding(
                    "mx.filtering_bypassed",
                    Severity.WARNING,
                    f"MX of {domain} points straight at the provider although the customer keeps "
                    "a third-party filtering service: mail now skips the filter",
                    "If the filter should stay, point MX back at the filtering service; "
                    "otherwise turn the filtering variant off for this session.",
                )
            )
        else:
            status = MxStatus.MIXED
            findings.append(
                Finding(
                    "mx.mixed",
                    Severity.WARNING,
                    f"MX of {domain} mixes the filtering service ({other_names}) and the "
                    "provider: part of the mail skips the filter",
                    "Keep only the filtering service's hosts in MX.",
                )
            )
        return _result(domain, status, records, expected, third_party_filter, findings, lookup)
    if not others:
        status = MxStatus.ALL_PROVIDER
        findings.append(
            Finding(
                "mx.all_provider",
                Severity.OK,
                f"Every MX host of {domain} is the provider's "
                f"({', '.join(r.host for r in records)})",
            )
        )
        missing = {r.host for r in expected} - {r.host for r in records}
        if missing:
            findings.append(
                Finding(
                    "mx.provider_host_missing",
                    Severity.INFO,
                    f"The provider's MX host(s) {', '.join(sorted(missing))} are not listed",
                    f"For redundancy publish all of: {wanted}",
                )
            )
    elif on_provider:
        status = MxStatus.MIXED
        findings.append(
            Finding(
                "mx.mixed",
                Severity.ERROR,
                f"MX of {domain} is mixed: provider hosts and others ({other_names}); some "
                "mail still goes to the old server",
                f"Remove the MX records for {other_names}; keep only: {wanted}",
                {"other_hosts": [r.host for r in others]},
            )
        )
    else:
        status = MxStatus.STILL_OLD
        findings.append(
            Finding(
                "mx.still_old",
                Severity.ERROR,
                f"MX of {domain} still points at the old mail server ({other_names})",
                f"Replace the MX records with: {wanted}",
                {"other_hosts": [r.host for r in others]},
            )
        )
    return _result(domain, status, records, expected, third_party_filter, findings, lookup)


def _result(
    domain: str,
    status: MxStatus,
    records: tuple[MxRecord, ...],
    expected: tuple[MxRecord, ...],
    third_party_filter: bool,
    findings: list[Finding],
    lookup: Lookup,
) -> MxCheck:
    return MxCheck(
        domain,
        status,
        records,
        expected,
        third_party_filter,
        tuple(findings),
        lookup,
        utc_now(),
    )
