"""SPF: none, one, two records; the provider include; lookups counted through nested includes
and redirects, loops, void lookups, +all and ptr; the merged recommendation."""

from __future__ import annotations

import pytest

from tests.dns.conftest import DOMAIN, DnsWorld
from wizard.dns import Severity, SpfCheck, check_spf, merge_records
from wizard.profile import ProviderProfile

INCLUDE = "include:spf.hosted.example.net"

# A tree of includes below ext.example: l1 -> (l2, l3 -> l4 =redirect=> l5).
EXT_ZONE = """
@ MX 10 mx.ext.example.
mx A 192.0.2.20
host A 192.0.2.21
probe A 127.0.0.2
l1 TXT "v=spf1 include:l2.ext.example include:l3.ext.example a:host.ext.example ~all"
l2 TXT "v=spf1 mx:ext.example exists:probe.ext.example ip4:192.0.2.0/24 ~all"
l3 TXT "v=spf1 include:l4.ext.example ptr ~all"
l4 TXT "v=spf1 redirect=l5.ext.example"
l5 TXT "v=spf1 ip4:203.0.113.0/24 -all"
loop1 TXT "v=spf1 include:loop2.ext.example -all"
loop2 TXT "v=spf1 include:loop1.ext.example -all"
nospf TXT "just a verification token"
"""
CUSTOMER_HOSTS = "@ A 192.0.2.10\n@ MX 10 mail.oldhost.example.\n"


def txt(record: str) -> str:
    return f'@ TXT "{record}"\n'


def spf(world: DnsWorld, profile: ProviderProfile, records: str) -> SpfCheck:
    _server, resolver = world(CUSTOMER_HOSTS + records, ext_example=EXT_ZONE)
    return check_spf(resolver, DOMAIN, profile)


def codes(result: SpfCheck) -> set[str]:
    return {f.code for f in result.findings}


def test_no_record(dns_world: DnsWorld, profile: ProviderProfile) -> None:
    result = spf(dns_world, profile, '@ TXT "google-site-verification=abc"\n')
    assert result.records == ()
    assert not result.ok
    assert "spf.none" in codes(result)
    assert result.recommended == f"v=spf1 {INCLUDE} ~all"


def test_one_good_record(dns_world: DnsWorld, profile: ProviderProfile) -> None:
    result = spf(dns_world, profile, txt(f"v=spf1 mx {INCLUDE} -all"))
    assert result.record == f"v=spf1 mx {INCLUDE} -all"
    assert result.ok and result.include_present
    assert result.lookup_count == 2
    assert not result.needs_change
    assert codes(result) == {"spf.include_present", "spf.lookup_count"}


def test_one_record_without_the_provider(dns_world: DnsWorld, profile: ProviderProfile) -> None:
    result = spf(dns_world, profile, txt("v=spf1 mx ip4:192.0.2.0/24 ~all"))
    assert not result.ok and not result.include_present
    assert "spf.include_missing" in codes(result)
    assert result.recommended == f"v=spf1 mx ip4:192.0.2.0/24 {INCLUDE} ~all"
    assert result.needs_change
    assert result.recommended_lookup_count == 2


def test_two_records_are_merged(dns_world: DnsWorld, profile: ProviderProfile) -> None:
    result = spf(
        dns_world,
        profile,
        txt("v=spf1 mx include:l5.ext.example -all") + txt("v=spf1 ip4:198.18.0.1 mx ~all"),
    )
    assert len(result.records) == 2 and result.record is None
    multiple = next(f for f in result.findings if f.code == "spf.multiple")
    assert multiple.severity is Severity.ERROR
    # every sender of both records kept once (records in a stable order, whatever order the
    # server sends them in), the provider added, the stricter "all" kept
    assert result.recommended == f"v=spf1 ip4:198.18.0.1 mx include:l5.ext.example {INCLUDE} -all"
    assert result.lookup_count == 3  # mx and include of one record, mx of the other


def test_nested_includes_over_ten_lookups(dns_world: DnsWorld, profile: ProviderProfile) -> None:
    result = spf(dns_world, profile, txt(f"v=spf1 mx a include:l1.ext.example {INCLUDE} -all"))
    # mx, a, include:l1, include:spf (4) + l1: 2 includes and a (3) + l2: mx and exists (2)
    # + l3: include and ptr (2) + l4: redirect (1) = 12
    assert result.lookup_count == 12
    assert result.void_count == 0
    too_many = next(f for f in result.findings if f.code == "spf.too_many_lookups")
    assert too_many.severity is Severity.ERROR and too_many.data["count"] == 12
    assert "12 DNS lookups" in too_many.message
    assert "spf.ptr" in codes(result)  # found in l3, two includes down
    deepest = max(result.steps, key=lambda s: s.depth)
    assert (deepest.term, deepest.depth) == ("redirect=l5.ext.example", 3)
    assert "spf.recommended_too_many" in codes(result)


def test_exactly_ten_lookups_is_allowed(dns_world: DnsWorld, profile: ProviderProfile) -> None:
    result = spf(dns_world, profile, txt(f"v=spf1 include:l1.ext.example {INCLUDE} -all"))
    assert result.lookup_count == 10
    assert result.ok
    assert "spf.too_many_lookups" not in codes(result)


def test_include_loop_is_reported_not_followed(
    dns_world: DnsWorld, profile: ProviderProfile
) -> None:
    result = spf(dns_world, profile, txt(f"v=spf1 include:loop1.ext.example {INCLUDE} -all"))
    loop = next(f for f in result.findings if f.code == "spf.loop")
    assert loop.severity is Severity.ERROR
    assert loop.data["path"] == [
        DOMAIN,
        "loop1.ext.example",
        "loop2.ext.example",
        "loop1.ext.example",
    ]
    assert result.lookup_count == 4  # include loop1, include loop2, include loop1 again, spf


def test_plus_all_is_flagged_and_replaced(dns_world: DnsWorld, profile: ProviderProfile) -> None:
    result = spf(dns_world, profile, txt(f"v=spf1 mx {INCLUDE} +all"))
    plus = next(f for f in result.findings if f.code == "spf.plus_all")
    assert plus.severity is Severity.ERROR and not result.ok
    assert result.recommended == f"v=spf1 mx {INCLUDE} ~all"


def test_void_lookups_over_two(dns_world: DnsWorld, profile: ProviderProfile) -> None:
    result = spf(
        dns_world,
        profile,
        txt(f"v=spf1 a:gone1.{DOMAIN} a:gone2.{DOMAIN} mx:gone3.{DOMAIN} {INCLUDE} -all"),
    )
    assert result.void_count == 3
    assert "spf.too_many_void_lookups" in codes(result)
    assert not result.ok


def test_include_without_spf_record(dns_world: DnsWorld, profile: ProviderProfile) -> None:
    result = spf(dns_world, profile, txt(f"v=spf1 include:nospf.ext.example {INCLUDE} -all"))
    assert "spf.include_without_spf" in codes(result)
    assert not result.ok


def test_provider_include_reached_through_another_include(
    dns_world: DnsWorld, profile: ProviderProfile
) -> None:
    _server, resolver = dns_world(
        txt("v=spf1 include:_spf.customer.example -all") + f'_spf TXT "v=spf1 {INCLUDE} ~all"\n'
    )
    result = check_spf(resolver, DOMAIN, profile)
    assert result.include_present and result.ok
    present = next(f for f in result.findings if f.code == "spf.include_present")
    assert present.severity is Severity.INFO


@pytest.mark.parametrize(
    ("records", "expected"),
    [
        (["v=spf1 redirect=_spf.example.org"], f"v=spf1 {INCLUDE} redirect=_spf.example.org"),
        (["v=spf1 ?all exp=explain.example.org"], f"v=spf1 {INCLUDE} ~all exp=explain.example.org"),
        (["v=spf1 +mx mx -all"], f"v=spf1 +mx {INCLUDE} -all"),
        ([f"v=spf1 {INCLUDE.upper()} -all"], f"v=spf1 {INCLUDE.upper()} -all"),
    ],
)
def test_merge_records(records: list[str], expected: str) -> None:
    assert merge_records(records, INCLUDE) == expected


def test_record_split_into_several_strings(dns_world: DnsWorld, profile: ProviderProfile) -> None:
    result = spf(dns_world, profile, f'@ TXT "v=spf1 mx " "{INCLUDE} -all"\n')
    assert result.records == (f"v=spf1 mx {INCLUDE} -all",)
    assert result.ok and result.lookup_count == 2
