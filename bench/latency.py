"""Benchmark: a copy over a link with a round-trip time, as to a customer's server over a WAN.

Builds one mailbox of --folders folders with --per-folder small messages each in a scratch
Dovecot, puts a delaying proxy on loopback in front of the source (each byte arrives --rtt / 2
milliseconds after it was sent, each way; pipelined commands are not held up one by one) and
times, in this process, the copy engine's initial copy and a differential pass with nothing new,
each on a fresh target mailbox and ledger, two ways:

  commands sent ahead   the folders listed ahead (``ImapSource.list_ahead``: a few round trips
                        for the mailbox), each folder opened with its first batch's FETCH in
                        one write (``ImapSource.open_and_fetch``) and small folders read
                        several to a write (``ImapSource.open_and_fetch_many``)
  each command waits    both left out: EXAMINE and listing FETCH, then EXAMINE again and the
                        bodies' FETCH, each waiting for the answer before the next

    .venv/bin/python bench/latency.py                        # 100 folders, 30 ms
    .venv/bin/python bench/latency.py --folders 200 --rtt 50 --json
"""

# ruff: noqa: E402 - the path must be fixed before the imports
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != HERE]

import argparse
import heapq
import json
import shutil
import socket
import tempfile
import threading
import time
from typing import Any


class DelayProxy:
    """A TCP proxy on 127.0.0.1 that delivers every chunk ``delay`` seconds after it read it."""

    def __init__(self, upstream: tuple[str, int], delay: float) -> None:
        self.upstream, self.delay = upstream, delay
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            client, _ = self.listener.accept()
            server = socket.create_connection(self.upstream)
            for a, b in ((client, server), (server, client)):
                a.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self._pump(a, b)

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        due: list[tuple[float, int, bytes]] = []
        ready = threading.Condition()
        counter = [0]

        def read() -> None:
            while data := src.recv(1 << 16):
                with ready:
                    counter[0] += 1
                    heapq.heappush(due, (time.monotonic() + self.delay, counter[0], data))
                    ready.notify()
            with ready:
                heapq.heappush(due, (time.monotonic() + self.delay, 1 << 62, b""))
                ready.notify()

        def write() -> None:
            while True:
                with ready:
                    while not due:
                        ready.wait()
                    when, _n, data = due[0]
                    wait = when - time.monotonic()
                    if wait > 0:
                        ready.wait(wait)
                        continue
                    heapq.heappop(due)
                if not data:
                    dst.shutdown(socket.SHUT_WR)
                    return
                dst.sendall(data)

        threading.Thread(target=read, daemon=True).start()
        threading.Thread(target=write, daemon=True).start()


def build(source: Any, user: str, folders: int, per_folder: int) -> int:
    from tests.copy.corpus import WHEN, message

    client = source.client(user)
    try:
        for f in range(folders):
            name = f"Archiv/{2000 + f // 12}/{f % 12 + 1:02d}"
            client.create_folder(name)
            for m in range(per_folder):
                client.append(name, message(f * 1000 + m), flags=("\\Seen",), msg_time=WHEN)
    finally:
        client.logout()
    return folders * per_folder


def copy(url: str, target_url: str, password: str, ledger: Path, mode: str) -> dict[str, Any]:
    from wizard.copy.connect import source_factory, target_factory
    from wizard.copy.engine import CopyEngine, CopySettings, MailboxJob
    from wizard.copy.folder_map import PlanOptions
    from wizard.copy.ledger import CopyLedger, RunMode
    from wizard.endpoint import parse_endpoint
    from wizard.profile import example_profile
    from wizard.store import SessionStore

    if ledger.exists():
        store = SessionStore.open(ledger)
    else:
        store = SessionStore.create(
            ledger, customer="bench", domain="bench.example", profile=example_profile()
        )
    job = MailboxJob(
        mailbox="bench",
        source=source_factory(parse_endpoint(url), password),
        target=target_factory(parse_endpoint(target_url), password),
        options=PlanOptions(),
    )
    started = time.monotonic()
    result = CopyEngine(
        CopyLedger(store), [job], CopySettings(concurrency=1, mode=RunMode(mode))
    ).run()
    seconds = time.monotonic() - started
    store.close()
    if result.failed or any(m.error for m in result.mailboxes):
        raise RuntimeError(f"the copy failed: {[m.error for m in result.mailboxes]}")
    return {"seconds": seconds, "copied": result.copied}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folders", type=int, default=100)
    parser.add_argument("--per-folder", type=int, default=5)
    parser.add_argument("--rtt", type=float, default=30.0, help="round-trip time in ms")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from tests.copy.dovecot_dev import DovecotPair
    from wizard.copy.source import ImapSource

    sent_ahead = ("list_ahead", "open_and_fetch", "open_and_fetch_many")
    ahead = {name: getattr(ImapSource, name) for name in sent_ahead}
    pair = DovecotPair("mdbox")
    work = Path(tempfile.mkdtemp(prefix="onboard-latency-"))
    results: dict[str, dict[str, float]] = {}
    try:
        messages = build(pair.source, "wan", args.folders, args.per_folder)
        proxy = DelayProxy((pair.source.host, pair.source.port), args.rtt / 2000)
        url = f"imap://wan@127.0.0.1:{proxy.port}?tls=none"
        for label in ("each command waits", "commands sent ahead"):
            for name, method in ahead.items():
                if label == "commands sent ahead":
                    setattr(ImapSource, name, method)
                else:
                    delattr(ImapSource, name)  # the engine then waits for each answer
            dest = f"t{len(results)}"
            ledger = work / f"{dest}.onboard"
            initial = copy(url, pair.target.url(dest), pair.source.password, ledger, "initial")
            assert initial["copied"] == messages, initial
            differential = copy(
                url, pair.target.url(dest), pair.source.password, ledger, "differential"
            )
            results[label] = {
                "initial": initial["seconds"],
                "differential": differential["seconds"],
            }
    finally:
        for name, method in ahead.items():
            setattr(ImapSource, name, method)
        pair.stop()
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(
            json.dumps(
                {
                    "folders": args.folders,
                    "messages": messages,
                    "rtt_ms": args.rtt,
                    "results": results,
                },
                indent=2,
            )
        )
        return
    print(f"{args.folders} folders, {messages} messages, source round trip {args.rtt:.0f} ms")
    for label, r in results.items():
        print(
            f"  {label:22s} initial copy {r['initial']:6.2f} s   differential {r['differential']:6.2f} s"
        )


if __name__ == "__main__":
    main()
