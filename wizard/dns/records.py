"""Step 8: the exact records the customer enters at their DNS host, from the profile."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wizard.profile import ProviderProfile

from .autodiscover import SRV_PORT
from .model import normalize_host


@dataclass(frozen=True)
class RecordToPublish:
    name: str  # fully qualified, without the trailing dot
    rdtype: str
    value: str  # as entered in most DNS control panels
    note: str = ""

    def zone_line(self, ttl: int = 3600) -> str:
        """The record in zone-file syntax."""
        value = f'"{self.value}"' if self.rdtype == "TXT" else self.value
        if self.rdtype in ("MX", "CNAME", "SRV"):
            value += "."
        return f"{self.name}. {ttl} IN {self.rdtype} {value}"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.rdtype, "value": self.value, "note": self.note}


def records_to_publish(
    domain: str, profile: ProviderProfile, *, third_party_filter: bool = False
) -> tuple[RecordToPublish, ...]:
    """MX (unless a filtering service keeps it), the Autodiscover CNAME and its SRV record."""
    domain = normalize_host(domain)
    target = normalize_host(profile.autodiscover_target)
    records: list[RecordToPublish] = []
    if not third_party_filter:
        records.extend(
            RecordToPublish(domain, "MX", f"{m.preference} {m.host}", "replaces every old MX")
            for m in profile.mx
        )
    records.append(
        RecordToPublish(f"autodiscover.{domain}", "CNAME", target, "Outlook finds the provider")
    )
    records.append(
        RecordToPublish(
            f"_autodiscover._tcp.{domain}",
            "SRV",
            f"0 0 {SRV_PORT} {target}",
            "priority 0, weight 0, port 443",
        )
    )
    return tuple(records)


def filter_delivery_hosts(profile: ProviderProfile) -> tuple[str, ...]:
    """Where a third-party filtering service must deliver the customer's mail."""
    return profile.mx_hosts
