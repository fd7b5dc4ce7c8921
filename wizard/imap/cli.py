"""`onboard check imap`: the step-4 connection test of one mailbox, from the command line.

The URL has the same form as `onboard copy --source`: imaps://USER@HOST[:PORT] is implicit TLS,
imap://USER@HOST[:PORT] is STARTTLS, and imap://...?tls=none is plain text (with a warning).
"""

from __future__ import annotations

import argparse
import sys
import unicodedata
from typing import Any

from ..cliutil import Exit, fail, print_json, resolve_password
from ..endpoint import parse_endpoint
from ..formatting import format_bytes
from ..secrets import SecretStore, source_password_key
from ..tls import format_fingerprint
from .credentials import SHARED_TOKEN_KEY, master_secret_key
from .probe import ProbeResult, probe_mailbox
from .settings import AuthMode, ImapServerSettings, Security
from .verbs import SOURCE_ENV


def settings_from_args(args: argparse.Namespace) -> tuple[ImapServerSettings, str]:
    """The server settings and the login from the URL and flags (usage errors exit 2)."""
    try:
        endpoint = parse_endpoint(args.url)
    except ValueError as exc:
        fail(str(exc), Exit.USAGE)
    if endpoint.kind != "imap":
        fail(f"{args.url!r} is not an imap:// or imaps:// URL", Exit.USAGE)
    security = Security.parse(endpoint.security)
    if args.starttls:
        if security is Security.IMPLICIT_TLS:
            fail("--starttls goes with imap://, not imaps:// (implicit TLS)", Exit.USAGE)
        security = Security.STARTTLS
    auth = AuthMode(args.auth) if args.auth else None
    if auth is None:
        auth = AuthMode.MASTER if args.master_user else AuthMode.PASSWORD
    try:
        settings = ImapServerSettings(
            host=endpoint.host,
            port=endpoint.port,
            security=security,
            auth=auth,
            master_user=args.master_user or "",
            pin=args.pin or "",
            timeout=args.timeout,
        )
    except ValueError as exc:
        fail(str(exc), Exit.USAGE)
    return settings, endpoint.user


def _secret(settings: ImapServerSettings, login: str) -> str:
    if settings.auth.uses_master:
        key = master_secret_key(settings.master_user)
        prompt = f"Password of the master user {settings.master_user} on {settings.host}: "
    elif settings.auth is AuthMode.XOAUTH2:
        key = SHARED_TOKEN_KEY
        prompt = f"OAuth2 access token for {login} on {settings.host}: "
    else:
        key = source_password_key(login)
        prompt = f"Password of {login} on {settings.host}: "
    return resolve_password(
        env_var=SOURCE_ENV, secrets=SecretStore("adhoc"), key=key, prompt=prompt
    )


def exit_code(result: ProbeResult) -> Exit:
    if result.ok:
        return Exit.OK
    if result.listed:
        return Exit.PROBLEMS
    return Exit.UNREACHABLE


def _width(text: str) -> int:
    """Terminal columns: East Asian wide characters (日本語) take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def print_result(result: ProbeResult, settings: ImapServerSettings) -> None:
    """The operator's view of one connection test."""
    print(
        f"{result.login} on {settings.address} ({settings.security.label}, "
        f"{settings.auth.label}{', master ' + settings.master_user if settings.master_user else ''})"
    )
    if not result.logged_in:
        return
    print(f"Logged in in {result.seconds:.1f} s.")
    print("Capabilities: " + " ".join(result.capabilities))
    method = {"status-size": "STATUS=SIZE", "fetch-sizes": "EXAMINE and RFC822.SIZE"}.get(
        result.sizing_method, "not sized"
    )
    print(f"Folders: {result.folder_count} (sized with {method})")
    rows = [("FOLDER", "SPECIAL-USE", "ROLE", "MESSAGES", "SIZE")]
    for f in result.folders:
        rows.append(
            (
                f.name,
                f.special_use,
                f.role + (" (by name)" if f.role_from == "name" and f.role != "inbox" else ""),
                "" if f.messages is None else str(f.messages),
                "" if f.bytes is None else format_bytes(f.bytes),
            )
        )
    widths = [max(_width(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [
            " " * (widths[i] - _width(cell)) + cell
            if i >= 3
            else cell + " " * (widths[i] - _width(cell))
            for i, cell in enumerate(row)
        ]
        print("  " + "  ".join(cells).rstrip())
    print(f"Total: {result.messages} messages, {format_bytes(result.bytes)}")


def print_failure(result: ProbeResult) -> None:
    print(f"onboard: {result.reason}", file=sys.stderr)
    if result.fingerprint:
        print(
            f"onboard: the server's certificate has SHA-256 fingerprint "
            f"{format_fingerprint(result.fingerprint)}; once the customer confirms it, test "
            f"again with --pin {result.fingerprint}",
            file=sys.stderr,
        )


def cmd_check_imap(args: argparse.Namespace) -> int:
    settings, login = settings_from_args(args)
    if settings.security is Security.PLAIN and not args.json:
        print(
            f"WARNING: plain-text connection to {settings.address}: the password crosses the "
            "network unencrypted.",
            file=sys.stderr,
        )
    secret = _secret(settings, login)
    result = probe_mailbox(
        settings, login, secret, use_status_size=False if args.fetch_sizes else None
    )
    code = exit_code(result)
    if args.json:
        data: dict[str, Any] = result.as_dict()
        data["security"] = settings.security.value
        data["auth"] = settings.auth.value
        data["exit_code"] = int(code)
        print_json(data)
        return code
    print_result(result, settings)
    for warning in result.warnings:
        print(f"WARNING: {warning}", file=sys.stderr)
    if not result.ok:
        print_failure(result)
    return code
