"""Benchmark: the copy engine's own CPU per message, phase by phase (a script, not a test).

Wall-clock figures from bench/copy.py move by up to 40% on a shared machine; the CPU the engine's
threads spend per message moves much less, so this is the figure to compare before and after a
change to the engine. Builds the small corpus (2-20 KB messages over 15 folders) for --mailboxes
mailboxes in a scratch Dovecot, copies them --rounds times to fresh target mailboxes in this
process (imports already done), and prints per round the process's CPU per message (user and
system) and, for the last round, the CPU of each phase per message, from the thread that ran it:

  scan          listing the source's folders and messages (list_messages within it)
  fetch bodies  reading the message bytes (the fetch thread)
  upload        writing to the target: the APPEND, the ledger's in-flight mark and confirmation

    .venv/bin/python bench/engine_cpu.py                     # 4 mailboxes x 500, 3 rounds
    .venv/bin/python bench/engine_cpu.py --concurrency 4 --json
"""

# ruff: noqa: E402 - the path must be fixed before the imports
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != HERE]

import argparse
import collections
import functools
import importlib.util
import json
import resource
import shutil
import tempfile
import time
from collections.abc import Callable
from typing import Any

PHASES = (  # (module, object, attribute, label)
    ("wizard.copy.mailbox_run", "MailboxRun", "scan", "scan"),
    ("wizard.copy.source", "ImapSource", "list_messages", "scan: list_messages"),
    ("wizard.copy.pipeline", "Pipeline", "fetch", "fetch bodies"),
    ("wizard.copy.pipeline", "Pipeline", "upload", "upload"),
    ("wizard.copy.target", "ImapTarget", "append", "upload: APPEND"),
    ("wizard.copy.ledger", "CopyLedger", "mark_in_flight", "upload: ledger in-flight"),
    ("wizard.copy.ledger", "CopyLedger", "confirm", "upload: ledger confirm"),
    ("wizard.copy.ledger", "CopyLedger", "record", "ledger whole rows"),
    ("wizard.copy.mailbox_run", None, "reconcile_works", "reconcile with the target"),
    ("wizard.copy.mailbox_run", None, "make_tree", "target folders"),
    ("wizard.copy.mailbox_run", "MailboxRun", "connect", "log in"),
)


def instrument(spent: collections.Counter[str]) -> None:
    """Wrap each phase so that the CPU of the thread running it is added to ``spent``."""
    for module_name, owner_name, attribute, label in PHASES:
        module = importlib.import_module(module_name)
        owner: Any = getattr(module, owner_name) if owner_name else module
        original: Callable[..., Any] | None = getattr(owner, attribute, None)
        if original is None:  # an older engine, measured for comparison, has no such phase
            continue

        def timed(*args: Any, _f: Callable[..., Any] = original, _l: str = label, **kw: Any) -> Any:
            started = time.thread_time()
            try:
                return _f(*args, **kw)
            finally:
                spent[_l] += time.thread_time() - started

        setattr(owner, attribute, functools.wraps(original)(timed))


def load_bench_copy() -> Any:
    spec = importlib.util.spec_from_file_location("bench_copy", HERE / "copy.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mailboxes", type=int, default=4)
    parser.add_argument("--messages", type=int, default=500, help="per mailbox")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=1, help="mailboxes at once")
    parser.add_argument("--json", action="store_true", help="the figures as one JSON object")
    args = parser.parse_args()

    bench_copy = load_bench_copy()
    from tests.copy.dovecot_dev import DovecotPair

    spent: collections.Counter[str] = collections.Counter()
    instrument(spent)
    pair = DovecotPair("mdbox")
    work = Path(tempfile.mkdtemp(prefix="onboard-engine-cpu-"))
    rounds: list[dict[str, float]] = []
    try:
        users = [f"cpu{i}" for i in range(args.mailboxes)]
        bench_copy.build_corpus(pair.source, users, args.messages, 0, True)
        for round_no in range(1, args.rounds + 1):
            spent.clear()
            dests = [f"r{round_no}{u}" for u in users]
            spec = {
                "pairs": [
                    (pair.source.url(u), pair.target.url(d), d)
                    for u, d in zip(users, dests, strict=True)
                ],
                "password": pair.source.password,
                "dest_password": pair.target.password,
                "concurrency": args.concurrency,
                "ledger": str(work / f"round-{round_no}.onboard"),
            }
            before = resource.getrusage(resource.RUSAGE_SELF)
            result = bench_copy.child_engine(spec)
            after = resource.getrusage(resource.RUSAGE_SELF)
            count = max(1, result["messages"])
            user = after.ru_utime - before.ru_utime
            system = after.ru_stime - before.ru_stime
            rounds.append(
                {
                    "messages": result["messages"],
                    "seconds": result["seconds"],
                    "cpu_us_per_message": (user + system) / count * 1e6,
                    "user_us_per_message": user / count * 1e6,
                    "system_us_per_message": system / count * 1e6,
                }
            )
            if not args.json:
                r = rounds[-1]
                print(
                    f"round {round_no}: {r['messages']} msgs in {r['seconds']:.2f} s, CPU "
                    f"{r['cpu_us_per_message']:.0f} us/msg (user {r['user_us_per_message']:.0f}, "
                    f"system {r['system_us_per_message']:.0f})"
                )
        count = max(1, rounds[-1]["messages"])
        phases = {label: seconds / count * 1e6 for label, seconds in spent.most_common()}
    finally:
        pair.stop()
        shutil.rmtree(work, ignore_errors=True)
    median = sorted(r["cpu_us_per_message"] for r in rounds)[len(rounds) // 2]
    if args.json:
        print(json.dumps({"rounds": rounds, "median_cpu_us_per_message": median, "phases": phases}))
        return 0
    print(f"\nmedian CPU: {median:.0f} us per message; last round by phase (us per message):")
    for label, value in phases.items():
        print(f"  {label:<28} {value:6.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
