"""The demo provider: a profile whose EWS URL is the local EWS stand-in of this run.

Every other host name lives in the demo DNS zone (``demo-provider.example``) and points at
127.0.0.1; nothing in it is a real service.
"""

from __future__ import annotations

from ...profile import ProviderProfile, parse_profile

DEMO_PROVIDER_DOMAIN = "demo-provider.example"

_TEMPLATE = """\
# The demo provider of `onboard --demo`: generated for each run (the EWS URL is a local port).

[provider]
name = "Demo Hosted Exchange (local)"
control_panel_url = "https://cp.{provider}/"

[provider.support]
email = "support@{provider}"
phone = "+1 555 0199"
url = "https://support.{provider}/"

[mail]
mx = [
    {{ host = "mx1.{provider}", preference = 10 }},
    {{ host = "mx2.{provider}", preference = 20 }},
]
spf_include = "spf.{provider}"
autodiscover_target = "autodiscover.{provider}"
ews_url = "{ews_url}"
owa_url = "https://webmail.{provider}/owa/"
activesync_host = "eas.{provider}"
max_message_mb = 25

[[addons]]
id = "activesync"
name = "ActiveSync"
description = "Mail, calendar and contacts on phones and tablets"

[[addons]]
id = "archiving"
name = "Archiving"
description = "Long-term, searchable archive of all mail"

[[addons]]
id = "im"
name = "Instant messaging"
description = "Chat and presence for the customer's users"
"""


def demo_profile(ews_url: str) -> ProviderProfile:
    """The demo provider with ``ews_url`` (the running EWS stand-in) as its Exchange."""
    text = _TEMPLATE.format(provider=DEMO_PROVIDER_DOMAIN, ews_url=ews_url)
    return parse_profile(text, "demo profile")


__all__ = ["DEMO_PROVIDER_DOMAIN", "demo_profile"]
