"""The Knot fixture itself: runs as whoever runs the tests, instances disagree, reloads apply."""

from __future__ import annotations

import os
from pathlib import Path

from tests.servers.knot import KnotFactory
from wizard.dns import DnsResolver, LookupState


def test_instances_disagree_and_a_reload_changes_one(knot_factory: KnotFactory) -> None:
    one = knot_factory({"zone.example": "www A 192.0.2.1\n"})
    two = knot_factory({"zone.example": "www A 192.0.2.2\n"})
    assert one.host != two.host and one.host.startswith("127.0.0.")
    ask_one = DnsResolver([one.address], timeout=1.0)
    ask_two = DnsResolver([two.address], timeout=1.0)
    assert ask_one.query("www.zone.example", "A").records == ("192.0.2.1",)
    assert ask_two.query("www.zone.example", "A").records == ("192.0.2.2",)

    assert two.set_zone("zone.example", "www A 192.0.2.1\n") == 2
    assert ask_two.query("www.zone.example", "A").records == ("192.0.2.1",)
    soa = ask_two.query("zone.example", "SOA")
    assert soa.rdata[0].serial == 2

    two.set_zone("added.example", "mail A 192.0.2.9\n")  # a zone it did not serve before
    assert ask_two.query("mail.added.example", "A").records == ("192.0.2.9",)
    assert ask_one.query("mail.added.example", "A").state is LookupState.REFUSED


def test_knotd_runs_as_the_test_user(knot_factory: KnotFactory) -> None:
    server = knot_factory({"zone.example": "www A 192.0.2.1\n"})
    assert server.process is not None
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    uid_line = next(line for line in status.splitlines() if line.startswith("Uid:"))
    assert int(uid_line.split()[1]) == os.getuid()
    server.stop()
    assert server.process is None
