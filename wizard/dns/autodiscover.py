"""Steps 8 and 11: can Outlook find the provider through ``autodiscover.<domain>`` or SRV?"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wizard.profile import ProviderProfile

from .model import Finding, Severity, normalize_host, utc_now, worst
from .resolver import DnsResolver, Lookup, LookupState

SRV_PORT = 443


@dataclass(frozen=True)
class AutodiscoverCheck:
    """The Autodiscover records of ``domain`` compared with the profile's target."""

    domain: str
    target: str  # the profile's autodiscover_target
    host: str  # autodiscover.<domain>
    srv_name: str  # _autodiscover._tcp.<domain>
    cname: Lookup
    address: Lookup | None  # A of host, asked when there is no CNAME
    srv: Lookup
    cname_ok: bool  # host reaches the target (CNAME, or an A with the target's addresses)
    srv_ok: bool
    findings: tuple[Finding, ...]
    checked_at: str

    kind = "dns.autodiscover"

    @property
    def ok(self) -> bool:
        return worst(self.findings) is not Severity.ERROR

    @property
    def summary(self) -> str:
        if self.cname_ok and self.srv_ok:
            return f"Autodiscover of {self.domain} points at {self.target} (CNAME and SRV)"
        if self.cname_ok:
            return f"Autodiscover of {self.domain} points at {self.target}"
        if self.srv_ok:
            return f"Autodiscover of {self.domain} works only through the SRV record"
        return f"Autodiscover of {self.domain} does not point at {self.target}"

    def outlook_finds(self) -> str:
        """What Outlook will find when it sets up a profile, in the order it looks."""
        if self.cname_ok:
            return (
                f"Outlook asks https://{self.host}/autodiscover/autodiscover.xml, which reaches "
                f"{self.target}: profiles set themselves up with the address and password."
            )
        if self.srv_ok:
            return (
                f"Outlook finds no usable {self.host}, then follows the SRV record "
                f"{self.srv_name} to {self.target}: it works, but Outlook asks the user to "
                "allow the redirect once."
            )
        return (
            f"Outlook finds neither {self.host} nor {self.srv_name} pointing at the provider: "
            "automatic set-up fails and every profile must be set up by hand."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "target": self.target,
            "host": self.host,
            "srv_name": self.srv_name,
            "cname": self.cname.to_dict(),
            "address": self.address.to_dict() if self.address else None,
            "srv": self.srv.to_dict(),
            "cname_ok": self.cname_ok,
            "srv_ok": self.srv_ok,
            "outlook": self.outlook_finds(),
            "findings": [f.to_dict() for f in self.findings],
            "checked_at": self.checked_at,
        }


def autodiscover_names(domain: str) -> tuple[str, str]:
    """(autodiscover.<domain>, _autodiscover._tcp.<domain>): the names Outlook looks up."""
    domain = normalize_host(domain)
    return f"autodiscover.{domain}", f"_autodiscover._tcp.{domain}"


def srv_targets(srv: Lookup) -> list[tuple[str, int]]:
    """(host, port) of each record of an SRV answer, lowest priority then highest weight first."""
    ordered = sorted(srv.rdata, key=lambda r: (int(r.priority), -int(r.weight)))
    return [(normalize_host(r.target.to_text()), int(r.port)) for r in ordered]


def check_autodiscover(
    resolver: DnsResolver, domain: str, profile: ProviderProfile
) -> AutodiscoverCheck:
    """Look up autodiscover.<domain> (CNAME, else A) and _autodiscover._tcp.<domain> SRV."""
    domain = normalize_host(domain)
    target = normalize_host(profile.autodiscover_target)
    host, srv_name = autodiscover_names(domain)
    findings: list[Finding] = []
    cname = resolver.query(host, "CNAME")
    address: Lookup | None = None
    cname_ok = False
    if cname.ok:
        points_to = normalize_host(cname.records[0])
        # A chain through the customer's own aliases is fine when it ends at the target.
        chain = (points_to,) if points_to == target else resolver.query(host, "A").cnames
        if points_to == target:
            cname_ok = True
            findings.append(
                Finding(
                    "autodiscover.cname_ok",
                    Severity.OK,
                    f"{host} is a CNAME for {target}, as the profile asks",
                )
            )
        elif target in chain:
            cname_ok = True
            path = " → ".join((host, *chain[: chain.index(target) + 1]))
            findings.append(
                Finding(
                    "autodiscover.cname_chain",
                    Severity.OK,
                    f"{host} reaches {target} through a chain of CNAMEs: {path}",
                    data={"chain": list(chain)},
                )
            )
        else:
            findings.append(
                Finding(
                    "autodiscover.cname_wrong",
                    Severity.ERROR,
                    f"{host} is a CNAME for {points_to}, not for the provider's {target}",
                    f"Change the CNAME {host} to point at {target}.",
                    {"found": points_to},
                )
            )
    elif cname.failed:
        findings.append(
            Finding(
                "autodiscover.lookup_failed",
                Severity.ERROR,
                f"Could not look up {host}: {cname.state.label}",
                "Check that the DNS servers asked are reachable and try again.",
                {"state": str(cname.state)},
            )
        )
    elif cname.state is LookupState.NO_ANSWER:
        # The name exists without a CNAME: an A record may still reach the provider.
        address = resolver.query(host, "A")
        if address.ok:
            target_addresses, _ = resolver.addresses(target)
            if set(address.records) & set(target_addresses):
                cname_ok = True
                findings.append(
                    Finding(
                        "autodiscover.a_matches",
                        Severity.WARNING,
                        f"{host} is an A record with the address of {target}: it works today, "
                        "but breaks when the provider moves that host",
                        f"Replace the A record with a CNAME to {target}.",
                        {"addresses": list(address.records)},
                    )
                )
            else:
                findings.append(
                    Finding(
                        "autodiscover.a_wrong",
                        Severity.ERROR,
                        f"{host} is an A record ({', '.join(address.records)}) that does not "
                        f"point at the provider's {target}",
                        f"Delete the A record and publish a CNAME {host} → {target}.",
                        {"addresses": list(address.records)},
                    )
                )
    srv = resolver.query(srv_name, "SRV")
    srv_ok = False
    if srv.ok:
        targets = srv_targets(srv)
        if any(t == target and port == SRV_PORT for t, port in targets):
            srv_ok = True
            findings.append(
                Finding(
                    "autodiscover.srv_ok",
                    Severity.OK,
                    f"{srv_name} points at {target} port {SRV_PORT}",
                )
            )
        else:
            shown = ", ".join(f"{t}:{p}" for t, p in targets)
            findings.append(
                Finding(
                    "autodiscover.srv_wrong",
                    Severity.ERROR,
                    f"{srv_name} points at {shown}, not at the provider's {target}:{SRV_PORT}",
                    f"Change the SRV record to: 0 0 {SRV_PORT} {target}.",
                    {"found": shown},
                )
            )
    elif srv.failed:
        findings.append(
            Finding(
                "autodiscover.srv_lookup_failed",
                Severity.WARNING,
                f"Could not look up {srv_name}: {srv.state.label}",
                "Try again when the DNS servers answer.",
            )
        )
    else:
        findings.append(
            Finding(
                "autodiscover.srv_missing",
                Severity.INFO if cname_ok else Severity.WARNING,
                f"There is no SRV record {srv_name}",
                f"Optional but recommended: {srv_name} SRV 0 0 {SRV_PORT} {target}.",
            )
        )
    if (
        not cname_ok
        and not cname.failed
        and not any(
            f.code in ("autodiscover.cname_wrong", "autodiscover.a_wrong") for f in findings
        )
    ):
        findings.insert(
            0,
            Finding(
                "autodiscover.missing",
                Severity.WARNING if srv_ok else Severity.ERROR,
                f"{host} does not exist ({(address or cname).state.label})",
                f"Publish a CNAME {host} → {target}.",
            ),
        )
    findings.sort(key=lambda f: -f.severity.rank)
    return AutodiscoverCheck(
        domain,
        target,
        host,
        srv_name,
        cname,
        address,
        srv,
        cname_ok,
        srv_ok,
        tuple(findings),
        utc_now(),
    )
