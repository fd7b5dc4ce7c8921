"""The `onboard` command: the one place that wires the core and the Textual UI together.

The UI is imported only inside the functions that start it, so headless verbs (checks, copies,
reports) never load Textual.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__, serve
from .cliutil import (
    EXIT_CODES_HELP,
    CommandError,
    Exit,
    fail,
    open_session,
    print_json,
    session_exit,
)
from .copy import verbs as copy_verbs
from .devservers.ews import verbs as sandbox_verbs
from .dns import verbs as dns_verbs
from .envvars import DEST_PASSWORD_ENV, SOURCE_PASSWORD_ENV
from .exchange import verbs as exchange_verbs
from .imap import verbs as imap_verbs

if TYPE_CHECKING:
    from .profile import ProviderProfile
    from .store import SessionStore

# Building the parser loads no engine, no session store and no UI: each handler imports what
# it runs, so `onboard copy --help` and a headless check start fast (issue 16).
# Engines add their verbs here: each light `verbs` module has register(subparsers,
# check_subparsers) and names its handlers, which are imported only when their verb runs.
VERB_MODULES = (copy_verbs, sandbox_verbs, dns_verbs, imap_verbs, exchange_verbs)

Handler = Callable[[argparse.Namespace], int]


def _profile(args: argparse.Namespace) -> ProviderProfile:
    from .profile import ProfileError, load_profile

    try:
        return load_profile(getattr(args, "profile", None))
    except ProfileError as exc:
        fail(str(exc), Exit.USAGE)


def _run_app(**kwargs: Any) -> int:
    web = os.environ.get("TEXTUAL_DRIVER", "").endswith(":WebDriver")  # `onboard serve`'s tab
    if not web and not (sys.stdin.isatty() and sys.stdout.isatty()):  # else Textual would spin
        store = kwargs.get("store")
        hint = f" `onboard resume {store.name}` opens it later;" if store is not None else ""
        if store is not None:
            store.close()
        fail(
            "the app needs a terminal, and standard input or output is not one:"
            f"{hint} run it from a terminal, or use the headless verbs (`onboard --help`)",
            Exit.USAGE,
        )
    from screens.app import OnboardApp  # the UI is loaded only when it is shown

    from .secrets import open_file_store, set_passphrase_prompt

    # Without a keyring the secrets file's passphrase is asked now, before the app owns the
    # terminal; the app itself never asks (nor the demo, whose secrets are thrown away).
    open_file_store(ask=not kwargs.get("demo"))
    set_passphrase_prompt(None)

    app = OnboardApp(**kwargs)
    if web:  # quits when serve's server goes away, instead of keeping the session locked
        from screens.web_driver import ServedWebDriver

        app.driver_class = ServedWebDriver
    app.run()
    return int(app.return_code or 0)


def cmd_start(args: argparse.Namespace) -> int:
    if args.demo:
        from .devservers.demo.run import run_demo  # demo servers around the app, stopped after it

        if args.resume or args.profile:
            fail("--demo opens its own demo session and provider: leave out --resume/--profile")
        return run_demo(_run_app)
    profile = _profile(args) if args.profile else None
    if args.resume:
        return _resume(args.resume, profile=profile)
    return _run_app(profile=profile, demo=args.demo)


def _resume(name: str, **kwargs: Any) -> int:
    """Open a saved session in the app; the demo session comes with its demo servers, which
    exist only while `onboard --demo` runs (without them every check of it would fail)."""
    store = open_session(name)
    if not store.demo:
        return _run_app(store=store, **kwargs)
    store.close()
    from .devservers.demo.run import run_demo

    print(f"{name} is the demo session: starting its demo servers with it.", file=sys.stderr)
    return run_demo(_run_app, name=store.name)


def cmd_new(args: argparse.Namespace) -> int:
    from .session import create_session
    from .store import SessionExists

    profile = _profile(args)
    try:
        store = create_session(
            args.customer,
            args.domain,
            profile,
            third_party_filter=args.third_party_filter,
            name=args.name,
        )
    except ValueError as exc:
        fail(str(exc), Exit.USAGE)
    except SessionExists as exc:
        fail(str(exc), Exit.USAGE)
    if args.json:
        print_json({"name": store.name, "path": str(store.path)})
    else:
        print(f"Created session {store.name} for {store.customer} ({store.domain}) at {store.path}")
    if args.no_open or args.json:
        store.close()
        return Exit.OK
    return _run_app(store=store)


def cmd_resume(args: argparse.Namespace) -> int:
    return _resume(args.name)


def cmd_sessions(args: argparse.Namespace) -> int:
    from .session import list_sessions

    rows = list_sessions()
    if args.json:
        print_json(
            [
                {
                    "name": r.name,
                    "path": str(r.path),
                    "customer": r.customer,
                    "domain": r.domain,
                    "current_step": r.current_step,
                    "steps_done": r.done,
                    "steps_total": r.total,
                    "updated_at": r.updated_at,
                    "demo": r.demo,
                    "problem": r.problem,
                }
                for r in rows
            ]
        )
        return Exit.OK
    if not rows:
        print("No saved sessions. Start one with `onboard new CUSTOMER --domain DOMAIN`.")
        return Exit.OK
    header = ("NAME", "CUSTOMER", "DOMAIN", "STEP", "DONE", "LAST CHANGE")
    table = [header]
    for r in rows:
        if r.problem:
            table.append((r.name, "(unreadable)", r.problem[:60], "", "", ""))
        else:
            customer = r.customer + (" [demo]" if r.demo else "")
            table.append(
                (r.name, customer, r.domain, r.current_step, f"{r.done}/{r.total}", r.updated_at)
            )
    widths = [max(len(str(row[i])) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(str(cell).ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
    return Exit.OK


def _confirmed(args: argparse.Namespace, question: str) -> bool:
    if args.yes:
        return True
    if not sys.stdin.isatty():
        fail("refusing to delete without --yes when not in a terminal", Exit.USAGE)
    return input(f"{question} [y/N] ").strip().lower() in {"y", "yes"}


def cmd_delete(args: argparse.Namespace) -> int:
    from .session import delete_session, session_path
    from .store import SessionDamaged, SessionError, SessionLocked, SessionStore, SessionTooNew

    path = session_path(args.name)
    if not path.exists():
        fail(f"there is no session named {args.name!r}", Exit.NOT_FOUND)
    try:
        SessionStore.open(path, lock=None).close()  # a session that opens goes the usual way
    except (SessionDamaged, SessionTooNew) as exc:
        if not args.force:
            hint = (
                ""
                if "--force" in str(exc)
                else f"\nTo remove it anyway, with the secrets it names: onboard delete "
                f"{args.name} --force (it says what it removes first)"
            )
            fail(f"{exc}{hint}", session_exit(exc))
        return _delete_damaged(args, path)
    except SessionError:
        pass  # an older format or a read-only file: the usual deletion says what stops it
    if not _confirmed(args, f"Delete session {args.name} and its saved secrets?"):
        print("Nothing deleted.")
        return Exit.OK
    try:
        delete_session(args.name)
    except SessionLocked as exc:
        fail(str(exc), Exit.LOCKED)
    print(f"Deleted session {args.name}.")
    return Exit.OK


def _write_pdf_report(store: SessionStore, args: argparse.Namespace) -> int:
    """The HTML report printed to a PDF file (binary, so never to stdout), readable by its owner."""
    from .exports import write_private
    from .report import render_report, report_filename
    from .report.pdf import PdfUnavailable, html_to_pdf
    from .session import exports_dir

    try:
        target = Path(args.output) if args.output else exports_dir() / report_filename(store, "pdf")
        html = render_report(store, "html", args.audience)
    finally:
        store.close()
    try:
        data = html_to_pdf(html)
    except PdfUnavailable as exc:
        fail(str(exc), Exit.PROBLEMS)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_private(target, data)
    except OSError as exc:
        fail(f"could not write the PDF report to {target}: {exc.strerror or exc}", Exit.USAGE)
    print(f"Wrote the pdf report of {args.name} to {target}")
    return Exit.OK


def _delete_damaged(args: argparse.Namespace, path: Path) -> int:
    """`delete --force` of a session that does not open: say what goes, then remove it."""
    from .session_checks import inspect_damaged, remove_damaged

    damaged = inspect_damaged(path)
    print(f"Session {args.name} cannot be opened; --force removes:")
    for file in damaged.files:
        print(f"  file    {file}")
    for key in damaged.secret_keys:
        print(f"  secret  {key} (service onboard:{path.stem})")
    if not damaged.keys_complete:
        print(
            f"  (the file is too damaged to list every secret: look for service onboard:{path.stem}"
            " in the keyring and remove what is left there)"
        )
    if not _confirmed(args, f"Remove these {len(damaged.files)} file(s) and secrets?"):
        print("Nothing deleted.")
        return Exit.OK
    remove_damaged(damaged)
    print(f"Deleted the damaged session {args.name}.")
    return Exit.OK


def cmd_report(args: argparse.Namespace) -> int:
    from .exports import write_private
    from .report import render_report

    if args.with_log and args.format == "pdf":
        fail("the --with-log bundle holds the md, html or json report: choose one of those")
    store = open_session(args.name, lock=None)
    if args.with_log:
        from .report.bundle import bundle_filename, write_bundle
        from .session import exports_dir

        try:
            target = Path(args.output) if args.output else exports_dir() / bundle_filename(store)
            path = write_bundle(store, args.format, target)
        except OSError as exc:
            fail(f"could not write the report bundle: {exc.strerror or exc}", Exit.USAGE)
        finally:
            store.close()
        print(f"Wrote the {args.format} report of {args.name} with its activity log to {path}")
        return Exit.OK
    if args.format == "pdf":
        return _write_pdf_report(store, args)
    try:
        text = render_report(store, args.format, args.audience)
    finally:
        store.close()
    if args.output:
        try:
            write_private(Path(args.output), text)
        except OSError as exc:
            fail(f"could not write the report to {args.output}: {exc.strerror or exc}", Exit.USAGE)
        print(f"Wrote the {args.format} report of {args.name} to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return Exit.OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="onboard",
        description=(
            "Walk an IMAP-to-hosted-Exchange onboarding step by step. Without a verb, opens the "
            "start screen."
        ),
        epilog=EXIT_CODES_HELP + "\nenvironment:\n"
        f"  {SOURCE_PASSWORD_ENV}  password for the old IMAP server (headless verbs)\n"
        f"  {DEST_PASSWORD_ENV}    password for the target (Exchange or IMAP)\n"
        "  ONBOARD_DATA_DIR         where sessions are kept (default: the user's data directory)\n"
        "  ONBOARD_SECRETS_PASSPHRASE  opens the encrypted secrets file where there is no keyring\n"
        "  ONBOARD_OPERATOR         the name recorded as who did what (default: login name)\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"onboard {__version__}")
    parser.add_argument("--profile", metavar="FILE", help="provider profile (TOML)")
    parser.add_argument("--resume", metavar="NAME", help="open a saved session")
    parser.add_argument(
        "--demo", action="store_true", help="start a demo with local servers, needs no setup"
    )
    parser.set_defaults(handler=cmd_start)
    sub = parser.add_subparsers(title="verbs", metavar="VERB")

    p = sub.add_parser("new", help="start a new onboarding session")
    p.add_argument("customer", help="customer name, as shown in the report")
    p.add_argument("--domain", required=True, help="the customer's mail domain")
    p.add_argument("--profile", metavar="FILE", help="provider profile (TOML)")
    p.add_argument(
        "--third-party-filter",
        action="store_true",
        help="the customer keeps a third-party mail filtering service in front",
    )
    p.add_argument("--name", help="session name (default: from the customer name)")
    p.add_argument("--no-open", action="store_true", help="create it without opening the app")
    p.add_argument("--json", action="store_true", help="print the new session as JSON, do not open")
    p.set_defaults(handler=cmd_new)

    p = sub.add_parser("resume", help="open a saved session on the step where it was left")
    p.add_argument("name")
    p.set_defaults(handler=cmd_resume)

    p = sub.add_parser("sessions", help="list saved sessions")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_sessions)

    p = sub.add_parser("delete", help="delete a saved session")
    p.add_argument("name")
    p.add_argument("--yes", action="store_true", help="do not ask")
    p.add_argument(
        "--force",
        action="store_true",
        help="also a session that does not open (damaged, empty, incomplete): lists the files "
        "and secrets it removes first",
    )
    p.set_defaults(handler=cmd_delete)

    p = sub.add_parser("report", help="export the completion report of a session")
    p.add_argument("name")
    p.add_argument(
        "--format",
        choices=("md", "html", "json", "pdf"),
        default="md",
        help="pdf is the html report printed by Chromium, written to FILE or the exports folder",
    )
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    p.add_argument(
        "--audience",
        choices=("customer", "operator"),
        default="customer",
        help="customer (default): no local paths or commands; operator: adds an appendix with "
        "the session file, the activity log and commands (the --with-log bundle has it)",
    )
    p.add_argument(
        "--with-log",
        action="store_true",
        help="write a zip with the report, the activity log and a README (to FILE or the exports "
        "folder) and print its path",
    )
    p.set_defaults(handler=cmd_report)

    serve.register(sub)

    check = sub.add_parser("check", help="headless checks: imap, ews, dns")
    check_sub = check.add_subparsers(title="checks", metavar="WHAT", required=True)

    for module in VERB_MODULES:
        module.register(sub, check_sub)
    return parser


def _say_failure(exc: BaseException) -> int | None:
    """Print what ended a verb and give its exit code; None for an error that is a bug.
    (Imported here, not at the top: only a failed verb needs the error types and the redaction.)"""
    if isinstance(exc, KeyboardInterrupt):
        print("onboard: interrupted", file=sys.stderr)
        return int(Exit.INTERRUPTED)
    from .forms import printable
    from .redaction import redact_in_use
    from .secrets import SecretsFileError
    from .session_records import SessionError

    if isinstance(exc, SecretsFileError):
        print(f"onboard: {exc}", file=sys.stderr)
        return int(Exit.USAGE)
    if isinstance(exc, CommandError | SessionError):
        # Input it echoes stays inert; what a server said in it carries no secret.
        print(printable(redact_in_use(f"onboard: {exc}")), file=sys.stderr)
        return int(exc.code) if isinstance(exc, CommandError) else int(session_exit(exc))
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if sys.stdin.isatty():
        from .cliutil import ask_passphrase
        from .secrets import set_passphrase_prompt

        set_passphrase_prompt(ask_passphrase)
    try:
        return int(args.handler(args))
    except (Exception, KeyboardInterrupt) as exc:
        code = _say_failure(exc)
        if code is None:
            raise
        return code


if __name__ == "__main__":
    sys.exit(main())
