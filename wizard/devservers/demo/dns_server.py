"""The demo's DNS: one authoritative server and a few "resolvers" on loopback ports (dnslib).

They serve the demo company's domain and the demo provider's host names. When the demo's MX
change begins (``DnsChange.begin``), the authoritative server answers with the provider's MX
hosts and Autodiscover at once; each resolver follows after a delay of its own, as caches expire
at different times, so step 12's propagation matrix fills in while the operator watches; the SPF
record gains the provider's include last. Names outside the two zones get REFUSED: nothing is
ever forwarded, nothing leaves the machine.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from ...profile import ProviderProfile
from .imap_server import LOOPBACK, DemoServerError

TTL = 60
_OLD_MAIL_HOST = "mail"  # the old server's name inside the customer's domain


@dataclass(frozen=True)
class PropagationPlan:
    """Seconds after the change begins at which each server has the new records."""

    authoritative_delay: float = 0.0
    resolver_delays: tuple[float, ...] = (8.0, 25.0, 50.0, 90.0)
    spf_delay: float = 120.0
    # When mail still reaches the old server, from senders whose resolvers have the old MX: what
    # the differential copy (step 14) picks up after the initial one.
    late_mail: tuple[float, ...] = (4.0, 12.0, 20.0, 33.0, 47.0, 70.0)
    resolver_labels: tuple[str, ...] = (
        "Office ISP",
        "Home broadband",
        "Mobile network",
        "Public resolver",
    )

    def scaled(self, factor: float) -> PropagationPlan:
        """The same plan, ``factor`` times as long (tests use 0.01 or so)."""
        return replace(
            self,
            authoritative_delay=self.authoritative_delay * factor,
            resolver_delays=tuple(d * factor for d in self.resolver_delays),
            spf_delay=self.spf_delay * factor,
            late_mail=tuple(d * factor for d in self.late_mail),
        )

    def label(self, index: int) -> str:
        if index < len(self.resolver_labels):
            return self.resolver_labels[index]
        return f"Resolver {index + 1}"


class DnsChange:
    """When the demo's MX change began (wall-clock seconds), shared by all demo DNS servers."""

    def __init__(
        self, started_at: float | None = None, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._started_at = started_at
        self._clock = clock
        self._lock = threading.Lock()

    @property
    def started_at(self) -> float | None:
        return self._started_at

    def begin(self, at: float | None = None) -> float:
        """Start the change (once; later calls keep the first time) and return when it began."""
        with self._lock:
            if self._started_at is None:
                self._started_at = self._clock() if at is None else at
            return self._started_at

    def elapsed(self) -> float | None:
        started = self._started_at
        return None if started is None else self._clock() - started

    def reached(self, delay: float) -> bool:
        elapsed = self.elapsed()
        return elapsed is not None and elapsed >= delay


@dataclass(frozen=True)
class DnsView:
    """What one server answers at one moment."""

    new_mx: bool
    new_spf: bool


class DemoZone:
    """The records of the customer's domain and of the provider's hosts, old or new."""

    def __init__(self, domain: str, profile: ProviderProfile) -> None:
        self.domain = domain.lower().rstrip(".")
        self.profile = profile
        self.old_mx_host = f"{_OLD_MAIL_HOST}.{self.domain}"
        self.ns_host = f"ns1.{self.domain}"
        provider_hosts = {
            *profile.mx_hosts,
            profile.autodiscover_target,
            profile.activesync_host,
            profile.spf_include,
        }
        self.addresses = {h.lower(): LOOPBACK for h in provider_hosts}
        self.addresses[self.old_mx_host] = LOOPBACK
        self.addresses[self.ns_host] = LOOPBACK

    def in_zone(self, name: str) -> bool:
        name = name.lower().rstrip(".")
        return name == self.domain or name.endswith("." + self.domain) or name in self.addresses

    def records(self, name: str, qtype: str, view: DnsView) -> tuple[bool, list[tuple[str, Any]]]:
        """(name exists, [(type, value)]) for one question; values as dnslib rdata objects."""
        from dnslib import CNAME, MX, NS, SOA, SRV, TXT, A

        name = name.lower().rstrip(".")
        d, profile = self.domain, self.profile
        out: list[tuple[str, Any]] = []
        if name == d:
            if view.new_mx:
                mx = [("MX", MX(m.host, m.preference)) for m in profile.mx]
            else:
                mx = [("MX", MX(self.old_mx_host, 10))]
            spf = "v=spf1 mx -all"
            serial = 2026010101 + view.new_mx + view.new_spf  # each change bumps the serial
            if view.new_spf:
                spf = f"v=spf1 mx {profile.spf_mechanism()} -all"
            everything = [
                ("SOA", SOA(self.ns_host, f"hostmaster.{d}", (serial, 3600, 600, 86400, TTL))),
                ("NS", NS(self.ns_host)),
                *mx,
                ("TXT", TXT(spf)),
            ]
            out = [r for r in everything if r[0] == qtype]
            return True, out
        if name == f"autodiscover.{d}":
            if not view.new_mx:
                return False, []
            return True, [("CNAME", CNAME(profile.autodiscover_target))]
        if name == f"_autodiscover._tcp.{d}":
            if not view.new_mx:
                return False, []
            record = ("SRV", SRV(0, 0, 443, profile.autodiscover_target))
            return True, [record] if qtype == "SRV" else []
        if name == profile.spf_include:
            txt = ("TXT", TXT("v=spf1 ip4:127.0.0.0/8 -all"))
            a = ("A", A(LOOPBACK))
            return True, [r for r in (txt, a) if r[0] == qtype]
        if name in self.addresses:
            return True, [("A", A(self.addresses[name]))] if qtype == "A" else []
        return False, []


class _ZoneResolver:
    """dnslib resolver: answers from the zone as this server sees it now."""

    def __init__(self, zone: DemoZone, view: Callable[[], DnsView], *, authoritative: bool) -> None:
        self.zone = zone
        self.view = view
        self.authoritative = authoritative

    def resolve(self, request: Any, handler: Any) -> Any:
        from dnslib import QTYPE, RCODE, RR

        reply = request.reply()
        reply.header.aa = 1 if self.authoritative else 0
        reply.header.ra = 0 if self.authoritative else 1
        qname = str(request.q.qname)
        qtype = QTYPE[request.q.qtype]
        if not self.zone.in_zone(qname):
            reply.header.rcode = RCODE.REFUSED  # never forwarded anywhere
            return reply
        view = self.view()
        exists, records = self.zone.records(qname, qtype, view)
        if records and records[0][0] == "CNAME" and qtype != "CNAME" and not self.authoritative:
            # A resolver follows the CNAME and answers with the target's records too.
            target = str(records[0][1].label)
            _found, more = self.zone.records(target, qtype, view)
            records = records + [(kind, rdata, target) for kind, rdata in more]
        if not exists:
            reply.header.rcode = RCODE.NXDOMAIN
            return reply
        for kind, rdata, *owner in records:
            name = owner[0] if owner else qname
            reply.add_answer(RR(name, getattr(QTYPE, kind), rdata=rdata, ttl=TTL))
        return reply


class _QuietLogger:
    """dnslib prints every query to stdout by default; the demo runs under a full-screen UI."""

    def __getattr__(self, _name: str) -> Callable[..., None]:
        return lambda *args, **kwargs: None


@dataclass(frozen=True)
class DemoNameServer:
    label: str
    host: str
    port: int
    authoritative: bool

    @property
    def address(self) -> str:
        """``Label=IP:PORT``, as the session's "dns.resolvers" / "dns.authoritative" hold them."""
        return f"{self.label}={self.host}:{self.port}"


class DemoDns:
    """One authoritative server and ``len(plan.resolver_delays)`` resolvers, all on loopback."""

    def __init__(
        self,
        domain: str,
        profile: ProviderProfile,
        *,
        plan: PropagationPlan | None = None,
        change: DnsChange | None = None,
        host: str = LOOPBACK,
    ) -> None:
        if not host.startswith("127."):
            raise ValueError("the demo DNS servers listen on the loopback interface only")
        self.zone = DemoZone(domain, profile)
        self.plan = plan or PropagationPlan()
        self.change = change or DnsChange()
        self.host = host
        self.servers: list[DemoNameServer] = []
        self._running: list[Any] = []

    def view_after(self, delay: float) -> Callable[[], DnsView]:
        def view() -> DnsView:
            return DnsView(
                new_mx=self.change.reached(delay), new_spf=self.change.reached(self.plan.spf_delay)
            )

        return view

    def start(self) -> DemoDns:
        from dnslib.server import DNSServer

        if self._running:
            return self
        specs: list[tuple[str, float, bool]] = [
            (f"ns1.{self.zone.domain}", self.plan.authoritative_delay, True)
        ]
        specs += [
            (self.plan.label(i), delay, False) for i, delay in enumerate(self.plan.resolver_delays)
        ]
        try:
            for label, delay, authoritative in specs:
                resolver = _ZoneResolver(
                    self.zone, self.view_after(delay), authoritative=authoritative
                )
                server = DNSServer(resolver, address=self.host, port=0, logger=_QuietLogger())
                # dnslib's start_thread polls for shutdown every 0.5 s; stopping five took seconds.
                thread = threading.Thread(
                    target=server.server.serve_forever,
                    kwargs={"poll_interval": 0.05},
                    name=f"demo-dns-{label}",
                    daemon=True,
                )
                thread.start()
                server.thread = thread
                self._running.append(server)
                port = server.server.server_address[1]
                self.servers.append(DemoNameServer(label, self.host, port, authoritative))
        except OSError as exc:
            self.stop()
            raise DemoServerError(f"the demo DNS server could not start: {exc}") from exc
        return self

    @property
    def authoritative(self) -> list[str]:
        return [s.address for s in self.servers if s.authoritative]

    @property
    def resolvers(self) -> list[str]:
        return [s.address for s in self.servers if not s.authoritative]

    def stop(self) -> None:
        running, self._running = self._running, []
        for server in running:
            server.stop()
            server.server.server_close()
        self.servers = []

    def __enter__(self) -> DemoDns:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


__all__ = [
    "DemoDns",
    "DemoNameServer",
    "DemoZone",
    "DnsChange",
    "DnsView",
    "PropagationPlan",
]
