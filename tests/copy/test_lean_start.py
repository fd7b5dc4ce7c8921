"""Headless verbs load only what they use: the real `onboard` entry point, in a fresh process.

Each run goes through ``python -X importtime`` so that every module the process imported (in any
thread) is listed on stderr; the start-up time itself is measured by bench/startup.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from wizard.cliutil import Exit

from .corpus import bodies, populate

ONBOARD = Path(sys.executable).with_name("onboard")  # the console script pip installed
# What an IMAP-to-IMAP copy or an IMAP check never needs: the Exchange client and its HTTP stack,
# the EWS stand-in, the UI, the demo.
NEVER = (
    "exchangelib",
    "requests",
    "wizard.exchange.mailbox",
    "wizard.devservers.ews.server",
    "wizard.devservers.demo",
    "textual",
    "screens",
)
# What building the parser (every --help) does not need either: the session store, the secrets,
# TLS, the provider profile. Each costs milliseconds that every headless start would pay.
NOT_FOR_HELP = (
    "sqlite3",
    "ssl",
    "wizard.store",
    "wizard.session",
    "wizard.secrets",
    "wizard.profile",
)


def run_onboard(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, set[str]]:
    """Run `onboard ARGS`: its exit code, its stderr without the import lines, what it imported."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", str(ONBOARD), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )
    modules: set[str] = set()
    other: list[str] = []
    for line in proc.stderr.splitlines():
        if line.startswith("import time:"):
            name = line.rsplit("|", 1)[-1].strip()
            if name != "imported package":
                modules.add(name)
        else:
            other.append(line)
    return proc.returncode, "\n".join(other), modules


def loaded(modules: set[str], *packages: str) -> list[str]:
    """The modules of ``packages`` (or the packages themselves) among ``modules``."""
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in packages))


def test_copy_help_loads_no_engine() -> None:
    code, err, modules = run_onboard("copy", "--help")
    assert code == Exit.OK, err
    assert "wizard.copy.verbs" in modules  # the parser learnt the copy verb's arguments here
    engines = (
        "wizard.copy.engine",
        "imapclient",
        "keyring",
        "dns",
        "requests",
        *NEVER,
        *NOT_FOR_HELP,
    )
    assert loaded(modules, *engines) == []


def test_top_help_loads_no_engine_and_lists_every_verb() -> None:
    proc = subprocess.run([str(ONBOARD), "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == Exit.OK
    for verb in ("copy", "verify", "check", "sandbox", "mailboxes", "report", "serve"):
        assert f"    {verb} " in proc.stdout
    assert "exit codes:" in proc.stdout and "130  interrupted" in proc.stdout
    code, _err, modules = run_onboard("--help")
    assert (
        loaded(modules, "wizard.copy.engine", "imapclient", "keyring", *NEVER, *NOT_FOR_HELP) == []
    )


def test_imap_to_imap_copy_loads_no_exchange_client_ui_demo_or_keyring(dovecots, users) -> None:
    src, dst = dovecots
    populate(src.client(users[0]))
    dst.ensure_user(users[1])
    passwords = {"ONBOARD_SOURCE_PASSWORD": src.password, "ONBOARD_DEST_PASSWORD": dst.password}
    code, err, modules = run_onboard(
        "copy", "--source", src.url(users[0]), "--dest", dst.url(users[1]), "--json", env=passwords
    )
    assert code == Exit.OK, err
    assert bodies(dst.client(users[1]), "INBOX") == bodies(src.client(users[0]), "INBOX")
    assert "wizard.copy.engine" in modules and "imapclient" in modules  # it did copy here
    # Both passwords came from the environment: the keyring was never asked.
    assert loaded(modules, *NEVER, "keyring") == []


def test_check_imap_loads_no_exchange_client_ui_demo_or_keyring(dovecots, users) -> None:
    src, _dst = dovecots
    populate(src.client(users[0]))
    code, err, modules = run_onboard(
        "check", "imap", src.url(users[0]), env={"ONBOARD_SOURCE_PASSWORD": src.password}
    )
    assert code == Exit.OK, err
    assert "wizard.imap.probe" in modules
    # An ad-hoc check keeps no session: it never opens the session store.
    assert loaded(modules, *NEVER, "keyring", "dns", "sqlite3", "wizard.store") == []


def test_check_imap_without_a_password_in_the_environment_asks_the_keyring(dovecots, users) -> None:
    src, _dst = dovecots
    from wizard.secrets import SecretStore, source_password_key

    SecretStore("adhoc").set(source_password_key(users[0]), src.password)
    env = {k: v for k, v in os.environ.items() if k != "ONBOARD_SOURCE_PASSWORD"}
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", str(ONBOARD), "check", "imap", src.url(users[0])],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert proc.returncode == Exit.OK, proc.stderr[-2000:]
    assert "import time:" in proc.stderr and "| keyring" in proc.stderr


def test_bulk_imap_to_imap_copy_loads_no_exchange_client_ui_or_demo(
    dovecots, users, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    src, dst = dovecots
    populate(src.client(users[0]))
    listing = tmp_path / "list.csv"
    listing.write_text(
        "source_login,source_password,target_address,target_login,target_password\n"
        f"{users[0]},{src.password},{users[1]}@bulk.example,{users[1]},{dst.password}\n",
        encoding="utf-8",
    )
    code, err, modules = run_onboard(
        "copy",
        "--source",
        f"imap://{src.host}:{src.port}?tls=none",
        "--dest",
        f"imap://{dst.host}:{dst.port}?tls=none",
        "--mailboxes",
        str(listing),
        "--ledger",
        str(tmp_path / "bulk.onboard"),
    )
    assert code == Exit.OK, err
    assert bodies(dst.client(users[1]), "INBOX") == bodies(src.client(users[0]), "INBOX")
    assert "wizard.copy.bulk" in modules  # the bulk form did the copy
    assert loaded(modules, *NEVER) == []
