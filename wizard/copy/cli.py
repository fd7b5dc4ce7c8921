"""`onboard copy` and `onboard verify`: the copy engine headless, with text progress.

Session form: ``onboard copy SESSION [--mailbox ADDR]... [--differential] [--dry-run]`` copies the
session's mailboxes with its source server and target. Ad-hoc form: ``onboard copy --source URL
--dest URL`` copies one mailbox between two servers, keeping its ledger in a small session file of
its own; with ``--mailboxes FILE.csv`` and URLs without a user (the bulk form, wizard/copy/bulk.py)
it copies every mailbox of the list in one process, progress on stderr and a table at the end.
Several copies of different mailboxes of one session may run at once; a second copy of a
mailbox that another copy holds is refused (wizard/copy/holds.py, exit code 4). ``onboard verify``
takes the same three forms (and flags) and compares without writing to either side.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, TextIO

from ..activity import add_secret, event_logger
from ..cliutil import (
    Exit,
    fail,
    open_session,
    open_session_file,
    print_json,
    resolve_password,
)
from ..endpoint import Endpoint, parse_endpoint
from ..events import Done, Event, Failure
from ..formatting import format_bytes, format_duration, plural, text_table
from ..forms import printable
from ..playbook import Kind, default_playbook
from ..redaction import redact_in_use
from ..secrets import SecretStore
from ..session import data_dir, slugify
from ..session_checks import session_vanished, vanished_message
from ..store import SessionStore
from . import bulk
from .connect import source_factory, target_factory
from .engine import CopyEngine, CopyResult, CopySettings, MailboxJob, MailboxResult
from .events import CopyLog, MailboxProgress, MailboxState
from .folder_map import PlanOptions, Role, parse_role_override
from .ledger import CopyLedger, RunMode
from .service import record_copy_evidence
from .verbs import DEST_ENV, SOURCE_ENV
from .verify import FolderCheck, MailboxCheck, Verification, listed_messages, verify


def progress_line(p: MailboxProgress) -> str:
    return (
        f"{p.subject}: {p.state.value:<10} {p.done}/{p.total} msgs  "
        f"{format_bytes(p.bytes_done)}/{format_bytes(p.bytes_total)}  "
        f"{format_bytes(p.rate_bytes)}/s  ETA {format_duration(p.eta_seconds)}"
        + (f"  failed {p.failed}" if p.failed else "")
        + (f"  [{p.folder}]" if p.folder and not p.state.finished else "")
    )


class TextProgress:
    """An EventSink for the terminal: a line per mailbox now and then, failures at once."""

    def __init__(
        self, out: TextIO, err: TextIO, *, quiet: bool = False, every: float = 0.0
    ) -> None:
        self.out = out
        self.err = err
        self.quiet = quiet
        self.every = every  # seconds between two rounds of progress lines at the least
        self._last_round = 0.0
        self.latest: dict[str, MailboxProgress] = {}
        self.printed: dict[str, str] = {}
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        with self._lock:
            if isinstance(event, MailboxProgress):
                self.latest[event.subject] = event
            elif isinstance(event, Failure) and event.code == "message":
                detail = event.detail
                self.err.write(  # a server's reason may quote the login it was sent
                    f"{event.subject}: {detail.get('folder')} UID {detail.get('uid')} "
                    f"failed: {redact_in_use(event.reason)}\n"
                )
            elif isinstance(event, CopyLog) and event.level != "info":
                self.err.write(f"{event.subject}: {redact_in_use(event.message)}\n")
            elif isinstance(event, Done) and not self.quiet:
                self.out.write(f"{event.subject}: {event.summary}\n")
                self.out.flush()

    def tick(self) -> None:
        if self.quiet or time.monotonic() - self._last_round < self.every:
            return
        self._last_round = time.monotonic()
        with self._lock:
            for mailbox, progress in self.latest.items():
                if progress.state.finished:
                    continue
                line = progress_line(progress)
                if self.printed.get(mailbox) != line:
                    self.printed[mailbox] = line
                    self.out.write(line + "\n")
            self.out.flush()


def result_data(result: CopyResult) -> dict[str, Any]:
    def one(m: MailboxResult) -> dict[str, Any]:
        data = asdict(m)
        data.pop("plan", None)
        data["state"] = m.state.value
        data["ok"] = m.ok
        if m.plan is not None:
            data["size_limit"] = m.plan.size_limit
        return data

    return {"ok": result.ok, "mailboxes": [one(m) for m in result.mailboxes]}


def exit_code(result: CopyResult) -> Exit:
    if any(m.state is MailboxState.CANCELLED for m in result.mailboxes):
        return Exit.INTERRUPTED
    if any(m.held_by for m in result.mailboxes):
        return Exit.LOCKED  # another copy runs one of these mailboxes
    if any(m.unreachable for m in result.mailboxes):
        return Exit.UNREACHABLE
    return Exit.OK if result.ok else Exit.PROBLEMS


def print_dry_run(result: CopyResult, out: TextIO) -> None:
    for m in result.mailboxes:
        out.write(f"{m.mailbox}: {m.state.value}{' - ' + m.error if m.error else ''}\n")
        for f in m.folders:
            if f.excluded:
                out.write(f"  {f.folder!r:<40} left out: {f.excluded}\n")
                continue
            to_copy = f.source_count - f.already - f.skipped
            planned = m.plan.folder(f.folder) if m.plan is not None else None
            out.write(
                f"  {f.folder!r:<40} -> {f.target!r:<30} {f.source_count:>6} msgs, "
                f"{to_copy} to copy, {f.already} already copied"
                + (f", {f.skipped} too large" if f.skipped else "")
                + (f"  [{planned.reason}]" if planned is not None and planned.reason else "")
                + "\n"
            )


# ----- running ------------------------------------------------------------------------------


def run_engine(engine: CopyEngine, progress: TextProgress, interval: float = 2.0) -> CopyResult:
    """Run the engine in a thread; Ctrl+C or SIGTERM cancels it cleanly (rows stay consistent)."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = engine.run()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
            box["error"] = exc

    thread = threading.Thread(target=target, name="copy-engine", daemon=True)
    previous = signal.getsignal(signal.SIGTERM)
    with_handler = threading.current_thread() is threading.main_thread()
    if with_handler:
        signal.signal(signal.SIGTERM, lambda *_: engine.cancel())
    try:
        thread.start()
        while thread.is_alive():
            try:
                thread.join(interval)
            except KeyboardInterrupt:
                print("onboard: cancelling the copy, please wait", file=sys.stderr)
                engine.cancel()
            progress.tick()
    finally:
        if with_handler:
            signal.signal(signal.SIGTERM, previous)
    if "error" in box:
        raise box["error"]
    return box["result"]


def settings_from(args: argparse.Namespace) -> CopySettings:
    return CopySettings(
        mode=RunMode.DIFFERENTIAL if args.differential else RunMode.INITIAL,
        concurrency=max(1, args.concurrency),
        dry_run=args.dry_run,
        only_failed=args.retry_failed,
        reconcile=args.reconcile,
    )


def plan_options(args: argparse.Namespace) -> PlanOptions:
    roles = set(PlanOptions().exclude_roles)
    for name in args.exclude_role or ():
        roles.add(Role(name))
    try:
        overrides = tuple(parse_role_override(o) for o in args.folder_role or ())
    except ValueError as exc:
        fail(f"--folder-role {exc}", Exit.USAGE)
    return PlanOptions(
        exclude_roles=frozenset(roles),
        exclude_patterns=tuple(args.exclude or ()),
        size_limit=int(args.max_size * 1024 * 1024) if args.max_size else None,
        role_overrides=overrides,
        copy_deleted=args.copy_deleted,
    )


def _source_password(secrets: SecretStore | None, login: str, host: str) -> str:
    from ..secrets import source_password_key

    return resolve_password(
        env_var=SOURCE_ENV,
        secrets=secrets,
        key=source_password_key(login),
        prompt=f"Password of {login} on {host}: ",
    )


def _dest_password(secrets: SecretStore | None, login: str, host: str) -> str:
    from ..secrets import target_password_key

    return resolve_password(
        env_var=DEST_ENV,
        secrets=secrets,
        key=target_password_key(login),
        prompt=f"Password of {login} on {host}: ",
    )


def adhoc_ledger_path(source: Endpoint, dest: Endpoint) -> Path:
    name = slugify(f"{source.user}-{source.host}-to-{dest.user}-{dest.host}") or "copy"
    return data_dir() / "copies" / f"{name}.onboard"


def open_adhoc_ledger(
    path: Path, description: str, what: str, *, create: bool
) -> SessionStore | None:
    """The ledger of an ad-hoc copy, made first when ``create`` (a verification makes none and
    gets None when there is no ledger yet: nothing is known as skipped or failed)."""
    from ..profile import example_profile
    from ..store import SessionExists

    if not path.exists():
        if not create:
            return None
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(SessionExists):  # another copy created it a moment ago
            SessionStore.create(
                path, customer=description, domain="adhoc.invalid", profile=example_profile()
            ).close()
    return open_session_file(path, lock="shared", what=what)


def adhoc_job(args: argparse.Namespace) -> tuple[Endpoint, Endpoint, MailboxJob]:
    try:
        source = parse_endpoint(args.source).with_pin(args.pin)
        dest = parse_endpoint(args.dest).with_pin(args.dest_pin)
    except ValueError as exc:
        fail(str(exc), Exit.USAGE)
    if source.kind != "imap":
        fail("--source must be an imap:// or imaps:// URL", Exit.USAGE)
    secrets = SecretStore("adhoc")
    source_pw = _source_password(secrets, source.user, source.host)
    dest_pw = _dest_password(secrets, dest.user, dest.host)
    job = MailboxJob(
        mailbox=dest.user,
        source=source_factory(source, source_pw),
        target=target_factory(dest, dest_pw),
        options=plan_options(args),
        label=source.display,
    )
    return source, dest, job


def session_or_adhoc_jobs(
    args: argparse.Namespace, what: str, *, create_ledger: bool
) -> tuple[SessionStore | None, list[MailboxJob]]:
    """The session's mailbox jobs, or the one ad-hoc job, with the store they record in. A copy
    creates its ad-hoc ledger; a verification creates nothing (no ledger: nothing to record in)."""
    if args.session and (args.source or args.dest or args.mailboxes):
        fail("give either a SESSION or --source and --dest, not both", Exit.USAGE)
    if args.session:
        from .session_jobs import SessionNotReady, session_jobs

        session = open_session(args.session, lock="shared", what=what)
        try:
            return session, session_jobs(session, args.mailbox or (), plan_options(args))
        except SessionNotReady as exc:
            session.close()
            fail(str(exc), Exit.USAGE)
    if not (args.source and args.dest):
        fail("give a SESSION, or both --source URL and --dest URL", Exit.USAGE)
    if args.mailboxes:
        return bulk_adhoc_jobs(args, what, create_ledger=create_ledger)
    source, dest, job = adhoc_job(args)
    path = Path(args.ledger) if args.ledger else adhoc_ledger_path(source, dest)
    description = f"ad-hoc copy {source.display} to {dest.display}"
    return open_adhoc_ledger(path, description, what, create=create_ledger), [job]


def bulk_adhoc_jobs(
    args: argparse.Namespace, what: str, *, create_ledger: bool
) -> tuple[SessionStore | None, list[MailboxJob]]:
    """The jobs of the bulk form, one per row of ``--mailboxes``, and their shared ledger; every
    row and every password is checked before anything is copied (exit code 2 otherwise)."""
    try:
        source, dest = bulk.bulk_servers(args.source, args.dest)
    except ValueError as exc:
        fail(str(exc), Exit.USAGE)
    source, dest = source.with_pin(args.pin), dest.with_pin(args.dest_pin)
    try:
        rows = bulk.read_mailbox_list(args.mailboxes, dest, args.mailbox or ())
        rows = bulk.with_passwords(rows, os.environ, source=args.mailboxes)
    except bulk.MailboxListRefused as exc:
        for problem in exc.problems:
            print(printable(f"{exc.source}: {problem}"), file=sys.stderr)
        fail(str(exc), Exit.USAGE)
    jobs = bulk.bulk_jobs(source, dest, rows, plan_options(args))
    path = Path(args.ledger) if args.ledger else bulk.bulk_ledger_path(source, dest)
    servers = f"from {source.server} to {dest.server}"
    store = open_adhoc_ledger(path, f"bulk copy {servers}", what, create=create_ledger)
    if store is not None:
        for row in rows:  # a password of the file must not reach the activity log
            add_secret(store, row.password)
            add_secret(store, row.target_password)
    doing = "copying" if create_ledger else "verifying"
    ledger = path if store is not None else "none yet"
    print(
        f"onboard: {doing} {plural(len(jobs), 'mailbox')} {servers} (ledger {ledger})",
        file=sys.stderr,
    )
    return store, jobs


def cmd_copy(args: argparse.Namespace) -> int:
    out, err = sys.stdout, sys.stderr
    found, jobs = session_or_adhoc_jobs(args, "onboard copy", create_ledger=True)
    if found is None:  # not reached: a copy always has its session or creates its ledger
        fail("no session or ledger to record the copy in", Exit.USAGE)
    store: SessionStore = found
    in_bulk = bool(args.mailboxes)  # its stdout is the table or the JSON: progress to stderr
    try:
        # In bulk, a round of lines every 5 s at most: enough for a script's log, not a flood.
        progress = (
            TextProgress(err, err, every=5.0)
            if in_bulk
            else TextProgress(out, err, quiet=args.json)
        )
        settings = settings_from(args)
        sink = event_logger(store, "copy", inner=progress)
        engine = CopyEngine(CopyLedger(store), jobs, settings, sink=sink)
        result = run_engine(engine, progress)
        if session_vanished(store):  # the ledger went with it: this copy is not on record
            fail(vanished_message(store, "copy"), Exit.VANISHED)
        if args.session and not args.dry_run:
            record_copy_evidence(store, result, settings.mode)
    finally:
        store.close()
    if args.json:
        data = result_data(result)
        if in_bulk:
            logins = {job.mailbox: job.label for job in jobs}
            for mailbox in data["mailboxes"]:
                mailbox["source_login"] = logins.get(mailbox["mailbox"], "")
        print_json(data)
    elif args.dry_run:
        print_dry_run(result, out)
    elif in_bulk:
        out.write(printable(redact_in_use(bulk.summary_table(result, jobs))))
    return int(exit_code(result))


def print_verification(result: Verification, out: TextIO) -> None:
    header = (
        "MAILBOX / FOLDER",
        "SOURCE",
        "TARGET",
        "MISSING",
        "EXTRA",
        "DUPLICATED",
        "FAILED",
        "SKIPPED",
        "",
    )
    rows: list[tuple[str, ...]] = [header]
    blank = ("",) * (len(header) - 2)
    for m in result.mailboxes:
        if m.error:
            rows.append((m.mailbox, *blank, f"could not be checked: {m.error}"))
            continue
        rows.append(
            (
                m.mailbox,
                *map(str, _figures(m)),
                "ok" if m.ok else "CHECK",
            )
        )
        for f in m.folders:
            name = f"  {f.source_folder}"
            if f.excluded:
                rows.append((name, *blank, f.excluded))
                continue
            verdict = "ok" if f.ok else "CHECK"
            if not f.target_exists:
                verdict += ": no such folder on the target"
            rows.append((f"{name} -> {f.target_folder}", *map(str, _figures(f)), verdict))
    out.write(text_table(rows))
    for m in result.mailboxes:
        for f in m.folders:
            for what, listed, count in (
                ("missing", listed_messages(f.missing, f.missing_messages), f.missing_count),
                ("extra", listed_messages(f.extra, f.extra_messages), f.extra_count),
                (
                    "duplicated",
                    listed_messages(f.duplicated, f.duplicated_messages),
                    f.duplicated_count,
                ),
            ):
                where = f"{m.mailbox} {f.source_folder}"
                for message in listed:  # by date, sender and subject: findable in the mail
                    # A Message-ID is the sender's text: no control character reaches the terminal.
                    out.write(
                        printable(f"{where}: {what} {message.label}: {message.describe()}") + "\n"
                    )
                if count > len(listed):
                    out.write(f"{where}: and {count - len(listed)} more {what}\n")
    out.write(result.summary() + "\n")


def _figures(check: MailboxCheck | FolderCheck) -> tuple[int, ...]:
    return (
        check.source_count,
        check.target_count,
        check.missing_count,
        check.extra_count,
        check.duplicated_count,
        check.failed,
        check.skipped,
    )


def default_verify_step(store: SessionStore) -> str:
    """The final check once a differential copy ran, else the check of the initial copy."""
    runs = CopyLedger(store).runs()
    differential = any(r.mode is RunMode.DIFFERENTIAL for r in runs)
    return store.playbook.number_of(Kind.VERIFY_FINAL if differential else Kind.VERIFY_INITIAL)


def cmd_verify(args: argparse.Namespace) -> int:
    store, jobs = session_or_adhoc_jobs(args, "onboard verify", create_ledger=False)
    try:
        step = args.step or (
            default_verify_step(store)
            if store is not None
            else default_playbook().number_of(Kind.VERIFY_INITIAL)
        )
        result = verify(store, jobs, step=step, concurrency=args.concurrency)
    finally:
        if store is not None:
            store.close()
    if args.json:
        data = result.to_data()
        data["ok"] = result.ok
        data["summary"] = result.summary()
        print_json(data)
    else:
        print_verification(result, sys.stdout)
    if any(m.error for m in result.mailboxes):
        return int(Exit.UNREACHABLE)
    return int(Exit.OK if result.ok else Exit.PROBLEMS)


__all__ = ["DEST_ENV", "SOURCE_ENV", "TextProgress", "cmd_copy", "cmd_verify"]
