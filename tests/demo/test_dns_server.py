"""The demo DNS: old MX until the change begins, then the authoritative server at once and the
resolvers one after another, as step 12's propagation check sees it (time compressed)."""

from __future__ import annotations

import time

import pytest

from wizard.devservers.demo import DemoDns, DnsChange, PropagationPlan, demo_profile
from wizard.devservers.demo.corpus import DEMO_DOMAIN
from wizard.dns.autodiscover import check_autodiscover
from wizard.dns.mx import check_mx
from wizard.dns.propagation import (
    CellState,
    check_propagation,
    mx_question,
    question,
)
from wizard.dns.resolver import DnsResolver, LookupState, NameServer, parse_servers
from wizard.dns.spf import check_spf

PROFILE = demo_profile("http://127.0.0.1:8080/EWS/Exchange.asmx")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def matrix(dns: DemoDns, q=None):
    return check_propagation(
        q or mx_question(DEMO_DOMAIN, PROFILE),
        parse_servers(dns.resolvers),
        parse_servers(dns.authoritative),
        required_share=1.0,
        timeout=2,
    )


def test_old_records_until_the_change_begins() -> None:
    with DemoDns(DEMO_DOMAIN, PROFILE) as dns:
        assert len(dns.authoritative) == 1 and len(dns.resolvers) == 4
        assert all(s.host == "127.0.0.1" for s in dns.servers)
        found = matrix(dns)
        assert not found.complete
        assert all(c.state is CellState.DIFFERS for c in found.cells)
        assert all(c.answer == ("10 mail.demo-company.example.",) for c in found.cells)
        assert found.authoritative[0].server.label == f"ns1.{DEMO_DOMAIN}"
        assert found.resolvers[0].server.label == "Office ISP"


def test_resolvers_follow_the_authoritative_server_one_by_one() -> None:
    clock = FakeClock()
    plan = PropagationPlan(resolver_delays=(10, 20, 30, 40), spf_delay=50)
    with DemoDns(DEMO_DOMAIN, PROFILE, plan=plan, change=DnsChange(clock=clock)) as dns:
        dns.change.begin()
        agreeing = []
        for seconds in (0, 10, 20, 30, 40):
            clock.now = dns.change.started_at + seconds
            found = matrix(dns)
            assert found.authoritative[0].agrees
            agreeing.append([c.agrees for c in found.resolvers])
        assert agreeing == [
            [False, False, False, False],
            [True, False, False, False],
            [True, True, False, False],
            [True, True, True, False],
            [True, True, True, True],
        ]
        assert found.complete
        # The SOA serial moves with the change, as a real zone's would.
        assert found.authoritative[0].soa_serial == 2026010102


def test_time_compressed_change_in_real_time() -> None:
    plan = PropagationPlan().scaled(0.005)  # 90 s become under half a second
    with DemoDns(DEMO_DOMAIN, PROFILE, plan=plan) as dns:
        resolver = DnsResolver([dns.resolvers[-1]], timeout=2)
        assert resolver.query(DEMO_DOMAIN, "MX").records == ("10 mail.demo-company.example.",)
        dns.change.begin()
        deadline = time.monotonic() + 10
        while not matrix(dns).complete:
            assert time.monotonic() < deadline, "the demo's MX change never completed"
            time.sleep(0.05)
        assert set(resolver.query(DEMO_DOMAIN, "MX").records) == {
            "10 mx1.demo-provider.example.",
            "20 mx2.demo-provider.example.",
        }


def test_autodiscover_and_spf_after_the_change() -> None:
    clock = FakeClock()
    plan = PropagationPlan(resolver_delays=(1, 2, 3, 4), spf_delay=100)
    with DemoDns(DEMO_DOMAIN, PROFILE, plan=plan, change=DnsChange(clock=clock)) as dns:
        resolver = DnsResolver([dns.resolvers[0]], timeout=2)
        assert resolver.query(f"autodiscover.{DEMO_DOMAIN}", "CNAME").state is LookupState.NXDOMAIN
        dns.change.begin()
        clock.now += 5
        cname = resolver.query(f"autodiscover.{DEMO_DOMAIN}", "A")
        assert cname.cnames == ("autodiscover.demo-provider.example",)
        assert cname.records == ("127.0.0.1",)
        srv = resolver.query(f"_autodiscover._tcp.{DEMO_DOMAIN}", "SRV")
        assert srv.records == ("0 0 443 autodiscover.demo-provider.example.",)
        spf = question(DEMO_DOMAIN, "TXT", ["v=spf1 mx include:spf.demo-provider.example -all"])
        assert not matrix(dns, spf).complete
        clock.now += 100
        assert matrix(dns, spf).complete
        include = resolver.query("spf.demo-provider.example", "TXT")
        assert include.records == ('"v=spf1 ip4:127.0.0.0/8 -all"',)


def test_names_outside_the_demo_are_refused_never_forwarded() -> None:
    with DemoDns(DEMO_DOMAIN, PROFILE) as dns:
        server = NameServer.parse(dns.resolvers[0])
        found = DnsResolver([server], timeout=2).query("example.com", "A")
        assert found.state is LookupState.REFUSED
        missing = DnsResolver([server], timeout=2).query(f"nothing.{DEMO_DOMAIN}", "A")
        assert missing.state is LookupState.NXDOMAIN


def test_loopback_only_and_stopped_servers_stop_answering() -> None:
    with pytest.raises(ValueError, match="loopback"):
        DemoDns(DEMO_DOMAIN, PROFILE, host="0.0.0.0")
    dns = DemoDns(DEMO_DOMAIN, PROFILE).start()
    server = NameServer.parse(dns.resolvers[0])
    dns.stop()
    found = DnsResolver([server], timeout=0.5).query(DEMO_DOMAIN, "MX")
    assert found.state.failed


def test_the_dns_checks_of_steps_8_11_and_13_2_pass_once_the_demo_changed() -> None:
    clock = FakeClock()
    plan = PropagationPlan(resolver_delays=(1, 2, 3, 4), spf_delay=10)
    with DemoDns(DEMO_DOMAIN, PROFILE, plan=plan, change=DnsChange(clock=clock)) as dns:
        resolver = DnsResolver(parse_servers(dns.resolvers), timeout=2)
        before = (
            check_mx(resolver, DEMO_DOMAIN, PROFILE),
            check_autodiscover(resolver, DEMO_DOMAIN, PROFILE),
            check_spf(resolver, DEMO_DOMAIN, PROFILE),
        )
        assert not any(check.ok for check in before)
        dns.change.begin()
        clock.now += 5
        assert check_mx(resolver, DEMO_DOMAIN, PROFILE).ok
        assert check_autodiscover(resolver, DEMO_DOMAIN, PROFILE).ok
        assert not check_spf(resolver, DEMO_DOMAIN, PROFILE).ok  # SPF comes last
        clock.now += 10
        assert check_spf(resolver, DEMO_DOMAIN, PROFILE).ok
