"""`onboard check ews URL --mailbox ADDR`: does the mailbox exist on Exchange, and its folders.

The password comes from ONBOARD_DEST_PASSWORD, the keyring (ad-hoc scope, key of the login) or a
prompt. With --user different from the mailbox, the user acts on the mailbox by impersonation.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..cliutil import Exit, fail, print_json, resolve_password
from ..estimate import format_bytes
from ..secrets import SecretStore
from .errors import FailureCode
from .mailbox import MailboxCheck, check_mailbox
from .settings import Access, AuthType, ExchangeSettings, format_fingerprint

DEST_ENV = "ONBOARD_DEST_PASSWORD"


def exit_code(result: MailboxCheck) -> Exit:
    """OK when the mailbox opens; UNREACHABLE when the server or the login failed; else PROBLEMS."""
    if result.exists:
        return Exit.OK
    if result.failure and (
        result.failure.unreachable or result.failure.code is FailureCode.AUTH_REJECTED
    ):
        return Exit.UNREACHABLE
    return Exit.PROBLEMS


def _settings(args: argparse.Namespace) -> ExchangeSettings:
    user = args.user or args.mailbox
    impersonate = args.access == "impersonation" or (
        args.access is None and user.lower() != args.mailbox.lower()
    )
    try:
        return ExchangeSettings(
            args.url,
            auth=AuthType(args.auth),
            access=Access.IMPERSONATION if impersonate else Access.DELEGATE,
            service_account=user if impersonate else "",
            pin=args.pin or "",
            timeout=args.timeout,
        )
    except ValueError as exc:
        fail(str(exc), Exit.USAGE)


def render_text(result: MailboxCheck, settings: ExchangeSettings) -> str:
    lines: list[str] = []
    if result.exists:
        size = ""
        if result.size_bytes is not None:
            size = f", {format_bytes(result.size_bytes)}"
            if result.quota_bytes:
                size += f" of a {format_bytes(result.quota_bytes)} quota"
        lines.append(
            f"Mailbox {result.mailbox} exists on {settings.host}: {len(result.folders)} mail "
            f"folders, {result.message_count} messages{size}."
        )
        width = max([len("Folder")] + [len("/".join(f.path)) for f in result.folders])
        lines.append(f"  {'Folder'.ljust(width)}  {'Messages':>8}  {'Unread':>6}  Role")
        for folder in result.folders:
            lines.append(
                f"  {'/'.join(folder.path).ljust(width)}  {folder.total:>8}  {folder.unread:>6}"
                f"  {folder.role}".rstrip()
            )
        return "\n".join(lines)
    failure = result.failure
    assert failure is not None
    word = "is missing" if result.state == "missing" else "could not be checked"
    lines.append(f"Mailbox {result.mailbox} {word} ({failure.code.value}).")
    lines.append(failure.message)
    if failure.fingerprint:
        lines.append(f"Certificate SHA-256: {format_fingerprint(failure.fingerprint)}")
        lines.append(f"To trust it after confirming it: --pin {failure.fingerprint}")
    return "\n".join(lines)


def cmd_check_ews(args: argparse.Namespace) -> int:
    settings = _settings(args)
    login = settings.login_for(args.mailbox)
    password = resolve_password(
        env_var=DEST_ENV,
        secrets=SecretStore("adhoc"),
        key=settings.password_key(args.mailbox),
        prompt=f"Password of {login} on {settings.host}: ",
    )
    result = check_mailbox(settings, args.mailbox, password)
    if args.json:
        data: dict[str, Any] = {"url": settings.ews_url, "login": login, **result.as_dict()}
        print_json(data)
    else:
        out = sys.stdout if result.exists else sys.stderr
        print(render_text(result, settings), file=out)
    return int(exit_code(result))


def register(subparsers: Any, check_subparsers: Any) -> None:
    p = check_subparsers.add_parser(
        "ews",
        help="check a mailbox on Exchange (EWS) and list its folders",
        description=(
            "Say whether the mailbox exists on the provider's Exchange and list its mail folders "
            f"with message counts. The password comes from {DEST_ENV}, the keyring, or a prompt."
        ),
    )
    p.add_argument("url", help="EWS URL, e.g. https://mail.example.net/EWS/Exchange.asmx")
    p.add_argument("--mailbox", required=True, metavar="ADDR", help="the mailbox's address")
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
    p.add_argument("--timeout", type=float, default=30.0, metavar="S", help="seconds per request")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(handler=cmd_check_ews)


__all__ = ["cmd_check_ews", "exit_code", "register", "render_text"]
