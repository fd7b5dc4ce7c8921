"""The propagation matrix: servers that disagree, failures shown as failures, and the matrix
turning complete after a zone reload."""

from __future__ import annotations

from tests.dns.conftest import DOMAIN, PROVIDER_ZONE
from tests.servers.knot import KnotFactory, SilentServer
from wizard.dns import (
    CellState,
    DnsResolver,
    NameServer,
    PropagationCell,
    Role,
    check_propagation,
    find_authoritative,
    mx_question,
    resolvers_from_store,
    save_evidence,
    save_resolvers,
)
from wizard.dns.propagation import DEFAULT_RESOLVERS
from wizard.events import Done, Event, Progress
from wizard.profile import ProviderProfile
from wizard.session import create_session

OLD = "@ MX 10 mail.oldhost.example.\n"
NEW = "@ MX 10 mx1.hosted.example.net.\n@ MX 20 mx2.hosted.example.net.\n"


def ns_records(a: str, b: str) -> str:
    return f"@ NS ns1\n@ NS ns2\nns1 A {a}\nns2 A {b}\n"


def test_matrix_turns_complete_after_reload(
    knot_factory: KnotFactory, silent_dns: SilentServer, profile: ProviderProfile
) -> None:
    ns_a = knot_factory()
    ns_b = knot_factory()
    names = ns_records(ns_a.host, ns_b.host)
    ns_a.set_zone(DOMAIN, names + NEW)  # the customer changed MX on the primary ...
    ns_b.set_zone(DOMAIN, names + OLD)  # ... and the secondary has not caught up
    fresh = knot_factory({DOMAIN: names + NEW})  # a resolver that already has the change
    stale = knot_factory({DOMAIN: names + OLD})  # a resolver with the old answer cached
    foreign = knot_factory({"elsewhere.example": "www A 192.0.2.1\n"})  # refuses the question

    finder = DnsResolver([fresh.address], timeout=1.0)
    authoritative, note = find_authoritative(
        finder,
        DOMAIN,
        host_map={f"ns1.{DOMAIN}": ns_a.address, f"ns2.{DOMAIN}": ns_b.address},
    )
    assert note == ""
    assert [(s.host, s.port, s.label) for s in authoritative] == [
        (ns_a.host, ns_a.port, f"ns1.{DOMAIN}"),
        (ns_b.host, ns_b.port, f"ns2.{DOMAIN}"),
    ]
    resolvers = [
        fresh.server("fresh"),
        stale.server("stale"),
        silent_dns.server("silent"),
        foreign.server("foreign"),
    ]
    q = mx_question(DOMAIN, profile)
    events: list[Event] = []
    matrix = check_propagation(
        q, resolvers, authoritative, required_share=0.5, timeout=0.5, sink=events.append
    )

    by_label = {c.server.label: c for c in matrix.cells}
    assert [c.role for c in matrix.cells] == [Role.AUTHORITATIVE] * 2 + [Role.RESOLVER] * 4
    assert by_label[f"ns1.{DOMAIN}"].state is CellState.AGREES
    assert by_label[f"ns1.{DOMAIN}"].soa_serial == ns_a.serial(DOMAIN)
    old_ns = by_label[f"ns2.{DOMAIN}"]
    assert old_ns.state is CellState.DIFFERS
    assert old_ns.answer == ("10 mail.oldhost.example.",)
    assert old_ns.ttl == 300 and old_ns.soa_serial == 1
    assert by_label["stale"].state is CellState.DIFFERS
    assert by_label["silent"].state is CellState.TIMEOUT
    assert by_label["silent"].shown == "timeout" and by_label["silent"].state.failed
    assert by_label["foreign"].state is CellState.REFUSED
    assert not matrix.complete
    assert matrix.summary.startswith("1 of 2 authoritative and 1 of 4 resolvers agree")
    findings = {f.code for f in matrix.findings}
    assert "propagation.pending" in findings
    failed = [f for f in matrix.findings if f.code == "propagation.server_failed"]
    assert sorted(f.data["state"] for f in failed) == ["refused", "timeout"]

    progress = [e for e in events if isinstance(e, Progress)]
    assert len(progress) == 6 and all(
        isinstance(e.extra["cell"], PropagationCell) for e in progress
    )
    assert isinstance(events[-1], Done) and events[-1].result is matrix

    # The change reaches the secondary and the stale resolver: a reload, no restart.
    new_serial = ns_b.set_zone(DOMAIN, names + NEW)
    stale.set_zone(DOMAIN, names + NEW)
    matrix = check_propagation(q, resolvers, authoritative, required_share=0.5, timeout=0.5)
    assert all(c.agrees for c in matrix.authoritative)
    assert matrix.cells[1].soa_serial == new_serial == 2
    assert sum(c.agrees for c in matrix.resolvers) == 2  # silent and foreign still fail
    assert matrix.complete
    assert matrix.findings[0].code == "propagation.complete"

    # A stricter share is not met while two resolvers fail.
    strict = check_propagation(q, resolvers, authoritative, required_share=1.0, timeout=0.5)
    assert not strict.complete


def test_no_authoritative_server_is_never_complete(
    knot_factory: KnotFactory, profile: ProviderProfile
) -> None:
    fresh = knot_factory({DOMAIN: NEW})
    matrix = check_propagation(
        mx_question(DOMAIN, profile), [fresh.server()], [], authoritative_note="NS: timed out"
    )
    assert matrix.resolvers[0].agrees
    assert not matrix.complete
    assert matrix.findings[1].code == "propagation.no_authoritative"
    assert "NS: timed out" in matrix.findings[1].message


def test_find_authoritative_by_address_and_port(knot_factory: KnotFactory) -> None:
    server = knot_factory()
    server.set_zone(DOMAIN, f"@ NS ns1\nns1 A {server.host}\n@ NS ns9.gone.example.\n")
    servers, note = find_authoritative(
        DnsResolver([server.address], timeout=1.0), DOMAIN, port=server.port
    )
    assert servers == [NameServer(server.host, server.port, f"ns1.{DOMAIN}")]
    assert note == "ns9.gone.example: refused"  # not served here: named, not hidden


def test_resolver_list_and_evidence_in_the_session(
    knot_factory: KnotFactory, profile: ProviderProfile
) -> None:
    server = knot_factory({DOMAIN: NEW, "hosted.example.net": PROVIDER_ZONE})
    store = create_session("Customer", DOMAIN, profile)
    try:
        assert resolvers_from_store(store) == list(DEFAULT_RESOLVERS)
        save_resolvers(store, [f"Knot={server.address}"])
        assert resolvers_from_store(store) == [server.server("Knot")]
        matrix = check_propagation(
            mx_question(DOMAIN, profile), resolvers_from_store(store), [server.server("ns")]
        )
        saved = save_evidence(store, "12", matrix)
        latest = store.latest_evidence("12", "dns.propagation")
        assert latest is not None and latest.id == saved.id
        assert latest.ok is True
        assert latest.summary == matrix.summary
        assert latest.data["complete"] is True
        assert latest.data["checked_at"] == matrix.checked_at
        assert latest.data["cells"][0]["state"] == "agrees"
    finally:
        store.close()


def test_a_round_called_off_stops_waiting_for_a_silent_server(
    knot_factory: KnotFactory, silent_dns: SilentServer, profile: ProviderProfile
) -> None:
    """Quitting the app mid-round: the round stops within moments of being called off instead
    of waiting out a server that never answers (here a 20 s timeout), and publishes nothing."""
    import threading
    import time

    import pytest

    from wizard.dns.propagation import RoundCancelled

    answering = knot_factory({DOMAIN: ns_records("192.0.2.1", "192.0.2.2") + NEW})
    called_off = threading.Event()
    events: list[Event] = []
    timer = threading.Timer(0.3, called_off.set)
    timer.start()
    began = time.monotonic()
    with pytest.raises(RoundCancelled):
        check_propagation(
            mx_question(DOMAIN, profile),
            [answering.server("answering"), silent_dns.server("silent")],
            [],
            timeout=20.0,
            sink=events.append,
            cancelled=called_off.is_set,
        )
    assert time.monotonic() - began < 5.0  # not the silent server's 20 s
    assert not any(isinstance(e, Done) for e in events)  # no matrix from a called-off round
