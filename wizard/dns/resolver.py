"""Asking DNS servers questions: a list of ``IP[:PORT]`` servers, or the system's resolver.

Every answer is a ``Lookup`` whose ``state`` tells a real answer apart from a failure (timeout,
SERVFAIL, REFUSED, an unreachable port), so no check ever reports a failure as a wrong record.
Queries go straight to the servers with ``dns.query`` (UDP, TCP when truncated) rather than
through ``dns.resolver``, because each server's own outcome and the AA flag matter here.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.resolver

from .model import DEFAULT_TIMEOUT, normalize_host


class DnsConfigError(ValueError):
    """A server given as ``IP[:PORT]`` is not valid, or no system resolver is configured."""


@dataclass(frozen=True)
class NameServer:
    """One DNS server to ask: an IP address, a port, and a label to show ("Google", a NS name)."""

    host: str
    port: int = 53
    label: str = ""

    @classmethod
    def parse(cls, text: str, label: str = "") -> NameServer:
        """``IP``, ``IP:PORT``, ``[IPv6]:PORT`` or a bare IPv6 address; ``label=IP...`` too."""
        raw = text.strip()
        if "=" in raw and not label:
            label, raw = (part.strip() for part in raw.split("=", 1))
        host, port = raw, 53
        if raw.startswith("["):
            end = raw.find("]")
            if end < 0:
                raise DnsConfigError(f"{text!r}: missing ']' after the IPv6 address")
            host, rest = raw[1:end], raw[end + 1 :]
            if rest:
                if not rest.startswith(":") or not rest[1:].isdigit():
                    raise DnsConfigError(f"{text!r}: expected [IPv6]:PORT")
                port = int(rest[1:])
        elif raw.count(":") == 1:
            host, _, port_text = raw.partition(":")
            if not port_text.isdigit():
                raise DnsConfigError(f"{text!r}: the port must be a number")
            port = int(port_text)
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise DnsConfigError(
                f"{text!r} is not an IP address (give a DNS server as IP or IP:PORT)"
            ) from None
        if not 0 < port < 65536:
            raise DnsConfigError(f"{text!r}: port {port} is out of range")
        return cls(host, port, label)

    @property
    def address(self) -> str:
        """``IP:PORT`` (``[IPv6]:PORT``), or just the IP for port 53."""
        if self.port == 53:
            return self.host
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def name(self) -> str:
        """What to show for this server: its label with the address, or the address."""
        return f"{self.label} ({self.address})" if self.label else self.address

    def __str__(self) -> str:
        return self.name

    def to_dict(self) -> dict[str, Any]:
        return {"host": self.host, "port": self.port, "label": self.label}


def parse_servers(texts: Iterable[str]) -> list[NameServer]:
    """``NameServer.parse`` for each entry; raises DnsConfigError naming the bad one."""
    return [NameServer.parse(t) for t in texts]


def system_servers() -> list[NameServer]:
    """The resolvers of this machine (/etc/resolv.conf or the platform's equivalent)."""
    try:
        resolver = dns.resolver.Resolver()
    except dns.resolver.NoResolverConfiguration:
        raise DnsConfigError(
            "this machine has no DNS resolver configured: give one with --resolver IP[:PORT]"
        ) from None
    port = getattr(resolver, "port", 53)
    return [NameServer(str(ns), port, "system") for ns in resolver.nameservers]


class LookupState(StrEnum):
    """How a question ended at one server."""

    ANSWER = "answer"
    NO_ANSWER = "no_answer"  # the name exists but has no record of that type
    NXDOMAIN = "nxdomain"
    SERVFAIL = "servfail"
    REFUSED = "refused"
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"  # nothing listens there (port closed, no route)
    ERROR = "error"  # a malformed reply or another rcode

    @property
    def failed(self) -> bool:
        """The server did not say anything about the name (as opposed to "no such record")."""
        return self not in (LookupState.ANSWER, LookupState.NO_ANSWER, LookupState.NXDOMAIN)

    @property
    def label(self) -> str:
        return _STATE_LABELS[self]


_STATE_LABELS = {
    LookupState.ANSWER: "answer",
    LookupState.NO_ANSWER: "no record of this type",
    LookupState.NXDOMAIN: "no such name (NXDOMAIN)",
    LookupState.SERVFAIL: "server failure (SERVFAIL)",
    LookupState.REFUSED: "refused",
    LookupState.TIMEOUT: "timed out",
    LookupState.UNREACHABLE: "unreachable",
    LookupState.ERROR: "bad reply",
}


@dataclass(frozen=True)
class Lookup:
    """One question (name, type) and what a server said about it.

    ``records`` are the answer's records as text (MX as "10 mx.example.net."), ``cnames`` the
    CNAME chain followed on the way, ``ttl`` the smallest TTL of the answer, ``soa_serial`` the
    serial of an SOA in the authority section (negative answers), ``authoritative`` the AA flag.
    ``rdata`` holds the dnspython objects for typed access (MX preference, SRV port ...).
    """

    name: str
    rdtype: str
    state: LookupState
    server: NameServer | None = None
    records: tuple[str, ...] = ()
    cnames: tuple[str, ...] = ()
    ttl: int | None = None
    soa_serial: int | None = None
    authoritative: bool = False
    detail: str = ""
    elapsed_ms: float = 0.0
    rdata: tuple[Any, ...] = field(default=(), compare=False, repr=False)

    @property
    def ok(self) -> bool:
        return self.state is LookupState.ANSWER

    @property
    def failed(self) -> bool:
        return self.state.failed

    @property
    def empty(self) -> bool:
        """A definite "nothing here" (NXDOMAIN or no record of the type): a void lookup."""
        return self.state in (LookupState.NO_ANSWER, LookupState.NXDOMAIN)

    def describe(self) -> str:
        """ "MX of example.com at 127.0.0.2: timed out" and the like, for messages."""
        where = f" at {self.server}" if self.server else ""
        what = ", ".join(self.records) if self.ok else self.state.label
        return f"{self.rdtype} of {self.name}{where}: {what}" + (
            f" ({self.detail})" if self.detail and not self.ok else ""
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.rdtype,
            "state": str(self.state),
            "server": self.server.address if self.server else None,
            "records": list(self.records),
            "cnames": list(self.cnames),
            "ttl": self.ttl,
            "soa_serial": self.soa_serial,
            "authoritative": self.authoritative,
            "detail": self.detail,
            "elapsed_ms": round(self.elapsed_ms, 1),
        }


def query_server(
    server: NameServer,
    name: str,
    rdtype: str,
    *,
    recursion: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
) -> Lookup:
    """Ask one server one question; never raises for DNS or network trouble."""
    qname = normalize_host(name)
    kind = rdtype.upper()
    try:
        message = dns.message.make_query(qname + ".", kind)
    except (dns.exception.DNSException, ValueError) as exc:
        # A name DNS cannot carry (a label over 63, a name over 253): nothing is sent.
        return Lookup(qname, kind, LookupState.ERROR, server, detail=f"not a valid name: {exc}")
    if not recursion:
        message.flags &= ~dns.flags.RD
    started = time.monotonic()

    def result(state: LookupState, detail: str = "", **extra: Any) -> Lookup:
        elapsed = (time.monotonic() - started) * 1000
        return Lookup(qname, kind, state, server, detail=detail, elapsed_ms=elapsed, **extra)

    try:
        response, _tcp = dns.query.udp_with_fallback(
            message, server.host, timeout=timeout, port=server.port
        )
    except dns.exception.Timeout:
        return result(LookupState.TIMEOUT, f"no reply within {timeout:g} s")
    except (ConnectionRefusedError, ConnectionResetError) as exc:
        return result(LookupState.UNREACHABLE, f"nothing answers on that port ({exc.strerror})")
    except OSError as exc:
        return result(LookupState.UNREACHABLE, exc.strerror or str(exc))
    except (dns.exception.DNSException, EOFError, ValueError) as exc:
        return result(LookupState.ERROR, f"malformed reply: {exc}")
    return _from_response(response, qname, kind, result)


def _from_response(response: dns.message.Message, qname: str, kind: str, result: Any) -> Lookup:
    rcode = response.rcode()
    authoritative = bool(response.flags & dns.flags.AA)
    serial = None
    for rrset in response.authority:
        if rrset.rdtype == dns.rdatatype.SOA and len(rrset):
            serial = int(rrset[0].serial)
    common = {"authoritative": authoritative, "soa_serial": serial}
    if rcode == dns.rcode.NXDOMAIN:
        return result(LookupState.NXDOMAIN, **common)
    if rcode == dns.rcode.SERVFAIL:
        return result(LookupState.SERVFAIL, "the server could not answer", **common)
    if rcode == dns.rcode.REFUSED:
        return result(LookupState.REFUSED, "the server refused the question", **common)
    if rcode != dns.rcode.NOERROR:
        return result(LookupState.ERROR, f"rcode {dns.rcode.to_text(rcode)}", **common)
    wanted = dns.rdatatype.from_text(kind)
    current = dns.name.from_text(qname + ".")
    cnames: list[str] = []
    for _hop in range(16):  # a CNAME chain longer than this is a loop
        rrset = _find(response, current, wanted)
        if rrset is not None:
            records = tuple(r.to_text() for r in rrset)
            return result(
                LookupState.ANSWER,
                records=records,
                cnames=tuple(cnames),
                ttl=int(rrset.ttl),
                rdata=tuple(rrset),
                **common,
            )
        alias = _find(response, current, dns.rdatatype.CNAME) if kind != "CNAME" else None
        if alias is None:
            break
        current = alias[0].target
        cnames.append(normalize_host(current.to_text()))
    return result(LookupState.NO_ANSWER, cnames=tuple(cnames), **common)


def _find(response: dns.message.Message, name: dns.name.Name, rdtype: int) -> Any:
    for rrset in response.answer:
        if rrset.name == name and rrset.rdtype == rdtype:
            return rrset
    return None


class DnsResolver:
    """Asks a list of servers (default: the system's resolvers) the questions of the checks.

    ``query`` tries the servers in order and returns the first that says something about the
    name (an answer, NXDOMAIN or "no record"); when every server fails, the first failure, with
    the others in ``detail``. ``recursion=False`` asks authoritative servers directly.
    """

    def __init__(
        self,
        servers: Sequence[NameServer | str] | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        recursion: bool = True,
    ) -> None:
        if servers:
            self.servers = [
                s if isinstance(s, NameServer) else NameServer.parse(s) for s in servers
            ]
        else:
            self.servers = system_servers()
        if not self.servers:
            raise DnsConfigError("no DNS server to ask: give one with --resolver IP[:PORT]")
        self.timeout = timeout
        self.recursion = recursion

    def query(self, name: str, rdtype: str) -> Lookup:
        failures: list[Lookup] = []
        for server in self.servers:
            found = query_server(
                server, name, rdtype, recursion=self.recursion, timeout=self.timeout
            )
            if not found.failed:
                return found
            failures.append(found)
        first = failures[0]
        if len(failures) == 1:
            return first
        others = "; ".join(f"{f.server}: {f.state.label}" for f in failures)
        return Lookup(
            first.name,
            first.rdtype,
            first.state,
            first.server,
            detail=f"every server failed: {others}",
            elapsed_ms=sum(f.elapsed_ms for f in failures),
        )

    def addresses(self, host: str) -> tuple[list[str], Lookup]:
        """IPv4 then IPv6 addresses of a host, and the lookup that decided (for messages)."""
        found = self.query(host, "A")
        v6 = self.query(host, "AAAA")
        addresses = [*(found.records if found.ok else ()), *(v6.records if v6.ok else ())]
        return addresses, (found if found.ok or not v6.ok else v6)

    def describe(self) -> str:
        return ", ".join(str(s) for s in self.servers)


def is_loopback(server: NameServer) -> bool:
    return ipaddress.ip_address(server.host).is_loopback


__all__ = [
    "DEFAULT_TIMEOUT",
    "DnsConfigError",
    "DnsResolver",
    "Lookup",
    "LookupState",
    "NameServer",
    "is_loopback",
    "parse_servers",
    "query_server",
    "system_servers",
]
