"""The mailbox list of step 3: one mailbox checked, added or edited, and a CSV of them imported.

A CSV names its columns on the first line. Two layouts are read:

- onboard's own: ``source_login``, ``source_password`` (optional), ``target_address``,
  ``display_name`` (optional); common spellings such as ``login``, ``password``, ``target`` or
  ``email`` are accepted too;
- Microsoft 365's IMAP-migration CSV: ``EmailAddress`` (the new address), ``UserName`` (the login
  on the old server) and ``Password``.

Every row is checked before anything is written and each bad row is reported with its line
number; the rows then go in with one transaction (all or none). Passwords go to the keyring under
``source_password_key(login)``, never into the session file.

The bulk ad-hoc copy (wizard/copy/bulk.py) reads the same layouts with ``BULK_COLUMN_NAMES``: two
more optional columns, ``target_login`` (an IMAP target whose login is not the address) and
``target_password``.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .. import activity
from ..forms import check_email, check_plain, shown
from ..secrets import SecretStore, source_password_key
from ..store import Mailbox, SessionStore

ONBOARD_LAYOUT = "onboard"
M365_LAYOUT = "microsoft-365"

# Canonical column -> the header spellings accepted for it (compared without case, spaces, _ or -).
COLUMN_NAMES: dict[str, tuple[str, ...]] = {
    "source_login": ("sourcelogin", "login", "username", "user", "sourceuser", "imaplogin"),
    "source_password": ("sourcepassword", "password", "imappassword"),
    "target_address": ("targetaddress", "target", "emailaddress", "email", "address"),
    "display_name": ("displayname", "name", "fullname"),
}
# The bulk ad-hoc copy's columns: the step-3 ones and the target's own login and password.
BULK_COLUMN_NAMES: dict[str, tuple[str, ...]] = {
    **COLUMN_NAMES,
    "target_login": ("targetlogin", "targetuser", "targetusername", "destlogin", "destuser"),
    "target_password": ("targetpassword", "destpassword", "destinationpassword"),
}
M365_COLUMNS = ("emailaddress", "username", "password")
REQUIRED = ("source_login", "target_address")
MAX_BYTES = 16 * 1024 * 1024  # a mailbox list, not a mail archive


@dataclass(frozen=True)
class MailboxEntry:
    """One mailbox as the operator typed it or a CSV row gave it, checked and tidied."""

    source_login: str
    target_address: str
    display_name: str = ""
    password: str = field(default="", repr=False)  # empty: keep what the keyring has
    line: int = 0  # the CSV line it came from, 0 when typed in
    target_login: str = ""  # bulk copy only: the IMAP target's login, when not the address
    target_password: str = field(default="", repr=False)  # bulk copy only


@dataclass(frozen=True)
class RowProblem:
    """Why a line of a CSV cannot be imported; line 0 is about the file as a whole."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}" if self.line else self.reason


@dataclass(frozen=True)
class MailboxCsv:
    """A parsed CSV: the good rows and every problem found. Import only when ``ok``."""

    rows: tuple[MailboxEntry, ...]
    problems: tuple[RowProblem, ...]
    layout: str = ONBOARD_LAYOUT

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.rows)


class MailboxImportError(ValueError):
    """The CSV has bad rows; nothing was imported."""

    def __init__(self, source: str, problems: Iterable[RowProblem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        count = len(self.problems)
        super().__init__(
            f"{source}: {count} problem{'s' if count != 1 else ''} found, nothing imported; "
            "fix the file and import it again"
        )


@dataclass(frozen=True)
class ImportResult:
    added: tuple[Mailbox, ...]
    passwords: int  # how many passwords were stored for later runs (keyring or secrets file)
    layout: str
    not_kept: int = 0  # passwords held in memory for this run only: there is nowhere to keep them
    kept_in: str = ""  # where the stored ones went ("the keyring", "the encrypted secrets file …")


# ----- one mailbox ---------------------------------------------------------------------------


def check_mailbox(
    login: str,
    target: str,
    display: str = "",
    *,
    taken: Iterable[str] = (),
    password: str = "",
    line: int = 0,
    target_login: str = "",
    target_password: str = "",
) -> MailboxEntry:
    """Check one mailbox; ``taken`` are target addresses already in use (any case).
    Raises ValueError saying what is wrong."""
    display = check_plain(" ".join(display.split()), "display name")  # line breaks squashed first
    login = check_login(login, "source login")
    if not target.strip():
        raise ValueError("the target address is empty")
    address = check_email(target, "target address")
    if address.lower() in {t.lower() for t in taken}:
        raise ValueError(f"the target address {address} is already in the mailbox list")
    if target_login.strip():
        target_login = check_login(target_login, "target login")
    return MailboxEntry(
        login, address, display, password, line, target_login.strip(), target_password
    )


def check_login(login: str, what: str) -> str:
    """A login name, stripped: not empty, no spaces, no control characters (ValueError)."""
    login = login.strip()
    if not login:
        raise ValueError(f"the {what} is empty")
    if any(ch.isspace() for ch in login):
        raise ValueError(f"the {what} {shown(login)} contains spaces")
    return check_plain(login, what)


def _targets(store: SessionStore, except_id: int | None = None) -> list[str]:
    return [m.target_address for m in store.mailboxes() if m.id != except_id]


def add_mailbox(
    store: SessionStore,
    secrets: SecretStore,
    login: str,
    target: str,
    display: str = "",
    password: str = "",
) -> Mailbox:
    """Check and add one mailbox; a password given goes to the keyring."""
    entry = check_mailbox(login, target, display, taken=_targets(store), password=password)
    (added,) = store.add_mailboxes([(entry.source_login, entry.target_address, entry.display_name)])
    _keep_password(store, secrets, entry.source_login, entry.password)
    activity.log_event(
        store,
        "info",
        "imap",
        "mailbox",
        f"mailbox {added.target_address} added",
        added.target_address,
    )
    return added


def _keep_password(store: SessionStore, secrets: SecretStore, login: str, password: str) -> None:
    if password:
        activity.add_secret(store, password)  # before anything could log it
        secrets.set(source_password_key(login), password)


def edit_mailbox(
    store: SessionStore,
    secrets: SecretStore,
    mailbox_id: int,
    login: str,
    target: str,
    display: str = "",
    password: str = "",
) -> Mailbox:
    """Check and change one mailbox. A new password replaces the stored one; when the login
    changes without one, the stored password moves to the new login."""
    before = next((m for m in store.mailboxes() if m.id == mailbox_id), None)
    if before is None:
        raise ValueError("that mailbox is no longer in the list")
    entry = check_mailbox(
        login, target, display, taken=_targets(store, mailbox_id), password=password
    )
    store.update_mailbox(mailbox_id, entry.source_login, entry.target_address, entry.display_name)
    old_key, new_key = (source_password_key(x) for x in (before.source_login, entry.source_login))
    if entry.password:
        _keep_password(store, secrets, entry.source_login, entry.password)
    elif old_key != new_key:
        kept = secrets.get(old_key)
        if kept is not None and secrets.get(new_key) is None:
            secrets.set(new_key, kept)
    if old_key != new_key and not _login_in_use(store, before.source_login):
        secrets.delete(old_key)
    activity.log_event(
        store,
        "info",
        "imap",
        "mailbox",
        f"mailbox {entry.target_address} edited",
        entry.target_address,
    )
    return next(m for m in store.mailboxes() if m.id == mailbox_id)


def remove_mailbox(store: SessionStore, secrets: SecretStore, mailbox_id: int) -> None:
    """Remove one mailbox and, when no other row uses its login, its stored password."""
    before = next((m for m in store.mailboxes() if m.id == mailbox_id), None)
    store.remove_mailbox(mailbox_id)
    if before is not None:
        if not _login_in_use(store, before.source_login):
            secrets.delete(source_password_key(before.source_login))
        activity.log_event(
            store, "info", "imap", "mailbox", f"mailbox {before.target_address} removed"
        )


def _login_in_use(store: SessionStore, login: str) -> bool:
    return any(m.source_login == login for m in store.mailboxes())


def has_password(secrets: SecretStore, login: str) -> bool:
    return bool(secrets.get(source_password_key(login)))


# ----- CSV ---------------------------------------------------------------------------------


def _squash(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def _decode(data: bytes) -> tuple[str, RowProblem | None]:
    """Text of the file: UTF-8 (with or without BOM) or UTF-16 with its BOM."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), None
        except UnicodeDecodeError:
            return "", RowProblem(0, "the file starts like UTF-16 but is not; save it as UTF-8")
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        byte = data[exc.start]
        return "", RowProblem(
            line,
            f"byte 0x{byte:02x} is not UTF-8 text; save the file as 'CSV UTF-8' and import again",
        )


def _dialect(first_line: str) -> type[csv.Dialect] | csv.Dialect:
    """Comma, or semicolon/tab when the header uses those (European Excel, TSV exports)."""
    counts = {sep: first_line.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    if counts[best] == 0 or best == ",":
        return csv.excel
    return csv.excel_tab if best == "\t" else _Semicolon


class _Semicolon(csv.excel):
    delimiter = ";"


HEADER_EXAMPLE = "source_login,source_password,target_address,display_name"


def known_columns(names: Mapping[str, tuple[str, ...]]) -> str:
    """The columns a CSV may name, for the message about an unknown one."""
    return f"{', '.join(names)} (or Microsoft 365's EmailAddress, UserName, Password)"


def _header(
    fields: list[str], names: Mapping[str, tuple[str, ...]]
) -> tuple[dict[str, int], str, list[RowProblem]]:
    """Map canonical column -> position; the layout; problems with the header line.
    Cells without a name (a trailing separator from a spreadsheet) are ignored."""
    lookup = {alias: column for column, aliases in names.items() for alias in aliases}
    squashed = [_squash(f) for f in fields]
    named = {s for s in squashed if s}
    layout = M365_LAYOUT if named == set(M365_COLUMNS) else ONBOARD_LAYOUT
    if not any(name in lookup for name in squashed):
        return (
            {},
            layout,
            [RowProblem(1, f"the first line must name the columns, e.g. {HEADER_EXAMPLE}")],
        )
    problems: list[RowProblem] = []
    columns: dict[str, int] = {}
    for position, (raw, name) in enumerate(zip(fields, squashed, strict=True)):
        if not raw.strip():
            continue
        column = lookup.get(name)
        if column is None:
            problems.append(
                RowProblem(
                    1, f"unknown column {raw.strip()!r}; the columns are {known_columns(names)}"
                )
            )
        elif column in columns:
            problems.append(RowProblem(1, f"column {raw.strip()!r} appears twice"))
        else:
            columns[column] = position
    missing = [c for c in REQUIRED if c not in columns]
    if missing and not problems:
        problems.append(RowProblem(1, f"the header has no {' and '.join(missing)} column"))
    return columns, layout, problems


def _row_reader(fields: list[str], columns: dict[str, int]) -> Callable[[str], str]:
    def cell(column: str) -> str:
        position = columns.get(column)
        return fields[position].strip() if position is not None else ""

    return cell


def parse_mailbox_csv(
    data: bytes | str,
    *,
    taken: Iterable[str] = (),
    names: Mapping[str, tuple[str, ...]] = COLUMN_NAMES,
) -> MailboxCsv:
    """Parse and check a mailbox CSV; ``taken`` are target addresses already in the session;
    ``names`` the columns it may have (``BULK_COLUMN_NAMES`` for a bulk copy)."""
    if isinstance(data, bytes):
        text, problem = _decode(data)
        if problem:
            return MailboxCsv((), (problem,))
    else:
        text = data.removeprefix("\ufeff")
    if not text.strip():
        return MailboxCsv((), (RowProblem(0, "the file is empty: no header and no mailboxes"),))
    if "\x00" in text:
        return MailboxCsv((), (RowProblem(0, "the file is not text (it contains NUL bytes)"),))

    first_line = text.lstrip("\r\n").splitlines()[0]
    reader = csv.reader(io.StringIO(text, newline=""), _dialect(first_line))
    problems: list[RowProblem] = []
    rows: list[MailboxEntry] = []
    session_taken = {t.lower() for t in taken}
    seen: dict[str, int] = {}  # target (lower case) -> line it first appeared on
    columns: dict[str, int] | None = None
    layout = ONBOARD_LAYOUT
    width = 0
    line_end = 0
    try:
        for fields in reader:
            line, line_end = line_end + 1, reader.line_num
            if not any(f.strip() for f in fields):
                continue  # blank lines are allowed anywhere
            if columns is None:
                columns, layout, header_problems = _header(fields, names)
                if header_problems:
                    # Renumber: the header may follow blank lines.
                    return MailboxCsv(
                        (), tuple(RowProblem(line, p.reason) for p in header_problems)
                    )
                width = len(fields)
                continue
            if any("\n" in f or "\r" in f for f in fields) and _quote_left_open(text, line):
                # The reader ran to the end of the file inside one field: say where it opened.
                reason = 'a quote (") opened on this line is never closed; close it or remove it'
                problems.append(RowProblem(line, reason))
                continue
            if len(fields) != width:
                problems.append(
                    RowProblem(
                        line,
                        f"{len(fields)} field{'s' if len(fields) != 1 else ''} where the header "
                        f"has {width}; check for a missing or extra separator",
                    )
                )
                continue

            cell = _row_reader(fields, columns)

            try:
                entry = check_mailbox(
                    cell("source_login"),
                    cell("target_address"),
                    cell("display_name"),
                    password=cell("source_password"),
                    line=line,
                    target_login=cell("target_login"),
                    target_password=cell("target_password"),
                )
            except ValueError as exc:
                problems.append(RowProblem(line, str(exc)))
                continue
            key = entry.target_address.lower()
            if key in seen:
                problems.append(
                    RowProblem(
                        line,
                        f"the target address {entry.target_address} is already on line {seen[key]}",
                    )
                )
                continue
            seen[key] = line
            if key in session_taken:
                problems.append(
                    RowProblem(
                        line,
                        f"the target address {entry.target_address} is already in the mailbox list",
                    )
                )
                continue
            rows.append(entry)
    except csv.Error as exc:
        problems.append(RowProblem(reader.line_num, f"unreadable CSV ({exc})"))
    if columns is None:
        problems.append(RowProblem(0, "the file is empty: no header and no mailboxes"))
    elif not rows and not problems:
        problems.append(RowProblem(0, "the file has a header but no mailboxes"))
    return MailboxCsv(tuple(rows), tuple(problems), layout)


def _quote_left_open(text: str, line: int) -> bool:
    """Whether the text from `line` on holds an odd number of quotes (a doubled one counts 2)."""
    tail = re.split(r"\r\n|\r|\n", text)[line - 1 :]
    return "\n".join(tail).count('"') % 2 == 1


def read_mailbox_csv(
    path: Path | str,
    *,
    taken: Iterable[str] = (),
    names: Mapping[str, tuple[str, ...]] = COLUMN_NAMES,
) -> MailboxCsv:
    """Read and check a CSV file; a file that cannot be read is a problem, not an exception."""
    path = Path(path).expanduser()
    try:
        if path.is_dir():
            return MailboxCsv((), (RowProblem(0, f"{path} is a folder, not a CSV file"),))
        if path.stat().st_size > MAX_BYTES:
            return MailboxCsv((), (RowProblem(0, f"{path} is too big for a mailbox list"),))
        data = path.read_bytes()
    except FileNotFoundError:
        return MailboxCsv((), (RowProblem(0, f"there is no file at {path}"),))
    except OSError as exc:
        return MailboxCsv((), (RowProblem(0, f"cannot read {path}: {exc.strerror or exc}"),))
    return parse_mailbox_csv(data, taken=taken, names=names)


def import_mailboxes(
    store: SessionStore, secrets: SecretStore, source: Path | str | bytes
) -> ImportResult:
    """Import a CSV (a path, or the file's bytes): every row or none.

    Raises MailboxImportError with every problem, line by line, when any row is bad."""
    taken = _targets(store)
    if isinstance(source, bytes):
        parsed, name = parse_mailbox_csv(source, taken=taken), "the CSV"
    else:
        parsed, name = read_mailbox_csv(source, taken=taken), str(source)
    if not parsed.ok:
        activity.log_event(
            store,
            "warning",
            "imap",
            "import",
            f"mailbox CSV {name} refused: {len(parsed.problems)} problem(s), nothing imported",
            lines=[p.line for p in parsed.problems],
        )
        raise MailboxImportError(name, parsed.problems)
    for row in parsed.rows:
        if row.password:
            activity.add_secret(store, row.password)
    try:
        added = store.add_mailboxes(
            [(r.source_login, r.target_address, r.display_name) for r in parsed.rows]
        )
    except ValueError as exc:  # someone added one of these addresses meanwhile
        raise MailboxImportError(name, [RowProblem(0, str(exc))]) from None
    written: list[str] = []
    try:
        for row in parsed.rows:
            if row.password:
                key = source_password_key(row.source_login)
                secrets.set(key, row.password)
                written.append(key)
    except BaseException:
        # The keyring failed half-way: take the rows out again so the import stays all-or-none.
        for mailbox in added:
            store.remove_mailbox(mailbox.id)
        for key in written:
            with contextlib.suppress(Exception):
                secrets.delete(key)
        raise
    kept = len(written) if secrets.persistent else 0
    activity.log_event(
        store,
        "info" if kept == len(written) else "warning",
        "imap",
        "import",
        f"{len(added)} mailbox(es) imported from {name} ({parsed.layout} columns), "
        f"{kept} password(s) stored in {secrets.where.label}"
        + (f", {len(written) - kept} kept for this run only" if kept != len(written) else ""),
    )
    return ImportResult(tuple(added), kept, parsed.layout, len(written) - kept, secrets.where.label)
