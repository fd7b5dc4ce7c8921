"""What the parser knows of `onboard sandbox ews`: its name, help and arguments.

Light on purpose: building the parser imports this, not the stand-in; the handler
(wizard.devservers.ews.cli) is imported when the verb runs.
"""

from __future__ import annotations

from typing import Any

from ...cliutil import verb_handler


def register(subparsers: Any, check_subparsers: Any) -> None:
    p = subparsers.add_parser("sandbox", help="run a stand-in server (EWS) for trying the tool")
    sandbox_sub = p.add_subparsers(title="stand-ins", metavar="WHAT", required=True)
    ews = sandbox_sub.add_parser(
        "ews",
        help="an EWS stand-in on 127.0.0.1 until Ctrl-C",
        description=(
            "Runs the EWS stand-in on 127.0.0.1 and prints its URL, the demo logins (a mailbox "
            "and a service account allowed to impersonate, with passwords made up for this run) "
            "and, with --tls, the certificate's SHA-256 fingerprint for --pin. Stop with Ctrl-C."
        ),
    )
    ews.add_argument("--port", type=int, default=0, help="port to listen on (default: any free)")
    ews.add_argument("--tls", action="store_true", help="HTTPS with a self-signed certificate")
    ews.add_argument(
        "--mailbox",
        action="append",
        default=[],
        metavar="ADDR",
        help="another mailbox to create (reachable through the service account); repeatable",
    )
    ews.add_argument("--storage", metavar="DIR", help="keep the mailboxes in DIR between runs")
    ews.add_argument("--json", action="store_true", help="print the connection facts as JSON")
    ews.set_defaults(handler=verb_handler("wizard.devservers.ews.cli", "cmd_sandbox_ews"))
