"""The copy and rss sections of bench/ews_write.py: IMAP to the EWS stand-in, whole processes.

Each contender is a child process (its peak RSS is its own ``ru_maxrss``, read with ``os.wait4``);
the source is a scratch Dovecot (tests/copy/dovecot_dev.py), the stand-in runs in the bench's
own process with a fresh mailbox per round, so every round writes into an empty Inbox.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ONBOARD = Path(sys.executable).with_name("onboard")
KB = 1024
MB = 1024 * KB
BATCH = 50  # onboard's Exchange batch (WriteLimits.batch_count), and the bare loop's
PASSWORD = "bench-pw"
WHEN = datetime(2024, 1, 1, 10, tzinfo=UTC)


@dataclass(frozen=True)
class ChildRun:
    """One contender's process: how long it ran, its peak RSS, what it printed."""

    seconds: float
    peak_rss_mb: float
    code: int
    out: str


def run_child(command: list[str], env: dict[str, str]) -> ChildRun:
    """Run ``command``; its peak RSS is the VmHWM of its own memory map, read while it runs (a
    child's ru_maxrss would count the bench's own pages, shared with it before exec)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=err, cwd=ROOT)
        peak_kb = 0
        while proc.poll() is None:
            peak_kb = max(peak_kb, high_water_kb(proc.pid))
            time.sleep(0.005)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"{command[1:3]} exited {proc.returncode}: {err.read()[-2000:]}")
        return ChildRun(seconds, peak_kb / 1024, proc.returncode, out.read())


def high_water_kb(pid: int) -> int:
    """The peak resident set of a running process (VmHWM), 0 once it has exited."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def message(rng: random.Random, n: int, size: int) -> bytes:
    """A MIME message of about ``size`` bytes with a Message-ID of its own."""
    head = (
        f"From: Bench <bench@example.org>\r\nTo: demo@sandbox.test\r\nSubject: Copy {n}\r\n"
        f"Message-ID: <copy-{n}-{rng.getrandbits(48):x}@example.org>\r\n"
        "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
        "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    ).encode()
    body = base64.encodebytes(rng.randbytes(max(size - len(head), 16) * 3 // 4))
    return head + body.replace(b"\n", b"\r\n")


@contextmanager
def servers() -> Iterator[tuple[Any, Any]]:
    """A scratch Dovecot pair (source, IMAP target) and the EWS stand-in, stopped afterwards."""
    if shutil.which("dovecot") is None:
        raise SystemExit("the copy and rss sections need Dovecot (apt-get install dovecot-imapd)")
    from tests.copy.dovecot_dev import DovecotPair
    from wizard.devservers.ews import EwsSandbox

    pair = DovecotPair()
    sandbox = EwsSandbox().start()
    try:
        yield pair, sandbox
    finally:
        sandbox.stop()
        pair.stop()


def fill(pair: Any, user: str, raws: list[bytes]) -> None:
    client = pair.source.client(user)
    for start in range(0, len(raws), BATCH):
        client.multiappend(
            "INBOX",
            [{"msg": r, "flags": (b"\\Seen",), "date": WHEN} for r in raws[start : start + BATCH]],
        )
    client.logout()


def onboard_copy(pair: Any, user: str, dest: str, dest_password: str, work: Path) -> ChildRun:
    env = {
        **os.environ,
        "ONBOARD_DATA_DIR": str(work),
        "ONBOARD_SOURCE_PASSWORD": pair.source.password,
        "ONBOARD_DEST_PASSWORD": dest_password,
    }
    ledger = work / f"{user}.onboard"
    command = [str(ONBOARD), "copy", "--source", pair.source.url(user), "--dest", dest]
    return run_child([*command, "--ledger", str(ledger), "--json"], env)


def ews_dest(sandbox: Any, address: str) -> str:
    from wizard.devservers.ews import EWS_PATH

    return f"ews://{address}@127.0.0.1:{sandbox.port}{EWS_PATH}?tls=none"


def bare_copy(pair: Any, user: str, sandbox: Any, address: str) -> ChildRun:
    job = {
        "imap": [pair.source.host, pair.source.port, user, pair.source.password],
        "ews": [sandbox.url, address, PASSWORD],
    }
    script = str(ROOT / "bench" / "ews_write.py")
    return run_child([sys.executable, script, "--bare-copy", json.dumps(job)], dict(os.environ))


def run_bare_copy(job: dict[str, Any]) -> int:
    """The bare loop, in its own process: FETCH 50, bulk_create 50, one connection each."""
    from exchangelib import (
        BASIC,
        DELEGATE,
        Account,
        Build,
        Configuration,
        Credentials,
        Message,
        Version,
    )
    from imapclient import IMAPClient

    from wizard.devservers.ews import SANDBOX_API_VERSION, SANDBOX_BUILD

    host, port, user, password = job["imap"]
    url, address, ews_password = job["ews"]
    config = Configuration(
        service_endpoint=url,
        credentials=Credentials(address, ews_password),
        auth_type=BASIC,
        version=Version(build=Build(*SANDBOX_BUILD), api_version=SANDBOX_API_VERSION),
    )
    account = Account(address, config=config, autodiscover=False, access_type=DELEGATE)
    client = IMAPClient(host, port, ssl=False)
    client.login(user, password)
    client.select_folder("INBOX", readonly=True)
    uids = client.search("ALL")
    copied = 0
    for start in range(0, len(uids), BATCH):
        fetched = client.fetch(uids[start : start + BATCH], ["BODY.PEEK[]", "FLAGS"])
        items = [
            Message(account=account, mime_content=f[b"BODY[]"], is_read=b"\\Seen" in f[b"FLAGS"])
            for f in fetched.values()
        ]
        del fetched
        results = account.bulk_create(folder=account.inbox, items=items, chunk_size=BATCH)
        copied += sum(1 for r in results if not isinstance(r, Exception))
    client.logout()
    print(json.dumps({"copied": copied}))
    return 0


def copy_section(count: int, rounds: int, *, quiet: bool) -> dict[str, Any]:
    """onboard copy against the bare loop, messages of 2-50 KB, median msgs/s of ``rounds``."""
    rng = random.Random(16)
    times: dict[str, list[float]] = {"onboard": [], "bare": []}
    work = Path(tempfile.mkdtemp(prefix="onboard-ews-copy-"))
    with servers() as (pair, sandbox):
        for round_no in range(rounds):
            for name in times:
                user = f"{name}{round_no}"
                fill(pair, user, [message(rng, n, rng.randint(2, 50) * KB) for n in range(count)])
                address = f"{user}@sandbox.test"
                sandbox.add_mailbox(address, PASSWORD)
                if name == "onboard":
                    run = onboard_copy(pair, user, ews_dest(sandbox, address), PASSWORD, work)
                    copied = sum(m["copied"] for m in json.loads(run.out)["mailboxes"])
                else:
                    run = bare_copy(pair, user, sandbox, address)
                    copied = json.loads(run.out)["copied"]
                if copied != count:
                    raise SystemExit(f"{name}: copied {copied} of {count} messages")
                times[name].append(run.seconds)
    shutil.rmtree(work, ignore_errors=True)
    rates = {name: round(count / statistics.median(t), 1) for name, t in times.items()}
    ratio = round(rates["onboard"] / rates["bare"], 2)
    if not quiet:
        print(
            f"copy {count} msgs of 2-50 KB, IMAP to EWS: onboard {rates['onboard']:.1f} msg/s, "
            f"bare loop {rates['bare']:.1f} msg/s: {ratio:.2f}x (target 0.8x)",
            flush=True,
        )
    return {
        "count": count,
        "onboard_msgs_per_s": rates["onboard"],
        "bare_msgs_per_s": rates["bare"],
        "ratio": ratio,
    }


def rss_section(big_mb: int, rounds: int, *, quiet: bool) -> dict[str, Any]:
    """Peak RSS of one copy of 20 small messages and one ``big_mb`` message, per contender."""
    rng = random.Random(40)
    peaks: dict[str, list[float]] = {"onboard_to_ews": [], "onboard_to_imap": [], "bare_to_ews": []}
    work = Path(tempfile.mkdtemp(prefix="onboard-ews-rss-"))
    with servers() as (pair, sandbox):
        for round_no in range(rounds):
            for name in peaks:
                user = f"{name.replace('_', '')}{round_no}"
                raws = [message(rng, n, rng.randint(2, 50) * KB) for n in range(20)]
                raws.insert(10, message(rng, 99, big_mb * MB))
                fill(pair, user, raws)
                address = f"{user}@sandbox.test"
                if name == "onboard_to_imap":
                    dest = pair.target.url(user)
                    run = onboard_copy(pair, user, dest, pair.target.password, work)
                elif name == "onboard_to_ews":
                    sandbox.add_mailbox(address, PASSWORD)
                    run = onboard_copy(pair, user, ews_dest(sandbox, address), PASSWORD, work)
                    stored = sandbox.mailbox(address).items_in("Inbox")
                    digests = sorted(hashlib.sha256(i.mime).hexdigest() for i in stored)
                    if digests != sorted(hashlib.sha256(r).hexdigest() for r in raws):
                        raise SystemExit("onboard into the stand-in: the messages differ")
                else:
                    sandbox.add_mailbox(address, PASSWORD)
                    run = bare_copy(pair, user, sandbox, address)
                peaks[name].append(run.peak_rss_mb)
    shutil.rmtree(work, ignore_errors=True)
    result = {name: round(statistics.median(p), 1) for name, p in peaks.items()}
    if not quiet:
        print(
            f"peak RSS, one {big_mb} MB message and 20 small: onboard into EWS "
            f"{result['onboard_to_ews']:.0f} MB, onboard into IMAP {result['onboard_to_imap']:.0f} MB, "
            f"bare loop into EWS {result['bare_to_ews']:.0f} MB (target: at most 150 MB)",
            flush=True,
        )
    return {"big_mb": big_mb, "peak_rss_mb": result}
