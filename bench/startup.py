"""Benchmark: how long headless `onboard` verbs take to start (a script, not a test).

Runs the installed `onboard` entry point in a fresh process, --runs times per command, and prints
the median wall time, the modules it imported and whether the heavy libraries were among them.
The target (issue 16) is at most 0.3 s for `onboard copy --help` and `onboard check imap`.

  python -c pass                  the interpreter alone, for scale
  onboard --help                  every verb and the exit codes
  onboard copy --help             the copy verb's arguments
  onboard check imap (refused)    a check of a port nobody listens on: start-up and one refusal
  onboard check imap (Dovecot)    a full check against a scratch Dovecot (when it is installed):
                                  log in, list and size the folders

Before timing, the project's modules are compiled to bytecode (``compileall``, into the ignored
``__pycache__`` folders), as a first run or ``pip install`` does; with PYTHONDONTWRITEBYTECODE set
and no bytecode, every start would compile them again. --no-compile leaves that out.

    .venv/bin/python bench/startup.py                 # default: 9 runs per command
    .venv/bin/python bench/startup.py --runs 21 --json
"""

# ruff: noqa: E402 - the path must be fixed before the imports
from __future__ import annotations

import sys
from pathlib import Path

# The script's own directory comes first on sys.path, and bench/copy.py would shadow the
# standard library's copy module: put the project root there instead.
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != HERE]

import argparse
import compileall
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from typing import Any

ONBOARD = Path(sys.executable).with_name("onboard")
TARGET_SECONDS = 0.3
HEAVY = ("exchangelib", "requests", "keyring", "dns", "textual", "wizard.devservers.demo")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def timed(command: list[str], env: dict[str, str], runs: int) -> dict[str, Any]:
    """Median wall time of ``command`` over ``runs`` runs, and what one more run imported."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, env=env, capture_output=True, stdin=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    traced = subprocess.run(
        [sys.executable, "-X", "importtime", *command[1:]]
        if command[0] == sys.executable
        else [sys.executable, "-X", "importtime", *command],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    modules = {
        line.rsplit("|", 1)[-1].strip()
        for line in traced.stderr.splitlines()
        if line.startswith("import time:")
    }
    heavy = sorted(h for h in HEAVY if any(m == h or m.startswith(h + ".") for m in modules))
    return {
        "median_s": round(statistics.median(times), 3),
        "min_s": round(min(times), 3),
        "modules": len(modules),
        "heavy": heavy,
        "exit_code": traced.returncode,
    }


@contextlib.contextmanager
def scratch_dovecot() -> Iterator[tuple[str, str] | None]:
    """A scratch Dovecot's check-imap URL and password, or None where Dovecot is not installed."""
    if shutil.which("dovecot") is None:
        yield None
        return
    from tests.copy.corpus import populate
    from tests.copy.dovecot_dev import DovecotPair

    pair = DovecotPair()
    try:
        populate(pair.source.client("bench-start"))
        yield pair.source.url("bench-start"), pair.source.password
    finally:
        pair.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=9, help="runs per command (median)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--no-compile", action="store_true", help="do not compile to bytecode first"
    )
    args = parser.parse_args()
    if not args.no_compile:
        import wizard

        compileall.compile_dir(Path(wizard.__file__).parent, quiet=1)

    data = tempfile.mkdtemp(prefix="onboard-startup-")
    env = {**os.environ, "ONBOARD_DATA_DIR": data, "ONBOARD_SOURCE_PASSWORD": "bench"}
    refused = f"imap://bench@127.0.0.1:{free_port()}?tls=none"
    onboard = str(ONBOARD)
    cases: list[tuple[str, list[str], dict[str, str]]] = [
        ("python -c pass", [sys.executable, "-c", "pass"], env),
        ("onboard --help", [onboard, "--help"], env),
        ("onboard copy --help", [onboard, "copy", "--help"], env),
        ("onboard check imap (refused)", [onboard, "check", "imap", refused], env),
    ]
    rows = []
    with scratch_dovecot() as dovecot:
        if dovecot is not None:
            url, password = dovecot
            real = {**env, "ONBOARD_SOURCE_PASSWORD": password}
            cases.append(("onboard check imap (Dovecot)", [onboard, "check", "imap", url], real))
        for name, command, case_env in cases:
            row = {"command": name, **timed(command, case_env, args.runs)}
            rows.append(row)
            if not args.json:
                verdict = ""
                if name in ("onboard copy --help", "onboard check imap (refused)"):
                    verdict = "ok" if row["median_s"] <= TARGET_SECONDS else "OVER 0.3 s"
                print(
                    f"{name:<30} {row['median_s']:6.3f} s (min {row['min_s']:.3f})  "
                    f"{row['modules']:4d} modules  heavy: {','.join(row['heavy']) or '-'}  "
                    f"{verdict}",
                    flush=True,
                )
    shutil.rmtree(data, ignore_errors=True)
    if args.json:
        print(json.dumps({"runs": args.runs, "target_s": TARGET_SECONDS, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
