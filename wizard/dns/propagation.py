"""Step 12: has the change reached every authoritative name server and the public resolvers?

One question (e.g. the MX of the domain) is asked of a list of resolvers and of every
authoritative server of the domain (asked without recursion). Each cell of the
``PropagationMatrix`` says what that server answered, with TTL and the zone's SOA serial, and
whether it agrees with the expected answer; failures (timeout, SERVFAIL, NXDOMAIN, REFUSED) are
their own states and never count as a wrong record.
"""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from wizard.events import Done, EventSink, Progress, Started, ignore
from wizard.profile import ProviderProfile

from .model import Finding, Severity, normalize_host, utc_now
from .resolver import DEFAULT_TIMEOUT, DnsResolver, Lookup, LookupState, NameServer, query_server

if TYPE_CHECKING:
    from wizard.store import SessionStore

# Well-known public resolvers, the default list; sessions keep their own in "dns.resolvers".
DEFAULT_RESOLVERS: tuple[NameServer, ...] = (
    NameServer("8.8.8.8", 53, "Google"),
    NameServer("8.8.4.4", 53, "Google"),
    NameServer("1.1.1.1", 53, "Cloudflare"),
    NameServer("1.0.0.1", 53, "Cloudflare"),
    NameServer("9.9.9.9", 53, "Quad9"),
    NameServer("208.67.222.222", 53, "OpenDNS"),
)
DEFAULT_SHARE = 0.8  # of the resolvers that must agree before the change counts as propagated
RESOLVERS_SETTING = "dns.resolvers"  # list of "IP[:PORT]" or "Label=IP[:PORT]"
SHARE_SETTING = "dns.required_share"  # 0..1
AUTHORITATIVE_SETTING = "dns.authoritative"  # optional fixed list instead of NS discovery


class Role(StrEnum):
    RESOLVER = "resolver"
    AUTHORITATIVE = "authoritative"


class CellState(StrEnum):
    AGREES = "agrees"
    DIFFERS = "differs"  # a real answer, not the expected one
    NO_ANSWER = "no_answer"
    NXDOMAIN = "nxdomain"
    SERVFAIL = "servfail"
    REFUSED = "refused"
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"
    ERROR = "error"

    @property
    def failed(self) -> bool:
        """The server could not be asked or would not answer (never "a wrong record")."""
        return self in _FAILED

    @property
    def label(self) -> str:
        return _CELL_LABELS[self]


_FAILED = {
    CellState.SERVFAIL,
    CellState.REFUSED,
    CellState.TIMEOUT,
    CellState.UNREACHABLE,
    CellState.ERROR,
}
_CELL_LABELS = {
    CellState.AGREES: "agrees",
    CellState.DIFFERS: "differs",
    CellState.NO_ANSWER: "no answer",
    CellState.NXDOMAIN: "NXDOMAIN",
    CellState.SERVFAIL: "SERVFAIL",
    CellState.REFUSED: "refused",
    CellState.TIMEOUT: "timeout",
    CellState.UNREACHABLE: "unreachable",
    CellState.ERROR: "bad reply",
}
_FROM_LOOKUP = {
    LookupState.NO_ANSWER: CellState.NO_ANSWER,
    LookupState.NXDOMAIN: CellState.NXDOMAIN,
    LookupState.SERVFAIL: CellState.SERVFAIL,
    LookupState.REFUSED: CellState.REFUSED,
    LookupState.TIMEOUT: CellState.TIMEOUT,
    LookupState.UNREACHABLE: CellState.UNREACHABLE,
    LookupState.ERROR: CellState.ERROR,
}


@dataclass(frozen=True)
class PropagationQuestion:
    """What to ask (``name``/``rdtype``), the answer that means "done", and the zone whose SOA
    serial to show. ``expected`` holds normalized values (see ``answer_values``)."""

    name: str
    rdtype: str
    expected: frozenset[str]
    zone: str

    def describe(self) -> str:
        return f"{self.rdtype} of {self.name} = {', '.join(sorted(self.expected))}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.rdtype,
            "expected": sorted(self.expected),
            "zone": self.zone,
        }


def answer_values(lookup: Lookup) -> frozenset[str]:
    """The answer as compared with ``expected``: MX by host (preferences aside), names without
    the trailing dot, TXT as its joined text, everything else as its text in lower case."""
    values: set[str] = set()
    for rdata in lookup.rdata:
        kind = lookup.rdtype
        if kind == "MX":
            values.add(normalize_host(rdata.exchange.to_text()))
        elif kind in ("CNAME", "NS", "PTR"):
            values.add(normalize_host(rdata.target.to_text()))
        elif kind == "TXT":
            values.add(b"".join(rdata.strings).decode("utf-8", errors="replace"))
        else:
            values.add(rdata.to_text().lower())
    return frozenset(values)


def question(
    name: str, rdtype: str, expected: Iterable[str], zone: str | None = None
) -> PropagationQuestion:
    kind = rdtype.upper()
    values = {
        normalize_host(v) if kind in ("MX", "CNAME", "NS", "PTR") else v.strip() for v in expected
    }
    return PropagationQuestion(
        normalize_host(name), kind, frozenset(values), normalize_host(zone or name)
    )


def mx_question(domain: str, profile: ProviderProfile) -> PropagationQuestion:
    """The step 12 question: does MX of ``domain`` name exactly the provider's hosts?"""
    return question(domain, "MX", profile.mx_hosts, domain)


@dataclass(frozen=True)
class PropagationCell:
    server: NameServer
    role: Role
    state: CellState
    answer: tuple[str, ...]  # the records as text
    ttl: int | None
    soa_serial: int | None
    detail: str
    elapsed_ms: float
    checked_at: str

    @property
    def agrees(self) -> bool:
        return self.state is CellState.AGREES

    @property
    def shown(self) -> str:
        """The cell's text: the answer when there is one, else the state."""
        if self.state in (CellState.AGREES, CellState.DIFFERS):
            return ", ".join(self.answer)
        return self.state.label

    def to_dict(self) -> dict[str, Any]:
        return {
            "server": self.server.to_dict(),
            "role": str(self.role),
            "state": str(self.state),
            "answer": list(self.answer),
            "ttl": self.ttl,
            "soa_serial": self.soa_serial,
            "detail": self.detail,
            "elapsed_ms": round(self.elapsed_ms, 1),
            "checked_at": self.checked_at,
        }


@dataclass(frozen=True)
class PropagationMatrix:
    """Every server's answer to one question, and whether the change has propagated."""

    question: PropagationQuestion
    cells: tuple[PropagationCell, ...]  # authoritative servers first, then resolvers
    required_share: float
    checked_at: str
    authoritative_note: str = ""  # why there are no authoritative servers, when there are none

    kind = "dns.propagation"

    def role(self, role: Role) -> tuple[PropagationCell, ...]:
        return tuple(c for c in self.cells if c.role is role)

    @property
    def authoritative(self) -> tuple[PropagationCell, ...]:
        return self.role(Role.AUTHORITATIVE)

    @property
    def resolvers(self) -> tuple[PropagationCell, ...]:
        return self.role(Role.RESOLVER)

    @property
    def agreeing(self) -> int:
        return sum(c.agrees for c in self.cells)

    @property
    def resolvers_needed(self) -> int:
        return math.ceil(self.required_share * len(self.resolvers) - 1e-9)

    @property
    def complete(self) -> bool:
        """Every authoritative server (at least one) and the chosen share of resolvers agree."""
        auth = self.authoritative
        return (
            bool(auth)
            and all(c.agrees for c in auth)
            and sum(c.agrees for c in self.resolvers) >= self.resolvers_needed
        )

    @property
    def ok(self) -> bool:
        return self.complete

    @property
    def summary(self) -> str:
        auth, res = self.authoritative, self.resolvers
        text = (
            f"{sum(c.agrees for c in auth)} of {len(auth)} authoritative and "
            f"{sum(c.agrees for c in res)} of {len(res)} resolvers agree on "
            f"{self.question.describe()}"
        )
        return text + (" — complete" if self.complete else " — not yet complete")

    @property
    def findings(self) -> tuple[Finding, ...]:
        found: list[Finding] = []
        if not self.authoritative:
            found.append(
                Finding(
                    "propagation.no_authoritative",
                    Severity.ERROR,
                    f"No authoritative name server of {self.question.zone} could be asked"
                    + (f": {self.authoritative_note}" if self.authoritative_note else ""),
                    "Check the domain's NS records, or name its servers in the settings.",
                )
            )
        for cell in self.cells:
            if cell.state.failed:
                found.append(
                    Finding(
                        "propagation.server_failed",
                        Severity.WARNING,
                        f"{cell.server} ({cell.role}): {cell.state.label}"
                        + (f" — {cell.detail}" if cell.detail else ""),
                        "The server could not be asked; this is not a wrong record.",
                        {"server": cell.server.address, "state": str(cell.state)},
                    )
                )
        found.insert(
            0,
            Finding(
                "propagation.complete" if self.complete else "propagation.pending",
                Severity.OK if self.complete else Severity.WARNING,
                self.summary,
                ""
                if self.complete
                else "Wait for the TTL of the old records to run out and check again.",
                {"agreeing": self.agreeing, "servers": len(self.cells)},
            ),
        )
        return tuple(found)

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question.to_dict(),
            "cells": [c.to_dict() for c in self.cells],
            "required_share": self.required_share,
            "resolvers_needed": self.resolvers_needed,
            "complete": self.complete,
            "summary": self.summary,
            "authoritative_note": self.authoritative_note,
            "findings": [f.to_dict() for f in self.findings],
            "checked_at": self.checked_at,
        }


def ask_cell(
    q: PropagationQuestion, server: NameServer, role: Role, *, timeout: float = DEFAULT_TIMEOUT
) -> PropagationCell:
    """Ask one server the question (and the zone's SOA serial) and judge its answer."""
    recursion = role is Role.RESOLVER
    found = query_server(server, q.name, q.rdtype, recursion=recursion, timeout=timeout)
    serial = found.soa_serial
    if not found.failed and serial is None:
        soa = query_server(server, q.zone, "SOA", recursion=recursion, timeout=timeout)
        if soa.ok and soa.rdata:
            serial = int(soa.rdata[0].serial)
    if found.ok:
        state = CellState.AGREES if answer_values(found) == q.expected else CellState.DIFFERS
    else:
        state = _FROM_LOOKUP[found.state]
    detail = found.detail
    if role is Role.AUTHORITATIVE and not found.failed and not found.authoritative:
        detail = (detail + "; " if detail else "") + "answer not authoritative (AA flag missing)"
    return PropagationCell(
        server,
        role,
        state,
        found.records,
        found.ttl,
        serial,
        detail,
        found.elapsed_ms,
        utc_now(),
    )


def find_authoritative(
    resolver: DnsResolver,
    domain: str,
    *,
    host_map: Mapping[str, NameServer | str] | None = None,
    port: int = 53,
) -> tuple[list[NameServer], str]:
    """The domain's authoritative servers from its NS records, and a note when none were found.

    Each NS host is looked up through ``resolver`` (A, then AAAA) and asked on ``port``;
    ``host_map`` maps NS host names to servers directly (tests map them to loopback ports).
    """
    mapping = {
        normalize_host(k): v if isinstance(v, NameServer) else NameServer.parse(v)
        for k, v in (host_map or {}).items()
    }
    ns = resolver.query(domain, "NS")
    if not ns.ok:
        return [], f"NS of {normalize_host(domain)}: {ns.state.label}"
    servers: list[NameServer] = []
    notes: list[str] = []
    for host in sorted(normalize_host(r.target.to_text()) for r in ns.rdata):
        if host in mapping:
            mapped = mapping[host]
            servers.append(NameServer(mapped.host, mapped.port, mapped.label or host))
            continue
        addresses, lookup = resolver.addresses(host)
        if not addresses:
            notes.append(f"{host}: {lookup.state.label}")
        servers.extend(NameServer(a, port, host) for a in addresses[:1])
    return servers, "; ".join(notes)


def never() -> bool:
    """The ``cancelled`` of a round nobody cancels."""
    return False


def check_propagation(
    q: PropagationQuestion,
    resolvers: Sequence[NameServer],
    authoritative: Sequence[NameServer],
    *,
    required_share: float = DEFAULT_SHARE,
    timeout: float = DEFAULT_TIMEOUT,
    authoritative_note: str = "",
    sink: EventSink = ignore,
    cancelled: Callable[[], bool] = never,
) -> PropagationMatrix:
    """Ask every server at once; ``sink`` gets a ``Progress`` per finished cell (the cell in
    ``extra["cell"]``) and a ``Done`` with the matrix. Raises ``RoundCancelled`` soon after
    ``cancelled()`` turns true, without waiting for the servers still asked."""
    jobs = [(s, Role.AUTHORITATIVE) for s in authoritative] + [
        (s, Role.RESOLVER) for s in resolvers
    ]
    sink(Started(q.name, detail=q.describe()))
    cells: dict[int, PropagationCell] = {}
    for index, cell in _ask_all(q, jobs, timeout, cancelled):
        cells[index] = cell
        sink(
            Progress(
                cell.server.address,
                done=len(cells),
                total=len(jobs),
                detail=cell.state.label,
                extra={"cell": cell},
            )
        )
    matrix = PropagationMatrix(
        q,
        tuple(cells[i] for i in range(len(jobs))),
        required_share,
        utc_now(),
        authoritative_note,
    )
    sink(Done(q.name, ok=matrix.complete, summary=matrix.summary, result=matrix))
    return matrix


class RoundCancelled(Exception):
    """A propagation round was called off before every server answered."""


def _ask_all(
    q: PropagationQuestion,
    jobs: Sequence[tuple[NameServer, Role]],
    timeout: float,
    cancelled: Callable[[], bool],
) -> Iterator[tuple[int, PropagationCell]]:
    """Every cell asked at once (at most 16 servers at a time), yielded as each finishes.

    On daemon threads, not a ThreadPoolExecutor's, which the interpreter joins at exit: quitting
    the app during a round waited for its slowest silent server (up to two queries of
    ``timeout``). Once ``cancelled()`` is true this stops waiting; a thread still asking a
    server ends with its query, or with the process.
    """
    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    for index in range(len(jobs)):
        todo.put(index)
    done: queue.SimpleQueue[tuple[int, PropagationCell | BaseException]] = queue.SimpleQueue()
    over = threading.Event()  # the round ended early (called off, or a cell raised)

    def worker() -> None:
        while not over.is_set():
            try:
                index = todo.get_nowait()
            except queue.Empty:
                return
            server, role = jobs[index]
            try:
                done.put((index, ask_cell(q, server, role, timeout=timeout)))
            except BaseException as exc:  # noqa: BLE001 - raised in the caller's thread
                done.put((index, exc))

    for n in range(min(16, len(jobs))):
        threading.Thread(target=worker, name=f"dns-cell-{n}", daemon=True).start()
    try:
        for _ in range(len(jobs)):
            while True:
                if cancelled():
                    raise RoundCancelled("the round was called off")
                try:
                    index, cell = done.get(timeout=0.1)
                    break
                except queue.Empty:
                    continue
            if isinstance(cell, BaseException):
                raise cell
            yield index, cell
    finally:
        over.set()  # the servers not asked yet are not asked any more


# ----- session settings --------------------------------------------------------------------


def resolvers_from_store(store: SessionStore) -> list[NameServer]:
    """The session's resolver list ("dns.resolvers"), or the well-known public ones."""
    saved = store.setting(RESOLVERS_SETTING)
    if not saved:
        return list(DEFAULT_RESOLVERS)
    return [NameServer.parse(text) for text in saved]


def save_resolvers(
    store: SessionStore, servers: Sequence[NameServer | str], actor: str | None = None
) -> list[NameServer]:
    """Validate and keep the session's resolver list; raises DnsConfigError on a bad entry."""
    parsed = [s if isinstance(s, NameServer) else NameServer.parse(s) for s in servers]
    texts = [f"{s.label}={s.address}" if s.label else s.address for s in parsed]
    store.set_setting(RESOLVERS_SETTING, texts, actor)
    return parsed


def required_share_from_store(store: SessionStore) -> float:
    value = store.setting(SHARE_SETTING, DEFAULT_SHARE)
    try:
        share = float(value)
    except (TypeError, ValueError):
        return DEFAULT_SHARE
    return min(1.0, max(0.0, share))


def authoritative_from_store(store: SessionStore) -> list[NameServer] | None:
    """A fixed list of authoritative servers ("dns.authoritative"), or None to use NS."""
    saved = store.setting(AUTHORITATIVE_SETTING)
    return [NameServer.parse(text) for text in saved] if saved else None
