"""Asking servers: IP[:PORT] parsing, timeouts and falling over to the next server."""

from __future__ import annotations

import pytest

from tests.dns.conftest import DOMAIN, DnsWorld
from tests.servers.knot import SilentServer
from wizard.dns import DnsConfigError, DnsResolver, LookupState, NameServer, check_mx
from wizard.profile import ProviderProfile


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1", NameServer("127.0.0.1", 53)),
        ("127.0.0.5:5353", NameServer("127.0.0.5", 5353)),
        ("Google=8.8.8.8", NameServer("8.8.8.8", 53, "Google")),
        ("[::1]:5300", NameServer("::1", 5300)),
        ("::1", NameServer("::1", 53)),
    ],
)
def test_parse_server(text: str, expected: NameServer) -> None:
    assert NameServer.parse(text) == expected


@pytest.mark.parametrize("text", ["dns.google", "127.0.0.1:port", "127.0.0.1:70000", "[::1"])
def test_bad_server_is_refused_with_its_text(text: str) -> None:
    with pytest.raises(DnsConfigError, match="IP|port|\\]"):
        NameServer.parse(text)


def test_silent_server_times_out_and_is_not_a_wrong_record(
    silent_dns: SilentServer, profile: ProviderProfile
) -> None:
    resolver = DnsResolver([silent_dns.address], timeout=0.3)
    lookup = resolver.query(DOMAIN, "MX")
    assert lookup.state is LookupState.TIMEOUT and lookup.failed
    result = check_mx(resolver, DOMAIN, profile)
    assert [f.code for f in result.findings] == ["mx.lookup_failed"]
    assert "timed out" in result.findings[0].message


def test_falls_over_to_the_next_server(
    silent_dns: SilentServer, dns_world: DnsWorld, profile: ProviderProfile
) -> None:
    server, _ = dns_world("@ MX 10 mx1.hosted.example.net.\n")
    resolver = DnsResolver([silent_dns.address, server.address], timeout=0.3)
    lookup = resolver.query(DOMAIN, "MX")
    assert lookup.ok and lookup.server == server.server()
    assert lookup.records == ("10 mx1.hosted.example.net.",)


def test_every_server_failing_names_them_all(silent_dns: SilentServer, dns_world: DnsWorld) -> None:
    server, _ = dns_world("")
    lookup = DnsResolver([silent_dns.address, server.address], timeout=0.3).query(
        "other.example", "MX"
    )
    assert lookup.state is LookupState.TIMEOUT
    assert "timed out" in lookup.detail and "refused" in lookup.detail
