"""What the parser knows of `onboard check imap` and `onboard mailboxes`: names, help, arguments.

Light on purpose: building the parser imports this, not the IMAP engine; the handlers
(wizard.imap.cli, wizard.imap.mailbox_cli) are imported when a verb runs.
"""

from __future__ import annotations

import argparse
from typing import Any

from ..cliutil import verb_handler
from ..envvars import SOURCE_PASSWORD_ENV as SOURCE_ENV
from .settings import AuthMode

EPILOG = f"""\
The password (or master password, or OAuth2 token) comes from {SOURCE_ENV}, the keyring, or a
prompt; never from the command line.

exit codes:
  0  logged in, listed and sized every folder
  1  logged in and listed, but some folder could not be read
  2  bad arguments, or no password available
  6  the server could not be reached (DNS, refused, timeout, TLS, certificate) or refused the login
"""


def register(subparsers: Any, check_subparsers: Any) -> None:
    register_mailboxes(subparsers)
    p = check_subparsers.add_parser(
        "imap",
        help="test one IMAP mailbox: connect, log in, list and size its folders",
        description=(
            "Connect to an IMAP server, log in, list the folders with their special use and "
            "count messages and bytes per folder, read-only. URL: imaps://USER@HOST[:PORT] "
            "(implicit TLS), imap://USER@HOST[:PORT] (STARTTLS), imap://...?tls=none (plain)."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("url", metavar="imap[s]://USER@HOST[:PORT]")
    p.add_argument("--starttls", action="store_true", help="STARTTLS on an imap:// URL (default)")
    p.add_argument(
        "--master-user",
        metavar="NAME",
        help="log in as USER with this master user's password (Dovecot-style USER*NAME)",
    )
    p.add_argument(
        "--auth",
        choices=[m.value for m in AuthMode],
        help="authentication mode (default: password, or master with --master-user)",
    )
    p.add_argument("--pin", metavar="SHA256", help="trust the server's certificate by fingerprint")
    p.add_argument("--timeout", type=float, default=20.0, metavar="SECONDS", help="default 20")
    p.add_argument(
        "--fetch-sizes",
        action="store_true",
        help="size folders with RFC822.SIZE fetches even if the server offers STATUS=SIZE",
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(handler=verb_handler("wizard.imap.cli", "cmd_check_imap"))


def register_mailboxes(subparsers: Any) -> None:
    p = subparsers.add_parser("mailboxes", help="the mailbox list of a session (step 3)")
    sub = p.add_subparsers(dest="mailboxes_verb", required=True, metavar="VERB")

    show = sub.add_parser("list", help="show the mailboxes to migrate")
    show.add_argument("session", help="session name or file")
    show.add_argument("--json", action="store_true", help="print the list as JSON")
    show.set_defaults(handler=verb_handler("wizard.imap.mailbox_cli", "cmd_list"))

    load = sub.add_parser(
        "import",
        help="add mailboxes from a CSV file, all rows or none",
        description=(
            "The first line names the columns: source_login, source_password (optional), "
            "target_address, display_name (optional); or Microsoft 365's EmailAddress, UserName, "
            "Password. Nothing is imported when any row is bad; every bad row is listed with its "
            "line number. Exits 2 then."
        ),
    )
    load.add_argument("session", help="session name or file")
    load.add_argument("csv", help="the CSV file")
    load.add_argument("--json", action="store_true", help="print the result as JSON")
    load.set_defaults(handler=verb_handler("wizard.imap.mailbox_cli", "cmd_import"))
