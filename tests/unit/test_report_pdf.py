"""`onboard report --format pdf`: the HTML report printed by a real headless Chromium, read back
with poppler (pdftotext for its words, pdftoppm for a page image), and no secret in it."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from wizard.cli import main
from wizard.profile import example_profile
from wizard.report.pdf import find_browser
from wizard.secrets import SecretStore, source_password_key
from wizard.session import create_session
from wizard.store import StepState

PLANTED = "Pl4nted-pdf-secret"


def _need(tool: str | None, what: str) -> None:
    if tool:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is missing under CI: scripts/test must install it")
    pytest.skip(f"{what} is not installed")


@pytest.fixture
def session_name() -> str:
    store = create_session("Acme Corp", "acme.example", example_profile())
    store.add_mailboxes([("tom", "tom@acme.example", "Tom Jones")])
    SecretStore(store.name).set(source_password_key("tom"), PLANTED)
    store.set_note("3", f"temporary password {PLANTED}")
    store.set_step_state("1", StepState.DONE, actor="alice")
    name = store.name
    store.close()
    return name


def test_pdf_report_has_the_customer_and_steps_and_no_secret(
    session_name: str, tmp_path: Path
) -> None:
    _need(find_browser(), "Chromium (Debian package chromium)")
    _need(shutil.which("pdftotext") and shutil.which("pdftoppm"), "poppler-utils")
    out = tmp_path / "acme.pdf"
    os.umask(0o022)
    assert main(["report", session_name, "--format", "pdf", "-o", str(out)]) == 0
    assert out.read_bytes().startswith(b"%PDF-")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # it holds the customer's data
    text = subprocess.run(
        ["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Acme Corp" in text and "acme.example" in text
    assert "Agree the account terms" in text  # a step title, from the playbook
    assert PLANTED not in text and "[redacted]" in text
    subprocess.run(
        ["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(out), str(tmp_path / "page")],
        check=True,
    )
    page = next(tmp_path.glob("page*.png"))
    assert page.read_bytes().startswith(b"\x89PNG") and page.stat().st_size > 2000


def test_pdf_without_a_browser_says_what_to_install(
    session_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("ONBOARD_CHROMIUM", "no-such-browser-here")
    out = tmp_path / "acme.pdf"
    assert main(["report", session_name, "--format", "pdf", "-o", str(out)]) == 1
    assert "needs Chromium" in capsys.readouterr().err
    assert not out.exists()


def test_pdf_is_not_a_bundle_format(session_name: str, capsys) -> None:
    assert main(["report", session_name, "--format", "pdf", "--with-log"]) == 2
    assert "md, html or json" in capsys.readouterr().err
