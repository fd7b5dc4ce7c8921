"""What the parser knows of `onboard copy` and `onboard verify`: their names, help and arguments.

Light on purpose: `onboard --help` and `onboard copy --help` import this, not the copy engine; the
handlers (wizard.copy.cli) are imported when a verb runs. A new flag of either verb goes here, in
``register`` (or ``_common`` / ``_adhoc`` when both verbs take it), and is read in wizard.copy.cli.
"""

from __future__ import annotations

import argparse
from typing import Any

from ..cliutil import verb_handler
from ..envvars import DEST_PASSWORD_ENV as DEST_ENV
from ..envvars import SOURCE_PASSWORD_ENV as SOURCE_ENV
from ..imap.folders import Role
from ..playbook import Kind, default_playbook

# `onboard copy --help`: the three forms, and the bulk form in full.
COPY_FORMS = """forms:
  onboard copy SESSION [--mailbox ADDR]...
      the session's mailboxes, with its servers and passwords
  onboard copy --source imaps://USER@HOST[:PORT]
               --dest imaps://USER@HOST[:PORT]|ews://USER@HOST
      one mailbox ad hoc, its ledger under the data folder (or --ledger FILE)
  onboard copy --source imaps://HOST[:PORT] --dest imaps://HOST[:PORT]|ews://HOST
               --mailboxes FILE.csv [--concurrency N] [--mailbox ADDR]...
      every mailbox of the list in one process (the bulk form: URLs without user)
"""

BULK_HELP = f"""the bulk form:
  FILE.csv has the columns of `onboard mailboxes import` (source_login,
  source_password, target_address, display_name; or Microsoft 365's EmailAddress,
  UserName, Password) and, optionally, target_login (an IMAP target whose login is
  not the address) and target_password. A password comes from the file, else the
  keyring ("adhoc" entries source:LOGIN and target:LOGIN), else
  {SOURCE_ENV} / {DEST_ENV}, which serve every
  mailbox without one of its own; none is ever printed. A bad row, or a mailbox
  without a password, is listed with its line and nothing is copied (exit code 2).

  All mailboxes share one ledger (--ledger FILE, else one per pair of servers), so
  a rerun resumes each mailbox and copies nothing twice. Progress goes to stderr,
  a line per mailbox; stdout gets a table (per mailbox: messages copied, already
  there, skipped and failed, size copied, time, result) or, with --json, the same
  as JSON. A mailbox not copied in full makes the exit code non-zero: 1 (failed
  messages or mailboxes), 4 (another copy holds one), 6 (a server unreachable or
  a login refused), 130 (interrupted).
"""


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--mailbox",
        action="append",
        metavar="ADDR",
        help="only this mailbox (target address or source login); repeat for more",
    )
    p.add_argument("--concurrency", type=int, default=4, metavar="N", help="mailboxes at once")
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def register(subparsers: Any, check_subparsers: Any) -> None:
    p = subparsers.add_parser(
        "copy",
        help="copy mailboxes from the IMAP server to the target (resumable)",
        description=(
            "Copy the session's mailboxes, one mailbox ad hoc with --source and --dest, or\n"
            "every mailbox of a CSV list ad hoc. Rerunning goes on from the ledger and never\n"
            f"duplicates. Passwords come from {SOURCE_ENV} /\n"
            f"{DEST_ENV}, the keyring, or a prompt (in the bulk form: the file\n"
            "first, and never a prompt).\n\n" + COPY_FORMS
        ),
        epilog=BULK_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("session", nargs="?", help="session name (omit for the ad-hoc form)")
    _common(p)
    p.add_argument(
        "--differential",
        action="store_true",
        help="copy only what is new (the differential copy step)",
    )
    p.add_argument("--dry-run", action="store_true", help="show the plan, copy nothing")
    p.add_argument("--retry-failed", action="store_true", help="retry only failed messages")
    p.add_argument(
        "--reconcile",
        action="store_true",
        help="list every target folder first and send only what it lacks, whatever the ledger says",
    )
    _adhoc(p)
    p.set_defaults(handler=verb_handler("wizard.copy.cli", "cmd_copy"))

    p = subparsers.add_parser(
        "verify",
        help="compare source and target folder by folder (read-only on both)",
        description=(
            "Compare the session's mailboxes, one mailbox ad hoc with --source and --dest, or "
            "every mailbox of a CSV list with --mailboxes (the forms and passwords of `onboard "
            "copy`), folder by folder: counts, and missing, extra and duplicated messages. Reads "
            "both sides only (EXAMINE, no folder created). Exits non-zero on any difference."
        ),
    )
    p.add_argument("session", nargs="?", help="session name (omit for the ad-hoc form)")
    _common(p)
    verify_steps = [
        default_playbook().number_of(k) for k in (Kind.VERIFY_INITIAL, Kind.VERIFY_FINAL)
    ]
    p.add_argument("--step", choices=verify_steps, help="record as evidence of this step")
    _adhoc(p)
    p.set_defaults(handler=verb_handler("wizard.copy.cli", "cmd_verify"))


def _adhoc(p: argparse.ArgumentParser) -> None:
    """The flags of the ad-hoc form, alike for copy and verify."""
    p.add_argument(
        "--source", metavar="URL", help="imaps://user@host[:port]; imaps://host[:port] in bulk"
    )
    p.add_argument(
        "--dest", metavar="URL", help="imaps://... or ews://user@host; without the user in bulk"
    )
    p.add_argument(
        "--mailboxes",
        metavar="FILE.csv",
        help="the bulk form: every mailbox of this list (columns of `onboard mailboxes import`, "
        "plus target_login and target_password)",
    )
    p.add_argument("--pin", metavar="SHA256", help="trust the source's certificate by fingerprint")
    p.add_argument("--dest-pin", metavar="SHA256", help="trust the target's certificate")
    p.add_argument("--ledger", metavar="FILE", help="ledger file of an ad-hoc or bulk copy")
    p.add_argument("--exclude", action="append", metavar="PATTERN", help="leave folders out")
    p.add_argument(
        "--exclude-role",
        action="append",
        choices=[r.value for r in Role if r is not Role.INBOX],
        help="leave a special folder out (e.g. trash, junk)",
    )
    p.add_argument("--max-size", type=float, metavar="MB", help="skip messages larger than this")
    p.add_argument(
        "--copy-deleted",
        action="store_true",
        help="copy messages flagged \\Deleted but not expunged (skipped by default)",
    )
    p.add_argument(
        "--folder-role",
        action="append",
        metavar="FOLDER=ROLE",
        help="override a source folder's role (sent, drafts, trash, junk, archive or none)",
    )
