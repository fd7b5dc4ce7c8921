"""Values written for the programs that open onboard's exports: spreadsheets and PowerShell.

A CSV cell that begins like a formula is neutralised the way OWASP's CSV-injection rule says (a
leading ``'``, every cell quoted), so a display name ``=cmd|' /C calc'!A0`` stays text in Excel
or LibreOffice. A value in a PowerShell script is a single-quoted literal with every character
PowerShell takes as a single quote doubled, so no value can end the string and become code.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

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
