"""Benchmark: messages per second written into the EWS stand-in (a script, not a test).

Three sections, in the same run:

write   For batch sizes 1, 10, 50, 100 and message sizes 2 KB and 50 KB:
          engine   wizard.exchange's ExchangeMailbox.write (MAPI properties, byte-sized batches)
          bare     a bare exchangelib loop: Message(mime_content=..., is_read=...) and bulk_create
        The stand-in runs in a child process (`onboard sandbox ews --json`), so server and client
        do not share one interpreter lock; --in-process runs it in this process instead. Every
        round writes into a fresh folder. Prints msgs/s and MB/s per case (median of --rounds).
copy    IMAP (a scratch Dovecot) to the stand-in, --copy-count messages of 2-50 KB, each contender
        a process of its own with one IMAP and one EWS connection:
          onboard  `onboard copy --source imap://... --dest ews://...`
          bare     imapclient FETCH BODY.PEEK[] of 50 UIDs at a time, exchangelib bulk_create of
                   the 50 (the same batch as onboard's)
        msgs/s over the process's whole run (start-up included), and onboard / bare.
rss     Peak RSS (the process's ru_maxrss) of one copy of a corpus with one --big-mb message and
        20 small ones: onboard into the stand-in, onboard into IMAP (a second Dovecot), and the
        bare loop into the stand-in; onboard's copy into the stand-in is checked byte-exact.
The copy and rss sections run the stand-in in this process (a fresh mailbox per round) and need
Dovecot (dovecot-imapd).

    .venv/bin/python bench/ews_write.py                 # default: every section
    .venv/bin/python bench/ews_write.py --sections copy,rss --rounds 3
    .venv/bin/python bench/ews_write.py --count 500 --rounds 3 --json
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
import base64
import json
import os
import random
import statistics
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.ews_copy import copy_section, rss_section, run_bare_copy

KB = 1024
BATCHES = (1, 10, 50, 100)
SIZES = (2 * KB, 50 * KB)


def message(rng: random.Random, n: int, size: int) -> bytes:
    head = (
        f"From: Bench <bench@example.org>\r\nTo: demo@sandbox.test\r\n"
        f"Subject: Bench {n}\r\nMessage-ID: <bench-{n}-{rng.getrandbits(48):x}@example.org>\r\n"
        f"Date: Mon, 1 Jan 2024 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    ).encode()
    body_len = max(size - len(head), 16)
    body = base64.encodebytes(rng.randbytes(body_len * 3 // 4)).replace(b"\n", b"\r\n")
    return head + body[:body_len]


def start_server(in_process: bool) -> tuple[dict[str, Any], Callable[[], None]]:
    if in_process:
        from wizard.devservers.ews import EwsSandbox

        sandbox = EwsSandbox()
        sandbox.add_mailbox("demo@sandbox.test", "bench-pw")
        sandbox.start()
        facts = {"url": sandbox.url, "mailbox": "demo@sandbox.test", "password": "bench-pw"}
        return facts, sandbox.stop
    proc = subprocess.Popen(
        [sys.executable, "-m", "wizard.cli", "sandbox", "ews", "--json"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("}"):
            break

    def stop() -> None:
        proc.terminate()
        proc.wait(timeout=10)

    return json.loads("".join(lines)), stop


def bare_account(facts: dict[str, Any]) -> Any:
    from exchangelib import BASIC, DELEGATE, Account, Build, Configuration, Credentials, Version

    from wizard.devservers.ews import SANDBOX_API_VERSION, SANDBOX_BUILD

    config = Configuration(
        service_endpoint=facts["url"],
        credentials=Credentials(facts["mailbox"], facts["password"]),
        auth_type=BASIC,
        version=Version(build=Build(*SANDBOX_BUILD), api_version=SANDBOX_API_VERSION),
    )
    return Account(facts["mailbox"], config=config, autodiscover=False, access_type=DELEGATE)


def run_bare(facts: dict[str, Any], raws: list[bytes], batch: int, folder_name: str) -> float:
    from exchangelib import Folder, Message

    account = bare_account(facts)
    folder = Folder(parent=account.msg_folder_root, name=folder_name)
    folder.save()
    started = time.perf_counter()
    items = [Message(account=account, mime_content=r, is_read=True) for r in raws]
    results = account.bulk_create(folder=folder, items=items, chunk_size=batch)
    elapsed = time.perf_counter() - started
    failed = [r for r in results if isinstance(r, Exception)]
    if failed:
        raise SystemExit(f"bare loop: {len(failed)} messages failed: {failed[0]}")
    account.protocol.close()
    return elapsed


def run_engine(facts: dict[str, Any], raws: list[bytes], batch: int, folder_name: str) -> float:
    from wizard.exchange import (
        Access,
        AuthType,
        ExchangeMailbox,
        ExchangeSettings,
        MimeMessage,
        WriteLimits,
    )

    settings = ExchangeSettings(facts["url"], auth=AuthType.BASIC, access=Access.DELEGATE)
    limits = WriteLimits(batch_count=batch, batch_bytes=64 * 1024 * 1024)
    mailbox = ExchangeMailbox.open(settings, facts["mailbox"], facts["password"], limits=limits)
    try:
        ref = mailbox.ensure_folder((folder_name,))
        when = datetime(2024, 1, 1, 10, tzinfo=UTC)
        messages = [
            MimeMessage(n, raw, ("\\Seen",), when + timedelta(minutes=n))
            for n, raw in enumerate(raws)
        ]
        started = time.perf_counter()
        outcomes = mailbox.write(ref, messages)
        elapsed = time.perf_counter() - started
    finally:
        mailbox.close()
    failed = [o for o in outcomes if not o.ok]
    if failed:
        raise SystemExit(f"engine: {len(failed)} messages failed: {failed[0].reason}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200, help="messages per case")
    parser.add_argument("--rounds", type=int, default=1, help="rounds per case (median)")
    parser.add_argument("--in-process", action="store_true", help="run the stand-in here")
    parser.add_argument("--only", choices=("engine", "bare"), help="one contender only")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--sections", default="write,copy,rss", help="comma-separated: write, copy, rss"
    )
    parser.add_argument("--copy-count", type=int, default=300, help="messages in the copy section")
    parser.add_argument(
        "--big-mb", type=int, default=40, help="the large message of the rss section"
    )
    parser.add_argument("--bare-copy", metavar="JSON", help=argparse.SUPPRESS)  # the bare child
    args = parser.parse_args()
    if args.bare_copy:
        return run_bare_copy(json.loads(args.bare_copy))
    sections = set(args.sections.split(","))
    results: dict[str, Any] = {"count": args.count, "rounds": args.rounds}
    if "write" in sections:
        results["rows"] = write_section(args)
    if "copy" in sections:
        results["copy"] = copy_section(args.copy_count, args.rounds, quiet=args.json)
    if "rss" in sections:
        results["rss"] = rss_section(args.big_mb, args.rounds, quiet=args.json)
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


def write_section(args: argparse.Namespace) -> list[dict[str, Any]]:

    contenders: dict[str, Callable[[dict[str, Any], list[bytes], int, str], float]] = {}
    if args.only != "bare":
        try:
            import wizard.exchange  # noqa: F401

            contenders["engine"] = run_engine
        except ImportError as exc:
            print(f"(engine left out: wizard.exchange does not import: {exc})", file=sys.stderr)
    if args.only != "engine":
        contenders["bare"] = run_bare

    facts, stop = start_server(args.in_process)
    rng = random.Random(20240101)
    rows = []
    try:
        for size in SIZES:
            for batch in BATCHES:
                row: dict[str, Any] = {"size_kb": size // KB, "batch": batch}
                for name, run in contenders.items():
                    times = []
                    for round_no in range(args.rounds):
                        raws = [message(rng, n, size) for n in range(args.count)]
                        folder = f"{name}-{size // KB}k-b{batch}-r{round_no}-{os.getpid()}"
                        times.append(run(facts, raws, batch, folder))
                    seconds = statistics.median(times)
                    row[f"{name}_msgs_per_s"] = round(args.count / seconds, 1)
                    row[f"{name}_mb_per_s"] = round(args.count * size / seconds / 1024 / 1024, 2)
                rows.append(row)
                if not args.json:
                    cells = "  ".join(
                        f"{name} {row[f'{name}_msgs_per_s']:8.1f} msg/s "
                        f"{row[f'{name}_mb_per_s']:6.2f} MB/s"
                        for name in contenders
                    )
                    print(f"{size // KB:3d} KB  batch {batch:3d}  {cells}", flush=True)
    finally:
        stop()
    return rows


if __name__ == "__main__":
    sys.exit(main())
