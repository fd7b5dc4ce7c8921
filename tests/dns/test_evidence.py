"""Every check's result saved as evidence in the session, with when DNS was asked."""

from __future__ import annotations

from tests.dns.conftest import DOMAIN, DnsWorld
from wizard.dns import check_autodiscover, check_mx, check_spf, records_to_publish, save_evidence
from wizard.profile import ProviderProfile
from wizard.session import create_session


def test_checks_saved_as_evidence(dns_world: DnsWorld, profile: ProviderProfile) -> None:
    _server, resolver = dns_world(
        "@ MX 10 mail.oldhost.example.\n"
        '@ TXT "v=spf1 mx include:spf.hosted.example.net -all"\n'
        "autodiscover CNAME autodiscover.hosted.example.net.\n"
    )
    store = create_session("Customer", DOMAIN, profile)
    try:
        mx = check_mx(resolver, DOMAIN, store.profile)
        save_evidence(store, "8", mx)
        save_evidence(store, "11", check_autodiscover(resolver, DOMAIN, store.profile))
        save_evidence(store, "13.2", check_spf(resolver, DOMAIN, store.profile))

        saved_mx = store.latest_evidence("8", "dns.mx")
        assert saved_mx is not None
        assert saved_mx.ok is False
        assert saved_mx.summary == (
            "MX of customer.example still points at the old mail server (mail.oldhost.example)"
        )
        assert saved_mx.data["status"] == "still_old"
        assert saved_mx.data["checked_at"] == mx.checked_at
        assert saved_mx.created_at >= mx.checked_at
        assert [f["code"] for f in saved_mx.data["findings"]] == ["mx.still_old"]

        saved_ad = store.latest_evidence("11", "dns.autodiscover")
        assert saved_ad is not None and saved_ad.ok is True
        assert "reaches autodiscover.hosted.example.net" in saved_ad.data["outlook"]

        saved_spf = store.latest_evidence("13.2", "dns.spf")
        assert saved_spf is not None and saved_spf.ok is True
        assert saved_spf.data["lookup_count"] == 2
        assert saved_spf.data["recommended"] == "v=spf1 mx include:spf.hosted.example.net -all"
    finally:
        store.close()


def test_records_to_publish(profile: ProviderProfile) -> None:
    lines = [r.zone_line() for r in records_to_publish(DOMAIN, profile)]
    assert lines == [
        "customer.example. 3600 IN MX 10 mx1.hosted.example.net.",
        "customer.example. 3600 IN MX 20 mx2.hosted.example.net.",
        "autodiscover.customer.example. 3600 IN CNAME autodiscover.hosted.example.net.",
        "_autodiscover._tcp.customer.example. 3600 IN SRV 0 0 443 autodiscover.hosted.example.net.",
    ]
    filtered = records_to_publish(DOMAIN, profile, third_party_filter=True)
    assert [r.rdtype for r in filtered] == ["CNAME", "SRV"]  # MX stays on the filter
