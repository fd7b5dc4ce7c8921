"""What every `onboard` verb shares: exit codes, opening a session, passwords, JSON and errors."""

from __future__ import annotations

import argparse
import getpass
import importlib
import json
import os
import sys
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from .envvars import PASSPHRASE_ENV

if TYPE_CHECKING:
    from .secrets import SecretStore
    from .store import SessionStore

# Building the parser (`onboard --help`, `onboard copy --help`) and starting a headless verb
# import this module: what it needs of the session store, the secrets and the redaction is
# imported in the function that uses it, so a verb loads only what it runs (issue 16: start-up).


class Exit(IntEnum):
    """Exit codes of `onboard`, listed in `onboard --help`."""

    OK = 0
    PROBLEMS = 1  # the command ran; what it checked needs fixing (or some items failed)
    USAGE = 2  # bad arguments or input
    NOT_FOUND = 3  # no such session
    LOCKED = 4  # the session is open in another onboard, or another copy holds the mailbox
    DAMAGED = 5  # the session file is damaged or from a newer onboard
    UNREACHABLE = 6  # a server could not be reached or refused the login
    READ_ONLY = 7  # the session file or its folder cannot be written
    INCOMPLETE = 8  # the session file lacks tables or columns of its format
    EMPTY = 9  # the session file is empty (0 bytes)
    VANISHED = 10  # the session file or its folder disappeared while onboard worked
    INTERRUPTED = 130


EXIT_CODES_HELP = """exit codes:
  0    success
  1    the command ran and found problems to fix (failed checks, failed messages)
  2    bad arguments or input
  3    no such session
  4    the session is open in another onboard process, or another `onboard copy`
       is copying the same mailbox (it says who: host, pid, since when)
  5    the session file is damaged or was written by a newer onboard
  6    a server could not be reached, or it refused the login
  7    the session file (or its folder) is read-only for this user; nothing was changed
  8    the session file is incomplete (a table or column is missing); left untouched
  9    the session file is empty (0 bytes); left untouched
  10   the session file or its folder disappeared while onboard was working with it
  130  interrupted (Ctrl+C)

  A session file with code 5, 8 or 9 is removed, with its secrets, by
  `onboard delete NAME --force`, which first says what it will remove.
"""


def session_exit(exc: Exception) -> Exit:
    """The exit code of a session file problem (damaged, read-only, incomplete, empty, gone)."""
    return Exit(getattr(exc, "exit_code", Exit.DAMAGED))


class CommandError(Exception):
    """An error that ends a command with a message for the operator and an exit code."""

    def __init__(self, message: str, code: Exit = Exit.USAGE) -> None:
        super().__init__(message)
        self.code = code


def fail(message: str, code: Exit = Exit.USAGE) -> NoReturn:
    raise CommandError(message, code)


@dataclass(frozen=True)
class VerbHandler:
    """A verb's handler named by module and function: building the parser (each verb's name,
    help and arguments) loads no engine; the module is imported when its verb runs."""

    module: str  # e.g. "wizard.copy.cli"
    function: str  # e.g. "cmd_copy"

    def resolve(self) -> Any:
        return getattr(importlib.import_module(self.module), self.function)

    def __call__(self, args: argparse.Namespace) -> int:
        return int(self.resolve()(args))


def verb_handler(module: str, function: str) -> VerbHandler:
    """The handler of a verb, imported from ``module`` only when the verb runs."""
    return VerbHandler(module, function)


def add_resolver_argument(parser: argparse.ArgumentParser, what: str) -> None:
    """``--resolver IP[:PORT]`` (repeatable), as every verb that asks DNS names it."""
    parser.add_argument(
        "--resolver",
        metavar="IP[:PORT]",
        action="append",
        default=[],
        help=f"{what}ask this DNS server instead of the system resolver (repeat for several)",
    )


def print_json(data: Any) -> None:
    """JSON on stdout for scripts; what servers said in it carries no secret of this process."""
    from .redaction import redact_in_use

    data = redact_in_use(json.loads(json.dumps(data, default=str)))
    json.dump(data, sys.stdout, indent=2, sort_keys=True, default=str, ensure_ascii=False)
    sys.stdout.write("\n")


def ask_passphrase(path: Path, new: bool, again: str) -> str:
    """Ask on the terminal for the encrypted secrets file's passphrase ("": keep secrets in memory)."""
    if again:
        print(f"onboard: {again}", file=sys.stderr)
    elif new:
        print(
            "onboard: this machine has no system keyring. onboard can keep passwords in an "
            f"encrypted file ({path}) so that a later run can resume; choose a passphrase for it "
            "(empty: keep them in memory for this run only).",
            file=sys.stderr,
        )
    else:
        print(
            f"onboard: no system keyring here; passwords are in the encrypted file {path} "
            f"(empty: do without them for this run; {PASSPHRASE_ENV} skips this question).",
            file=sys.stderr,
        )
    while True:
        passphrase = getpass.getpass("Passphrase of onboard's secrets file: ")
        if not passphrase or not new:
            return passphrase
        if getpass.getpass("The same passphrase again: ") == passphrase:
            return passphrase
        print("onboard: the two passphrases differ; once more.", file=sys.stderr)


def resolve_password(*, env_var: str, secrets: SecretStore | None, key: str, prompt: str) -> str:
    """A password from the environment, the keyring, or a prompt; never from the command line."""
    from .secrets import SecretsWhere, remember_in_use

    value = os.environ.get(env_var)
    if value:
        return remember_in_use(value) or value
    if secrets is not None:
        stored = secrets.get(key)
        if stored:
            return stored
    if not sys.stdin.isatty():
        kept = (
            "store it in the keyring"
            if secrets is None or secrets.where is not SecretsWhere.MEMORY
            else f"set {PASSPHRASE_ENV} to open the encrypted secrets file (there is no keyring)"
        )
        fail(f"no password: set {env_var}, {kept}, or run in a terminal to be asked", Exit.USAGE)
    return remember_in_use(getpass.getpass(prompt)) or ""


def open_session(
    name: str, *, lock: str | None = "exclusive", what: str = "onboard"
) -> SessionStore:
    """Open a session by name or path, turning store errors into operator messages and exit codes."""
    from .session import session_path

    path = session_path(name)
    if not path.exists():
        fail(f"there is no session named {name!r} (see `onboard sessions`)", Exit.NOT_FOUND)
    return open_session_file(path, lock=lock, what=what)


def open_session_file(
    path: Path, *, lock: str | None = "exclusive", what: str = "onboard"
) -> SessionStore:
    """Open a session file, turning a lock or a damaged file into an operator message."""
    from .store import SessionDamaged, SessionError, SessionLocked, SessionStore, SessionTooNew

    try:
        return SessionStore.open(path, lock=lock, what=what)
    except SessionLocked as exc:
        fail(str(exc), Exit.LOCKED)
    except (SessionDamaged, SessionTooNew, SessionError) as exc:
        fail(str(exc), session_exit(exc))
