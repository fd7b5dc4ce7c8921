"""Onboard's exports: written for the operator alone, with values safe for the programs that open
them (spreadsheets and PowerShell).

Every export (reports, bundles, plans, provisioning lists) holds the customer's data, so it is
written 0600 whatever the umask, through a temporary file renamed into place.

A CSV cell that begins like a formula is neutralised the way OWASP's CSV-injection rule says (a
leading ``'``, every cell quoted), so a display name ``=cmd|' /C calc'!A0`` stays text in Excel
or LibreOffice. A value in a PowerShell script is a single-quoted literal with every character
PowerShell takes as a single quote doubled, so no value can end the string and become code.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

PRIVATE_MODE = 0o600

# OWASP: a cell starting with one of these is read as a formula (or a DDE call) by spreadsheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# Every character PowerShell's tokenizer takes as a single quote: ' ‘ ’ ‚ ‛
POWERSHELL_SINGLE_QUOTES = "'\u2018\u2019\u201a\u201b"

# ... and as a double quote, for a double-quoted string: " “ ” „
POWERSHELL_DOUBLE_QUOTES = '"\u201c\u201d\u201e'


def spreadsheet_cell(value: object) -> str:
    """The text of one CSV cell, with a leading ``'`` when a spreadsheet would run it."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A CSV export (CRLF lines, every cell quoted) whose cells no spreadsheet runs as formulas."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    writer.writerow([spreadsheet_cell(cell) for cell in header])
    for row in rows:
        writer.writerow([spreadsheet_cell(cell) for cell in row])
    return out.getvalue()


def powershell_literal(text: str) -> str:
    """A PowerShell single-quoted string of `text`: quotes of every kind doubled, nothing expanded."""
    doubled = "".join(c + c if c in POWERSHELL_SINGLE_QUOTES else c for c in text)
    return f"'{doubled}'"


def powershell_comment(text: str) -> str:
    """`text` made safe for a ``#`` comment line: no line break or control character ends it."""
    return "".join(c if c.isprintable() else " " for c in text)


@contextlib.contextmanager
def private_file(path: Path) -> Iterator[BinaryIO]:
    """A binary file at `path`, mode 0600 whatever the umask, in place only once written whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_MODE)
    try:
        os.fchmod(fd, PRIVATE_MODE)  # a .part left by an older run may have had another mode
        with os.fdopen(fd, "wb") as out:
            yield out
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise
    partial.replace(path)


def write_private(path: Path, data: str | bytes, encoding: str = "utf-8") -> Path:
    """Write an export 0600 (see `private_file`); `encoding` for text ("utf-8-sig" for .ps1)."""
    with private_file(path) as out:
        out.write(data.encode(encoding) if isinstance(data, str) else data)
    return path
