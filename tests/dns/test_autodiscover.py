"""Autodiscover: CNAME and SRV present, wrong and missing; an A record instead of a CNAME."""

from __future__ import annotations

from tests.dns.conftest import DOMAIN, DnsWorld
from wizard.dns import Severity, check_autodiscover
from wizard.profile import ProviderProfile

CNAME = "autodiscover CNAME autodiscover.hosted.example.net.\n"
SRV = "_autodiscover._tcp SRV 0 0 443 autodiscover.hosted.example.net.\n"


def codes(result) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(f.code for f in result.findings)


def test_cname_and_srv_present(dns_world: DnsWorld, profile: ProviderProfile) -> None:
    _server, resolver = dns_world(CNAME + SRV)
    result = check_autodiscover(resolver, DOMAIN, profile)
    assert result.cname_ok and result.srv_ok and result.ok
    assert codes(result) == ["autodiscover.cname_ok", "autodiscover.srv_ok"]
    assert "reaches autodiscover.hosted.example.net" in result.outlook_finds()


def test_both_missing(dns_world: DnsWorld, profile: ProviderProfile) -> None:
    _server, resolver = dns_world("www A 192.0.2.1\n")
    result = check_autodiscover(resolver, DOMAIN, profile)
    assert not result.ok and not result.cname_ok and not result.srv_ok
    assert codes(result) == ["autodiscover.missing", "autodiscover.srv_missing"]
    missing = result.findings[0]
    assert missing.code == "autodiscover.missing" and missing.severity is Severity.ERROR
    assert "CNAME autodiscover.customer.example → autodiscover.hosted.example.net" in (
        missing.advice
    )
    assert "set up by hand" in result.outlook_finds()


def test_srv_alone_works_with_a_warning(dns_world: DnsWorld, profile: ProviderProfile) -> None:
    _server, resolver = dns_world(SRV)
    result = check_autodiscover(resolver, DOMAIN, profile)
    assert result.ok and result.srv_ok and not result.cname_ok
    severities = {f.code: f.severity for f in result.findings}
    assert severities["autodiscover.missing"] is Severity.WARNING
    assert "SRV record" in result.outlook_finds()


def test_cname_pointing_elsewhere(dns_world: DnsWorld, profile: ProviderProfile) -> None:
    _server, resolver = dns_world("autodiscover CNAME mail.oldhost.example.\n" + SRV)
    result = check_autodiscover(resolver, DOMAIN, profile)
    assert not result.ok
    assert result.findings[0].code == "autodiscover.cname_wrong"
    assert "mail.oldhost.example" in result.findings[0].message


def test_srv_pointing_elsewhere(dns_world: DnsWorld, profile: ProviderProfile) -> None:
    _server, resolver = dns_world(CNAME + "_autodiscover._tcp SRV 0 0 443 old.example.\n")
    result = check_autodiscover(resolver, DOMAIN, profile)
    assert result.cname_ok and not result.srv_ok and not result.ok
    assert "autodiscover.srv_wrong" in codes(result)


def test_a_record_with_the_provider_address(dns_world: DnsWorld, profile: ProviderProfile) -> None:
    _server, resolver = dns_world("autodiscover A 198.51.100.80\n" + SRV)
    result = check_autodiscover(resolver, DOMAIN, profile)
    assert result.cname_ok and result.ok
    assert result.findings[0].code == "autodiscover.a_matches"


def test_a_record_elsewhere(dns_world: DnsWorld, profile: ProviderProfile) -> None:
    _server, resolver = dns_world("autodiscover A 192.0.2.99\n")
    result = check_autodiscover(resolver, DOMAIN, profile)
    assert not result.ok and "autodiscover.a_wrong" in codes(result)
    assert "192.0.2.99" in result.findings[0].message


def test_cname_chain_ending_at_the_target(dns_world: DnsWorld, profile: ProviderProfile) -> None:
    _server, resolver = dns_world(
        "autodiscover CNAME ad.customer.example.\nad CNAME autodiscover.hosted.example.net.\n"
    )
    result = check_autodiscover(resolver, DOMAIN, profile)
    assert result.cname_ok and result.ok
    chain = next(f for f in result.findings if f.code == "autodiscover.cname_chain")
    assert chain.message.endswith(
        "autodiscover.customer.example → ad.customer.example → autodiscover.hosted.example.net"
    )
