"""Client settings for step 13.3 come from the provider profile and the customer's domain."""

from __future__ import annotations

from wizard.clients import client_guides
from wizard.profile import example_profile


def test_client_settings_use_the_profile_and_domain() -> None:
    guides = {g.id: g for g in client_guides(example_profile(), "acme.example")}
    assert list(guides) == ["outlook", "webmail", "phones"]
    outlook = {s.label: s.value for s in guides["outlook"].settings}
    assert (
        outlook["Autodiscover record"]
        == "autodiscover.acme.example → autodiscover.hosted.example.net"
    )
    assert outlook["Exchange server (if asked)"] == "ews.hosted.example.net"
    webmail = {s.label: s.value for s in guides["webmail"].settings}
    assert webmail["Address"] == "https://webmail.hosted.example.net/owa/"
    phones = {s.label: s.value for s in guides["phones"].settings}
    assert (
        phones["Server"] == "eas.hosted.example.net" and phones["User name"] == "user@acme.example"
    )
