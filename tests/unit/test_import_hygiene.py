"""The core never loads Textual (checked in a fresh interpreter) and the import contracts hold."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_core_and_cli_load_no_textual_module() -> None:
    code = """
import pkgutil, importlib, sys
import wizard, wizard.cli
wizard.cli.build_parser()  # registers every engine's verbs
for info in pkgutil.walk_packages(wizard.__path__, "wizard."):
    importlib.import_module(info.name)
loaded = sorted(m for m in sys.modules if m == "textual" or m.startswith(("textual.", "screens")))
print(len([m for m in sys.modules if m.startswith("wizard")]))
print(",".join(loaded))
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    count, loaded = result.stdout.splitlines()
    assert int(count) >= 10
    assert loaded == "", f"the core loaded UI modules: {loaded}"


def test_import_linter_contract_holds() -> None:
    lint = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    result = subprocess.run([lint], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "The core (wizard) never imports the UI KEPT" in result.stdout
    assert "Screens never write to the session directly: no wizard.store at run time KEPT" in (
        result.stdout
    )
    assert "Layers: core -> engines -> steps -> report -> UI and dev servers -> cli KEPT" in (
        result.stdout
    )
    assert "The UI never imports the command line KEPT" in result.stdout
