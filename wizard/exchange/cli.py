"""`onboard check ews URL --mailbox ADDR`: does the mailbox exist on Exchange, and its folders.
`onboard check ews --autodiscover ADDR`: the EWS URL Autodiscover finds for an address.

The password comes from ONBOARD_DEST_PASSWORD, the keyring (ad-hoc scope, key of the login) or a
prompt. With --user different from the mailbox, the user acts on the mailbox by impersonation.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..cliutil import Exit, fail, print_json, resolve_password
from ..dns.resolver import DnsConfigError, DnsResolver
from ..formatting import format_bytes
from ..forms import check_domain, check_email
from ..secrets import SecretStore, target_password_key
from ..tls import format_fingerprint
from .autodiscover import Autodiscovery, discover_ews_url
from .connection import connection_warnings
from .errors import ExchangeFailure, FailureCode
from .mailbox import MailboxCheck, check_mailbox
from .settings import Access, AuthType, ExchangeSettings
from .verbs import DEST_ENV


def exit_code(result: MailboxCheck | Autodiscovery) -> Exit:
    """OK when the mailbox opens (the URL is found); UNREACHABLE when a server or the login
    failed; else PROBLEMS."""
    failure: ExchangeFailure | None = result.failure
    if failure is None:
        return Exit.OK
    if failure.unreachable or failure.code is FailureCode.AUTH_REJECTED:
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


def render_autodiscovery(result: Autodiscovery) -> str:
    if result.ews_url:
        lines = [f"Autodiscover found {result.ews_url} for {result.address}."]
    else:
        assert result.failure is not None
        lines = [f"{result.failure.message} ({result.failure.code.value})"]
    lines.append("Candidates tried:")
    for attempt in result.attempts:
        mark = "ok    " if attempt.ok else "failed"
        lines.append(f"  {mark} {attempt.candidate}")
        lines.append(f"         {attempt.outcome}")
        if attempt.fingerprint:
            lines.append(f"         To trust it after confirming it: --pin {attempt.fingerprint}")
    if result.ews_url:
        lines.append(f"Check a mailbox there: onboard check ews {result.ews_url} --mailbox ADDR")
    return "\n".join(lines)


def cmd_autodiscover(args: argparse.Namespace) -> int:
    try:
        address = check_email(args.autodiscover, "address to autodiscover")
        check_domain(address.rpartition("@")[2], "domain of that address")  # before any query
    except ValueError as exc:
        fail(str(exc), Exit.USAGE)
    login = args.user or address
    try:
        resolver = DnsResolver(args.resolver or None, timeout=min(args.timeout, 5.0))
    except DnsConfigError as exc:
        fail(str(exc), Exit.USAGE)
    secret = resolve_password(
        env_var=DEST_ENV,
        secrets=SecretStore("adhoc"),
        key=target_password_key(login),
        prompt=f"Password of {login} for Autodiscover: ",
    )
    result = discover_ews_url(
        address,
        login,
        secret,
        resolver,
        auth=AuthType(args.auth),
        pin=args.pin or "",
        timeout=args.timeout,
    )
    if args.json:
        print_json({"login": login, **result.as_dict()})
    else:
        print(render_autodiscovery(result), file=sys.stdout if result.ews_url else sys.stderr)
    return int(exit_code(result))


def cmd_check_ews(args: argparse.Namespace) -> int:
    if args.autodiscover:
        if args.url or args.mailbox:
            fail("give either URL --mailbox ADDR or --autodiscover ADDR, not both", Exit.USAGE)
        return cmd_autodiscover(args)
    if not args.url or not args.mailbox:
        fail("give the EWS URL and --mailbox ADDR (or --autodiscover ADDR)", Exit.USAGE)
    settings = _settings(args)
    login = settings.login_for(args.mailbox)
    shown_before = () if args.json else connection_warnings(settings)  # plain http, as IMAP's
    for warning in shown_before:
        print(f"WARNING: {warning}", file=sys.stderr)
    password = resolve_password(
        env_var=DEST_ENV,
        secrets=SecretStore("adhoc"),
        key=settings.password_key(args.mailbox),
        prompt=f"Password of {login} on {settings.host}: ",
    )
    result = check_mailbox(settings, args.mailbox, password)
    warnings = connection_warnings(settings)
    if args.json:
        data: dict[str, Any] = {"url": settings.ews_url, "login": login, **result.as_dict()}
        print_json({**data, "warnings": list(warnings)})
    else:
        out = sys.stdout if result.exists else sys.stderr
        print(render_text(result, settings), file=out)
        for warning in warnings:
            if warning not in shown_before:
                print(f"WARNING: {warning}", file=sys.stderr)
    return int(exit_code(result))


__all__ = ["cmd_check_ews", "exit_code", "render_autodiscovery", "render_text"]
