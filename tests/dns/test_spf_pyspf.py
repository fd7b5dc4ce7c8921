"""Our lookup count against an independent implementation: pyspf evaluating the same records
on the same Knot. A sender that matches nothing makes pyspf walk every branch, so it must
report permerror exactly when our count is above ten."""

from __future__ import annotations

import dns.resolver
import pytest
import spf

from tests.dns.conftest import DOMAIN, DnsWorld
from wizard.dns import LOOKUP_LIMIT, check_spf
from wizard.profile import ProviderProfile

# Each branch costs lookups and matches nothing for 198.18.5.5.
pytestmark = pytest.mark.filterwarnings("ignore:please use dns.resolver.resolve")

BRANCHES = """
@ MX 10 mx.branches.example.
mx A 192.0.2.30
host A 192.0.2.31
b1 TXT "v=spf1 a:host.branches.example mx:branches.example ~all"
b2 TXT "v=spf1 include:b3.branches.example a:host.branches.example ~all"
b3 TXT "v=spf1 redirect=b4.branches.example"
b4 TXT "v=spf1 ip4:192.0.2.0/28 -all"
"""


@pytest.mark.parametrize(
    ("record", "count"),
    [
        ("v=spf1 include:b1.branches.example include:spf.hosted.example.net -all", 4),
        ("v=spf1 mx a include:b1.branches.example include:b2.branches.example -all", 9),
        (
            "v=spf1 mx a include:b1.branches.example include:b2.branches.example "
            "a:host.branches.example -all",
            10,
        ),
        (
            "v=spf1 mx a include:b1.branches.example include:b2.branches.example "
            "a:host.branches.example mx:branches.example -all",
            11,
        ),
    ],
)
def test_count_agrees_with_pyspf(
    dns_world: DnsWorld,
    profile: ProviderProfile,
    monkeypatch: pytest.MonkeyPatch,
    record: str,
    count: int,
) -> None:
    server, resolver = dns_world(
        f'@ A 192.0.2.10\n@ MX 10 mx\nmx A 192.0.2.11\n@ TXT "{record}"\n',
        branches_example=BRANCHES,
    )
    ours = check_spf(resolver, DOMAIN, profile)
    assert ours.lookup_count == count

    knot = dns.resolver.Resolver(configure=False)
    knot.nameservers = [server.host]
    knot.port = server.port
    monkeypatch.setattr(dns.resolver, "default_resolver", knot)
    result, _code, explanation = spf.query("198.18.5.5", f"x@{DOMAIN}", DOMAIN).check()
    if count > LOOKUP_LIMIT:
        assert result == "permerror" and "Too many DNS lookups" in explanation
        assert "spf.too_many_lookups" in {f.code for f in ours.findings}
    else:
        assert result == "fail", explanation
        assert "spf.too_many_lookups" not in {f.code for f in ours.findings}
