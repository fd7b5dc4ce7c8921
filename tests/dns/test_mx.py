"""MX: all provider, mixed, still old, none, and the third-party filtering variant."""

from __future__ import annotations

from tests.dns.conftest import DOMAIN, DnsWorld
from wizard.dns import MxStatus, Severity, check_mx
from wizard.profile import ProviderProfile

PROVIDER_MX = "@ MX 10 mx1.hosted.example.net.\n@ MX 20 mx2.hosted.example.net.\n"
OLD_MX = "@ MX 10 mail.oldhost.example.\n"


def codes(result) -> set[str]:  # type: ignore[no-untyped-def]
    return {f.code for f in result.findings}


def test_all_provider(dns_world: DnsWorld, profile: ProviderProfile) -> None:
    _server, resolver = dns_world(PROVIDER_MX)
    result = check_mx(resolver, DOMAIN, profile)
    assert result.status is MxStatus.ALL_PROVIDER
    assert result.ok
    assert [(r.preference, r.host, r.provider) for r in result.records] == [
        (10, "mx1.hosted.example.net", True),
        (20, "mx2.hosted.example.net", True),
    ]
    assert codes(result) == {"mx.all_provider"}


def test_one_provider_host_missing_is_only_noted(
    dns_world: DnsWorld, profile: ProviderProfile
) -> None:
    _server, resolver = dns_world("@ MX 10 mx1.hosted.example.net.\n")
    result = check_mx(resolver, DOMAIN, profile)
    assert result.status is MxStatus.ALL_PROVIDER and result.ok
    assert "mx.provider_host_missing" in codes(result)


def test_mixed_must_be_fixed(dns_world: DnsWorld, profile: ProviderProfile) -> None:
    _server, resolver = dns_world(PROVIDER_MX + OLD_MX.replace("10", "5"))
    result = check_mx(resolver, DOMAIN, profile)
    assert result.status is MxStatus.MIXED
    assert not result.ok
    finding = result.findings[0]
    assert finding.code == "mx.mixed" and finding.severity is Severity.ERROR
    assert "mail.oldhost.example" in finding.message
    assert "10 mx1.hosted.example.net, 20 mx2.hosted.example.net" in finding.advice


def test_still_old(dns_world: DnsWorld, profile: ProviderProfile) -> None:
    _server, resolver = dns_world(OLD_MX)
    result = check_mx(resolver, DOMAIN, profile)
    assert result.status is MxStatus.STILL_OLD
    assert not result.ok
    assert codes(result) == {"mx.still_old"}
    assert [r.provider for r in result.records] == [False]


def test_no_mx_at_all(dns_world: DnsWorld, profile: ProviderProfile) -> None:
    _server, resolver = dns_world("www A 192.0.2.1\n")
    result = check_mx(resolver, DOMAIN, profile)
    assert result.status is MxStatus.NONE and not result.ok
    assert codes(result) == {"mx.none"}


def test_filtering_variant_expects_mx_on_the_filter(
    dns_world: DnsWorld, profile: ProviderProfile
) -> None:
    _server, resolver = dns_world("@ MX 10 in.filter.example.\n@ MX 20 in2.filter.example.\n")
    plain = check_mx(resolver, DOMAIN, profile)
    assert plain.status is MxStatus.STILL_OLD and not plain.ok
    result = check_mx(resolver, DOMAIN, profile, third_party_filter=True)
    assert result.status is MxStatus.FILTERING
    assert result.ok
    finding = result.findings[0]
    assert finding.code == "mx.filtering_kept"
    assert "filtering service" in finding.message
    assert "mx1.hosted.example.net" in finding.advice  # where the filter must deliver


def test_filtering_variant_warns_when_mx_skips_the_filter(
    dns_world: DnsWorld, profile: ProviderProfile
) -> None:
    _server, resolver = dns_world(PROVIDER_MX)
    result = check_mx(resolver, DOMAIN, profile, third_party_filter=True)
    assert codes(result) == {"mx.filtering_bypassed"}
    assert result.findings[0].severity is Severity.WARNING


def test_unknown_domain_is_not_a_wrong_record(
    dns_world: DnsWorld, profile: ProviderProfile
) -> None:
    _server, resolver = dns_world(PROVIDER_MX)
    result = check_mx(resolver, "not-served.example", profile)  # Knot refuses foreign zones
    assert result.status is MxStatus.LOOKUP_FAILED
    assert codes(result) == {"mx.lookup_failed"}
    assert "refused" in result.findings[0].message


def test_null_mx(dns_world: DnsWorld, profile: ProviderProfile) -> None:
    _server, resolver = dns_world("@ MX 0 .\n")
    result = check_mx(resolver, DOMAIN, profile)
    assert result.status is MxStatus.NONE and not result.ok
    assert codes(result) == {"mx.null"}
