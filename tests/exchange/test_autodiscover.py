"""Autodiscover against Knot and the HTTPS stand-in: the SRV record leads to the EWS URL, which
exchangelib then uses; wrong logins, missing records and redirect loops end with the reason."""

from __future__ import annotations

import pytest

from tests.servers import ews
from tests.servers.knot import KnotFactory, KnotServer
from wizard.devservers.ews import EwsSandbox, ntlm_available
from wizard.dns import DnsResolver
from wizard.exchange import (
    Access,
    AuthType,
    ExchangeSettings,
    FailureCode,
    check_mailbox,
    discover_ews_url,
)
from wizard.tls import format_fingerprint

from .conftest import AUTODISCOVER_DOMAIN, AUTODISCOVER_HOST

DOMAIN_URL = f"https://{AUTODISCOVER_DOMAIN}/autodiscover/autodiscover.xml"
HOST_URL = f"https://autodiscover.{AUTODISCOVER_DOMAIN}/autodiscover/autodiscover.xml"


def srv_url(sandbox: EwsSandbox) -> str:
    return (
        f"https://autodiscover.{AUTODISCOVER_DOMAIN}:{sandbox.port}/autodiscover/autodiscover.xml"
    )


def discover(sandbox: EwsSandbox, knot: KnotServer, address: str = ews.USER, **kw: object):  # noqa: ANN201
    options: dict[str, object] = {"auth": AuthType.BASIC, "pin": sandbox.fingerprint, "timeout": 5}
    options.update(kw)
    secret = str(options.pop("secret", ews.PASSWORD))
    resolver = DnsResolver([knot.address], timeout=2.0)
    return discover_ews_url(address, ews.USER, secret, resolver, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("auth", [AuthType.BASIC, AuthType.NTLM])
def test_srv_record_leads_to_the_ews_url_exchangelib_then_uses(
    autodiscover_world: tuple[EwsSandbox, KnotServer], auth: AuthType
) -> None:
    sandbox, knot = autodiscover_world
    if auth is AuthType.NTLM and not ntlm_available():
        pytest.skip("the stand-in offers NTLM only with pyspnego's NTLM internals")
    found = discover(sandbox, knot, auth=auth)
    assert found.failure is None
    assert (
        found.ews_url
        == sandbox.url
        == f"https://{AUTODISCOVER_HOST}:{sandbox.port}/EWS/Exchange.asmx"
    )
    # Both port-443 candidates were tried first and failed; the SRV host and port answered.
    assert [a.candidate for a in found.attempts] == [DOMAIN_URL, HOST_URL, srv_url(sandbox)]
    assert [a.ok for a in found.attempts] == [False, False, True]
    assert all("port 443" in a.outcome for a in found.attempts[:2])
    assert any(r.operation == "Autodiscover" and r.login == ews.USER for r in sandbox.requests)

    settings = ExchangeSettings(
        found.ews_url, auth=AuthType.BASIC, access=Access.DELEGATE, pin=sandbox.fingerprint or ""
    )
    check = check_mailbox(settings, ews.USER, ews.PASSWORD)
    assert check.exists and check.failure is None


def test_wrong_password_names_the_candidate_that_refused_it(
    autodiscover_world: tuple[EwsSandbox, KnotServer],
) -> None:
    sandbox, knot = autodiscover_world
    found = discover(sandbox, knot, secret="wrong")
    assert found.ews_url == ""
    assert found.failure is not None and found.failure.code is FailureCode.AUTH_REJECTED
    assert srv_url(sandbox) in found.failure.message
    assert f"rejected the login of {ews.USER}" in found.failure.message
    assert found.attempts[-1].code == FailureCode.AUTH_REJECTED
    assert "Basic" in found.attempts[-1].outcome.partition("it offers")[2]


def test_a_pin_that_does_not_match_is_refused(
    autodiscover_world: tuple[EwsSandbox, KnotServer],
) -> None:
    sandbox, knot = autodiscover_world
    found = discover(sandbox, knot, pin="ab" * 32)
    assert found.failure is not None and found.failure.code is FailureCode.AUTODISCOVER_FAILED
    last = found.attempts[-1]
    assert last.candidate == srv_url(sandbox) and last.code == FailureCode.CERTIFICATE_MISMATCH
    # Without a pin a self-signed certificate is not trusted; the operator sees what to pin.
    found = discover(sandbox, knot, pin="")
    last = found.attempts[-1]
    assert last.code == FailureCode.CERTIFICATE_UNTRUSTED
    assert last.fingerprint == sandbox.fingerprint
    assert format_fingerprint(sandbox.fingerprint or "") in last.outcome


def test_no_srv_and_unreachable_hosts_list_every_candidate(knot_factory: KnotFactory) -> None:
    knot = knot_factory({AUTODISCOVER_DOMAIN: f"@ A {AUTODISCOVER_HOST}\n"})
    resolver = DnsResolver([knot.address], timeout=2.0)
    found = discover_ews_url(
        ews.USER, ews.USER, ews.PASSWORD, resolver, auth=AuthType.BASIC, timeout=5
    )
    assert found.ews_url == ""
    assert found.failure is not None and found.failure.code is FailureCode.AUTODISCOVER_FAILED
    assert "3 candidates tried" in found.failure.message
    srv_name = f"_autodiscover._tcp.{AUTODISCOVER_DOMAIN}"
    assert [a.candidate for a in found.attempts] == [DOMAIN_URL, HOST_URL, f"SRV {srv_name}"]
    assert not any(a.ok for a in found.attempts)
    assert found.attempts[1].code == FailureCode.DNS_NOT_FOUND
    assert f"autodiscover.{AUTODISCOVER_DOMAIN} does not exist in DNS" in found.attempts[1].outcome
    assert found.attempts[2].outcome.startswith("no SRV record")
    assert srv_name in found.failure.detail and DOMAIN_URL in found.failure.detail


def test_redirect_to_another_address_starts_again_for_it(
    autodiscover_world: tuple[EwsSandbox, KnotServer],
) -> None:
    sandbox, knot = autodiscover_world
    sandbox.autodiscover_redirects["sales@example.test"] = ews.USER
    found = discover(sandbox, knot, "sales@example.test")
    assert found.ews_url == sandbox.url
    outcomes = [a.outcome for a in found.attempts]
    assert outcomes[2] == f"redirect to {ews.USER}"
    assert len(found.attempts) == 6 and found.attempts[-1].ok


@pytest.mark.parametrize("kind", ["address", "url"])
def test_a_redirect_loop_is_stopped(
    autodiscover_world: tuple[EwsSandbox, KnotServer], kind: str
) -> None:
    sandbox, knot = autodiscover_world
    if kind == "address":
        sandbox.autodiscover_redirects.update(
            {ews.USER: "info@example.test", "info@example.test": ews.USER}
        )
    else:
        # The stand-in answers the path in any case, as IIS does.
        itself = f"https://{AUTODISCOVER_HOST}:{sandbox.port}/Autodiscover/Autodiscover.xml"
        sandbox.autodiscover_redirects[ews.USER] = itself
    found = discover(sandbox, knot)
    if kind == "url":
        assert [a.outcome for a in found.attempts[2:4]] == [f"redirect to {itself}"] * 2
    assert found.ews_url == ""
    assert found.failure is not None and found.failure.code is FailureCode.AUTODISCOVER_FAILED
    assert "redirect loop" in found.attempts[-1].outcome
    assert len(found.attempts) < 10
