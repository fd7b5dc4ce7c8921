"""`onboard mailboxes list|import SESSION`: the step-3 mailbox list, headless.

``import`` reads a CSV (onboard's columns or Microsoft 365's IMAP-migration columns) and adds
every row or none; each bad row is printed with its line number. Passwords in the file go to the
keyring, never to the session file.
"""

from __future__ import annotations

import argparse
import sys

from ..cliutil import Exit, open_session, print_json
from ..envvars import PASSPHRASE_ENV
from ..forms import printable
from ..secrets import SecretStore
from .mailbox_list import MailboxImportError, has_password, import_mailboxes


def cmd_list(args: argparse.Namespace) -> int:
    store = open_session(args.session, lock=None)
    try:
        secrets = SecretStore(store.name)
        rows = [
            {
                "source_login": m.source_login,
                "target_address": m.target_address,
                "display_name": m.display_name,
                "password_stored": has_password(secrets, m.source_login),
            }
            for m in store.mailboxes()
        ]
    finally:
        store.close()
    if args.json:
        print_json({"mailboxes": rows})
        return Exit.OK
    if not rows:
        print("No mailboxes yet: add them in step 3 or with `onboard mailboxes import`.")
        return Exit.OK
    width = max(len(r["source_login"]) for r in rows)
    for r in rows:
        stored = "password in keyring" if r["password_stored"] else ""
        name = f"  {r['display_name']}" if r["display_name"] else ""
        print(f"{r['source_login']:<{width}}  ->  {r['target_address']}{name}  {stored}".rstrip())
    return Exit.OK


def cmd_import(args: argparse.Namespace) -> int:
    store = open_session(args.session, what="onboard mailboxes import")
    try:
        result = import_mailboxes(store, SecretStore(store.name), args.csv)
    except MailboxImportError as exc:
        if args.json:
            print_json(
                {
                    "imported": 0,
                    "problems": [{"line": p.line, "reason": p.reason} for p in exc.problems],
                }
            )
        else:
            for problem in exc.problems:
                print(printable(f"{args.csv}: {problem}"), file=sys.stderr)
            print(printable(f"onboard: {exc}"), file=sys.stderr)
        return Exit.USAGE
    finally:
        store.close()
    if args.json:
        print_json(
            {
                "imported": len(result.added),
                "passwords": result.passwords,
                "passwords_not_kept": result.not_kept,
                "layout": result.layout,
                "mailboxes": [m.target_address for m in result.added],
            }
        )
    else:
        kept = f"{result.passwords} password(s) to {result.kept_in}"
        if result.not_kept:
            kept = f"{result.passwords} password(s) stored, {result.not_kept} for this run only"
        print(f"Imported {len(result.added)} mailbox(es) into {store.name} ({kept}).")
        if result.not_kept:
            print(
                f"onboard: WARNING: {result.not_kept} password(s) from the CSV were NOT stored: "
                "this machine has no system keyring and no encrypted secrets file is open, so "
                "they are gone when this command ends. Set "
                f"{PASSPHRASE_ENV} (or run in a terminal to be asked for a passphrase) and import "
                "the file again to keep them.",
                file=sys.stderr,
            )
    return Exit.OK
