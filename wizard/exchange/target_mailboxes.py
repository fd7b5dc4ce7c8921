"""The session's target mailboxes on Exchange: check them all, record evidence, and export the
provisioning list (CSV and a PowerShell script of New-Mailbox lines, never a password) for the
mailboxes the provider still has to create.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..events import Done, EventSink, Started, ignore
from ..exports import csv_text, powershell_comment, powershell_literal, write_private
from ..playbook import Kind
from ..secrets import SecretStore
from ..session import slugify
from ..store import Evidence, Mailbox, SessionStore
from .connection import connection_warnings
from .errors import ExchangeFailure, FailureCode
from .mailbox import MailboxCheck, check_mailbox
from .settings import EVIDENCE_KIND, ExchangeSettings

EVIDENCE_STEP_KIND = Kind.CONNECTION_TEST  # the step whose evidence the mailbox check is
PROVISIONING_KIND = "provisioning-list"
NO_PASSWORD = "no-password"

PasswordLookup = Callable[[str], "str | None"]


def session_passwords(store: SessionStore, settings: ExchangeSettings) -> PasswordLookup:
    """The keyring password used to reach each mailbox (one look-up at a time)."""
    secrets = SecretStore(store.name)
    lock = threading.Lock()

    def lookup(mailbox: str) -> str | None:
        with lock:
            return secrets.get(settings.password_key(mailbox))

    return lookup


def _no_password(settings: ExchangeSettings, mailbox: str) -> MailboxCheck:
    login = settings.login_for(mailbox)
    return MailboxCheck(
        mailbox,
        "error",
        failure=ExchangeFailure(
            FailureCode.AUTH_REJECTED,
            settings.host,
            f"No password is stored for {login}: enter it above and check again.",
            mailbox=mailbox,
            detail=NO_PASSWORD,
        ),
    )


def check_mailboxes(
    settings: ExchangeSettings,
    addresses: Sequence[str],
    passwords: PasswordLookup,
    *,
    sink: EventSink = ignore,
    concurrency: int = 4,
) -> list[MailboxCheck]:
    """Check every address (in parallel); a ``Started`` then a ``Done`` (result: the
    MailboxCheck) per address, so a screen can update each row as its answer comes."""

    def one(address: str) -> MailboxCheck:
        sink(Started(address, "checking"))
        password = passwords(address)
        result = (
            _no_password(settings, address)
            if not password
            else check_mailbox(settings, address, password)
        )
        sink(Done(address, ok=result.exists, summary=result.state, result=result))
        return result

    if not addresses:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(addresses)))) as pool:
        return list(pool.map(one, addresses))


def save_checks(
    store: SessionStore, settings: ExchangeSettings, checks: Sequence[MailboxCheck]
) -> Evidence:
    """One step-4 evidence entry for a round of checks (no secret in it)."""
    exists = sum(1 for c in checks if c.exists)
    missing = [c.mailbox for c in checks if c.state == "missing"]
    errors = [c.mailbox for c in checks if c.state == "error"]
    summary = f"{exists} of {len(checks)} target mailboxes exist on {settings.host}"
    if missing:
        summary += f"; missing: {', '.join(missing)}"
    if errors:
        summary += f"; not checked (errors): {', '.join(errors)}"
    warnings = connection_warnings(settings)
    if warnings:
        summary += "; WARNING: " + "; ".join(warnings)
    data = {
        "ews_url": settings.ews_url,
        "access": settings.access.value,
        "service_account": settings.service_account,
        "targets": [c.as_dict() for c in checks],  # not "mailboxes": that key holds sizes
        "warnings": list(warnings),
    }
    return store.add_evidence(
        store.playbook.number_of(EVIDENCE_STEP_KIND),
        EVIDENCE_KIND,
        summary,
        data,
        ok=bool(checks) and exists == len(checks),
    )


def latest_checks(store: SessionStore) -> dict[str, dict[str, Any]]:
    """The newest recorded check per target address (lower case), as saved in evidence."""
    found: dict[str, dict[str, Any]] = {}
    for evidence in store.evidence(store.playbook.number_of(EVIDENCE_STEP_KIND), EVIDENCE_KIND):
        for entry in evidence.data.get("targets", []):
            found[str(entry.get("mailbox", "")).lower()] = entry
    return found


@dataclass(frozen=True)
class ProvisioningRow:
    address: str
    display_name: str
    alias: str
    source_login: str

    @classmethod
    def from_mailbox(cls, mailbox: Mailbox) -> ProvisioningRow:
        local = mailbox.target_address.partition("@")[0]
        alias = "".join(c for c in local if c.isalnum() or c in "._-") or "mailbox"
        return cls(
            mailbox.target_address, mailbox.display_name or local, alias, mailbox.source_login
        )


def provisioning_rows(store: SessionStore) -> list[ProvisioningRow]:
    """Mailboxes the latest checks found missing, in the session's order."""
    checks = latest_checks(store)
    return [
        ProvisioningRow.from_mailbox(m)
        for m in store.mailboxes()
        if checks.get(m.target_address.lower(), {}).get("state") == "missing"
    ]


def provisioning_csv(rows: Sequence[ProvisioningRow]) -> str:
    return csv_text(
        ["PrimarySmtpAddress", "DisplayName", "Alias", "SourceLogin"],
        ([row.address, row.display_name, row.alias, row.source_login] for row in rows),
    )


def provisioning_powershell(rows: Sequence[ProvisioningRow], customer: str) -> str:
    """New-Mailbox lines for the provider's admins; each asks for its password when run."""
    lines = [
        f"# Mailboxes to create for {powershell_comment(customer)} ({len(rows)}), written by onboard.",
        "# Run in the Exchange Management Shell. No password is stored in this file: each",
        "# New-Mailbox asks for the new mailbox's initial password.",
        "",
    ]
    q = powershell_literal
    for row in rows:
        prompt = q(f"Initial password for {row.address}")
        lines.append(
            f"New-Mailbox -Name {q(row.display_name)} -DisplayName {q(row.display_name)} "
            f"-Alias {q(row.alias)} -UserPrincipalName {q(row.address)} "
            f"-PrimarySmtpAddress {q(row.address)} "
            f"-Password (Read-Host -AsSecureString -Prompt {prompt})"
        )
    return "\r\n".join(lines) + "\r\n"


def export_provisioning(
    store: SessionStore, directory: Path, rows: Sequence[ProvisioningRow] | None = None
) -> tuple[Path, Path]:
    """Write the provisioning list as CSV and .ps1 into ``directory``; record it as evidence."""
    rows = provisioning_rows(store) if rows is None else list(rows)
    stem = f"{slugify(store.name) or 'session'}-mailboxes-to-create"
    csv_path = directory / f"{stem}.csv"
    ps_path = directory / f"{stem}.ps1"
    write_private(csv_path, provisioning_csv(rows))
    write_private(ps_path, provisioning_powershell(rows, store.customer), "utf-8-sig")
    store.add_evidence(
        store.playbook.number_of(EVIDENCE_STEP_KIND),
        PROVISIONING_KIND,
        f"Provisioning list of {len(rows)} mailboxes to create written to {csv_path.name} and "
        f"{ps_path.name}",
        {
            "csv": str(csv_path),
            "powershell": str(ps_path),
            "to_create": [row.address for row in rows],
        },
        ok=True,
    )
    return csv_path, ps_path


__all__ = [
    "PROVISIONING_KIND",
    "ProvisioningRow",
    "check_mailboxes",
    "export_provisioning",
    "latest_checks",
    "provisioning_csv",
    "provisioning_powershell",
    "provisioning_rows",
    "save_checks",
    "session_passwords",
]
