"""What the parser knows of `onboard check ews`: its name, help and arguments.

Light on purpose: building the parser imports this, not exchangelib or requests; the handler
(wizard.exchange.cli) is imported when the verb runs.
"""

from __future__ import annotations

from typing import Any

from ..cliutil import add_resolver_argument, verb_handler
from ..envvars import DEST_PASSWORD_ENV as DEST_ENV
from .settings import Access, AuthType


def register(subparsers: Any, check_subparsers: Any) -> None:
    p = check_subparsers.add_parser(
        "ews",
        help="check a mailbox on Exchange (EWS) and list its folders",
        description=(
            "Say whether the mailbox exists on the provider's Exchange and list its mail folders "
            "with message counts; or, with --autodiscover, find the EWS URL of an address. The "
            f"password comes from {DEST_ENV}, the keyring, or a prompt."
        ),
    )
    p.add_argument(
        "url", nargs="?", help="EWS URL, e.g. https://mail.example.net/EWS/Exchange.asmx"
    )
    p.add_argument("--mailbox", metavar="ADDR", help="the mailbox's address")
    p.add_argument(
        "--autodiscover",
        metavar="ADDR",
        help="find the EWS URL of this address by Autodiscover (and list each candidate tried)",
    )
    add_resolver_argument(p, "with --autodiscover: ")
    p.add_argument(
        "--user",
        metavar="U",
        help="login name (default: the mailbox); another login acts by impersonation",
    )
    p.add_argument(
        "--access",
        choices=[a.value for a in Access],
        help="impersonation (service account) or delegate (the login's own mailbox or rights)",
    )
    p.add_argument("--auth", choices=[a.value for a in AuthType], default=AuthType.NTLM.value)
    p.add_argument("--pin", metavar="SHA256", help="trust the server's certificate by fingerprint")
    p.add_argument(
        "--timeout", type=float, default=30.0, metavar="SECONDS", help="per request (default 30)"
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(handler=verb_handler("wizard.exchange.cli", "cmd_check_ews"))
