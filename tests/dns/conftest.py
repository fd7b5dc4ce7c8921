"""Shared pieces of the DNS tests: the example provider's zone and a Knot serving a domain."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.servers.knot import KnotFactory, KnotServer
from wizard.dns import DnsResolver
from wizard.profile import ProviderProfile, example_profile

DOMAIN = "customer.example"

# The example profile's provider (hosted.example.net) as its own zone.
PROVIDER_ZONE = """
mx1 A 198.51.100.25
mx2 A 198.51.100.26
spf TXT "v=spf1 ip4:198.51.100.0/24 -all"
autodiscover A 198.51.100.80
"""


@pytest.fixture
def profile() -> ProviderProfile:
    return example_profile()


DnsWorld = Callable[..., tuple[KnotServer, DnsResolver]]


@pytest.fixture
def dns_world(knot_factory: KnotFactory) -> DnsWorld:
    """``dns_world(customer_records, **other_zones)``: a Knot serving the customer's domain,
    the provider's zone and any others, and a resolver asking it."""

    def start(records: str, **zones: str) -> tuple[KnotServer, DnsResolver]:
        all_zones = {DOMAIN: records, "hosted.example.net": PROVIDER_ZONE}
        all_zones.update({name.replace("_", "."): text for name, text in zones.items()})
        server = knot_factory(all_zones)
        return server, DnsResolver([server.address], timeout=2.0)

    return start
