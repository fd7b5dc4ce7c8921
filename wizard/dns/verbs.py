"""What the parser knows of `onboard check dns`: its name, help and arguments.

Light on purpose: building the parser imports this, not dnspython; the handler (wizard.dns.cli)
is imported when the verb runs.
"""

from __future__ import annotations

from typing import Any

from ..cliutil import add_resolver_argument, verb_handler
from .model import DEFAULT_TIMEOUT


def register(subparsers: Any, check_subparsers: Any) -> None:
    p = check_subparsers.add_parser(
        "dns",
        help="MX, Autodiscover and SPF of a domain, with the SPF record to publish",
        description=(
            "Check the domain's MX and Autodiscover records against the provider profile and "
            "its SPF record (one record, the provider's include, at most 10 DNS lookups), and "
            "print the recommended SPF record. Exits 1 when something must be fixed."
        ),
    )
    p.add_argument("domain", help="the customer's mail domain")
    p.add_argument("--profile", metavar="FILE", help="provider profile (TOML)")
    p.add_argument(
        "--third-party-filter",
        action="store_true",
        help="the customer keeps a third-party filtering service: MX stays on it",
    )
    add_resolver_argument(p, "")
    p.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"per question and server (default {DEFAULT_TIMEOUT:g})",
    )
    p.add_argument("--json", action="store_true", help="print the findings as JSON")
    p.set_defaults(handler=verb_handler("wizard.dns.cli", "cmd_check_dns"))
