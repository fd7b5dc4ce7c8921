"""The bulk ad-hoc form of `onboard copy` and `onboard verify`: a whole customer in one process.

``onboard copy --source imaps://HOST[:PORT] --dest imaps://HOST[:PORT]|ews://HOST --mailboxes
FILE.csv`` reads the mailbox list in the layouts step 3 imports (wizard/imap/mailbox_list.py) plus
two optional columns, ``target_login`` (an IMAP target whose login is not the address) and
``target_password``, and hands one ``MailboxJob`` per row to the same engine as the session form.

Everything is checked before anything is copied: the URLs name no user (the logins are in the
list), every row is well formed, and every mailbox has both passwords; each problem is reported
with its line and mailbox. A password comes from the CSV, else the ad-hoc keyring entries
(``source:LOGIN``, ``target:LOGIN``), else ``ONBOARD_SOURCE_PASSWORD`` / ``ONBOARD_DEST_PASSWORD``
(one password for every mailbox that has none of its own), and is never printed. All mailboxes
share one ledger (``--ledger FILE``, else one per pair of servers), so a rerun resumes each.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from ..endpoint import Endpoint, parse_server
from ..formatting import format_bytes, format_duration, plural, text_table
from ..imap.mailbox_list import BULK_COLUMN_NAMES, MailboxEntry, RowProblem, read_mailbox_csv
from ..secrets import SecretStore, remember_in_use, source_password_key, target_password_key
from ..session import data_dir, slugify
from .connect import source_factory, target_factory
from .engine import CopyResult, MailboxJob, MailboxResult
from .events import MailboxState
from .folder_map import PlanOptions
from .verbs import DEST_ENV, SOURCE_ENV

ADHOC_SECRETS = "adhoc"  # the keyring scope of the ad-hoc forms, single and bulk


class MailboxListRefused(ValueError):
    """The mailbox list (or the passwords it needs) has problems; nothing was copied."""

    def __init__(self, source: str, problems: Iterable[RowProblem], fix: str) -> None:
        self.source = source
        self.problems = tuple(problems)
        super().__init__(
            f"{source}: {plural(len(self.problems), 'problem')} found, nothing copied; {fix}"
        )


def bulk_servers(source_url: str, dest_url: str) -> tuple[Endpoint, Endpoint]:
    """The two servers of a bulk copy, each a URL without a user; ValueError names the flag."""
    try:
        source = parse_server(source_url)
    except ValueError as exc:
        raise ValueError(f"--source: {exc}") from None
    try:
        dest = parse_server(dest_url)
    except ValueError as exc:
        raise ValueError(f"--dest: {exc}") from None
    if source.kind != "imap":
        raise ValueError("--source must be an imap:// or imaps:// URL")
    return source, dest


def read_mailbox_list(
    path: Path | str, dest: Endpoint, wanted: Sequence[str] = ()
) -> tuple[MailboxEntry, ...]:
    """The rows of the mailbox CSV (only those ``wanted`` by address or login, when given);
    MailboxListRefused lists every bad row."""
    parsed = read_mailbox_csv(path, names=BULK_COLUMN_NAMES)
    problems = list(parsed.problems)
    if dest.kind != "imap":
        problems += [
            RowProblem(
                row.line,
                f"{row.target_address}: target_login is for IMAP targets; an Exchange mailbox "
                "logs in as its address (leave the cell empty)",
            )
            for row in parsed.rows
            if row.target_login
        ]
    if problems:
        raise MailboxListRefused(str(path), problems, "fix the file and run again")
    rows = parsed.rows
    if wanted:
        names = {w.lower() for w in wanted}
        rows = tuple(r for r in rows if names & {r.target_address.lower(), r.source_login.lower()})
        found = {n for r in rows for n in (r.target_address.lower(), r.source_login.lower())}
        unknown = [w for w in wanted if w.lower() not in found]
        if unknown:
            raise MailboxListRefused(
                str(path),
                [RowProblem(0, f"no mailbox {w!r} in the list") for w in unknown],
                "name a target address or source login of the file with --mailbox",
            )
    for row in rows:  # before anything could print them: their echoes are redacted
        remember_in_use(row.password)
        remember_in_use(row.target_password)
    return rows


def with_passwords(
    rows: Sequence[MailboxEntry],
    environ: Mapping[str, str],
    secrets: SecretStore | None = None,
    *,
    source: str = "the mailbox list",
) -> tuple[MailboxEntry, ...]:
    """Every row with both passwords: the CSV's, else the keyring's, else the environment's.
    MailboxListRefused names each row (line and mailbox) that lacks one."""
    secrets = secrets if secrets is not None else SecretStore(ADHOC_SECRETS)
    done: list[MailboxEntry] = []
    problems: list[RowProblem] = []
    for row in rows:
        target_login = row.target_login or row.target_address
        sides = (
            ("source", row.source_login, row.password, source_password_key, SOURCE_ENV),
            ("target", target_login, row.target_password, target_password_key, DEST_ENV),
        )
        found: list[str] = []
        for side, login, given, key_of, env in sides:
            secret = given or secrets.get(key_of(login)) or remember_in_use(environ.get(env)) or ""
            found.append(secret)
            if not secret:
                problems.append(
                    RowProblem(
                        row.line,
                        f"{row.target_address}: no {side} password for {login} (none in the "
                        f"{side}_password column, none in the keyring as {key_of(login)}, and "
                        f"{env} is not set)",
                    )
                )
        done.append(replace(row, password=found[0], target_password=found[1]))
    if problems:
        raise MailboxListRefused(
            source,
            problems,
            f"add the passwords to the file, the keyring, or {SOURCE_ENV} / {DEST_ENV}",
        )
    return tuple(done)


def bulk_jobs(
    source: Endpoint, dest: Endpoint, rows: Sequence[MailboxEntry], options: PlanOptions
) -> list[MailboxJob]:
    """One job per row (rows with their passwords), keyed in the ledger by target address."""
    jobs: list[MailboxJob] = []
    for row in rows:
        login = row.target_login if dest.kind == "imap" and row.target_login else row.target_address
        jobs.append(
            MailboxJob(
                mailbox=row.target_address,
                source=source_factory(replace(source, user=row.source_login), row.password),
                target=target_factory(replace(dest, user=login), row.target_password),
                options=options,
                label=row.source_login,
            )
        )
    return jobs


def bulk_ledger_path(source: Endpoint, dest: Endpoint) -> Path:
    """The default ledger of bulk copies between these two servers, whatever the list."""
    name = slugify(f"bulk-{source.host}-{source.port}-to-{dest.host}-{dest.port}")
    return data_dir() / "copies" / f"{name}.onboard"


# ----- the end of a run -----------------------------------------------------------------------


def mailbox_verdict(m: MailboxResult) -> str:
    if m.held_by:
        return f"not copied: another copy holds it ({m.held_by})"
    if m.state is MailboxState.CANCELLED:
        return "cancelled"
    if m.error:
        return f"FAILED: {m.error}"
    unopened = [f.folder for f in m.folders if f.error]
    if unopened:
        failed = f", {plural(m.failed, 'message')} failed" if m.failed else ""
        return f"CHECK: the source could not open {', '.join(unopened)}{failed}"
    if m.failed:
        return f"CHECK: {plural(m.failed, 'message')} failed"
    return "ok" if m.ok else m.state.value


def summary_table(result: CopyResult, jobs: Sequence[MailboxJob]) -> str:
    """Per mailbox: messages copied in this run, already there, skipped, failed, the size copied,
    the time taken and the result; a line of totals below."""
    logins = {job.mailbox: job.label for job in jobs}
    rows: list[tuple[str, ...]] = [
        ("MAILBOX", "LOGIN", "COPIED", "ALREADY", "SKIPPED", "FAILED", "SIZE", "TIME", "RESULT")
    ]
    for m in result.mailboxes:
        rows.append(
            (
                m.mailbox,
                logins.get(m.mailbox, ""),
                str(m.copied),
                str(m.already),
                str(m.skipped),
                str(m.failed),
                format_bytes(m.bytes_copied),
                format_duration(m.seconds),
                mailbox_verdict(m),
            )
        )
    ok = sum(1 for m in result.mailboxes if m.ok)
    total = (
        f"{plural(len(result.mailboxes), 'mailbox')}: {plural(result.copied, 'message')} copied "
        f"({format_bytes(sum(m.bytes_copied for m in result.mailboxes))}), "
        f"{sum(m.skipped for m in result.mailboxes)} skipped, {result.failed} failed; "
        + (
            "all ok"
            if ok == len(result.mailboxes)
            else f"{ok} ok, {len(result.mailboxes) - ok} to look at"
        )
    )
    return text_table(rows) + total + "\n"


__all__ = [
    "ADHOC_SECRETS",
    "MailboxListRefused",
    "bulk_jobs",
    "bulk_ledger_path",
    "bulk_servers",
    "read_mailbox_list",
    "summary_table",
    "with_passwords",
]
