"""The HTML report printed to PDF by a headless Chromium (its own print-to-PDF, no cipher or
layout engine of ours), so the customer gets a file to sign that looks like the HTML report."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


class PdfUnavailable(RuntimeError):
    """No browser to print with, or it failed; the message says what to install or check."""


def find_browser() -> str | None:
    """The Chromium to print with: ``ONBOARD_CHROMIUM`` when set, else the first on PATH."""
    explicit = os.environ.get("ONBOARD_CHROMIUM")
    if explicit:
        return explicit if shutil.which(explicit) else None
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


def html_to_pdf(html: str, *, timeout: float = 90.0) -> bytes:
    """Print a self-contained HTML page to PDF bytes; nothing is fetched from the network."""
    browser = find_browser()
    if browser is None:
        raise PdfUnavailable(
            "a PDF report needs Chromium, which is not installed here: install the Debian "
            "package chromium (or set ONBOARD_CHROMIUM to a Chrome/Chromium binary), or export "
            "--format html and print it from a browser"
        )
    with tempfile.TemporaryDirectory(prefix="onboard-pdf-") as work:
        page = Path(work) / "report.html"
        out = Path(work) / "report.pdf"
        page.write_text(html, encoding="utf-8")
        command = [
            browser,
            "--headless",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--disable-background-networking",
            f"--user-data-dir={Path(work) / 'profile'}",
            "--no-pdf-header-footer",  # no file path or date stamped by the browser on the page
            f"--print-to-pdf={out}",
            page.as_uri(),
        ]
        if os.geteuid() == 0:  # Chromium refuses to run as root with its sandbox
            command.insert(1, "--no-sandbox")
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            raise PdfUnavailable(
                f"Chromium ({browser}) did not finish printing the report within {timeout:.0f} s"
            ) from None
        if done.returncode != 0 or not out.exists() or out.stat().st_size == 0:
            detail = (done.stderr or "").strip().splitlines()[-1:] or ["no output"]
            raise PdfUnavailable(
                f"Chromium ({browser}) could not print the report (exit {done.returncode}: "
                f"{detail[0][:200]})"
            )
        return out.read_bytes()
