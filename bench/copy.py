"""Benchmark of the copy engine (a script, not a test).

Builds a deterministic corpus in a local Dovecot (8 mailboxes x 500 messages over 15 folders,
nested and non-ASCII names, 2 KB-2 MB log-uniform plus a few over 10 MB, some without a
Message-ID), then measures, each in a child process of its own so peak RSS is its own:

  engine   onboard's copy engine, IMAP to IMAP (concurrency N, pipelined, MULTIAPPEND)
  naive    a sequential imapclient loop: one FETCH, one APPEND at a time
  dsync    the peer: Dovecot's own `doveadm backup -R` with the imapc backend, one process per
           mailbox, all mailboxes at once, pulling over IMAP into the target's storage
  floor    (with --floor) a bare-socket Python copier, one thread per mailbox, pipelined FETCH
           and MULTIAPPEND with LITERAL+, nothing else: how fast Python copies IMAP to IMAP here
  differential  the engine again over the same session and target, nothing new on the source
           (what a differential pass costs when there is nothing to do)
  reconcile the engine with a new, empty session against the full target: every folder is
           listed and matched, nothing is sent (another laptop, a lost session file)
  ews      (with --ews) the engine IMAP to the EWS stand-in, against a bare exchangelib
           bulk_create loop with the same number of connections

The engine is one process copying all mailboxes at once (--concurrency, 8 by default), the way
`onboard copy` runs them. After a warm-up round that is not counted (--no-warmup leaves it out),
prints msgs/s, MB/s, peak RSS and CPU seconds per round and the median of the rounds: CPU of the
method's own processes (ours; "copy": the same over the copy alone, without imports and
start-up), of the source and the target Dovecot (what the method made them do) and of the whole
machine (other work included). After each copy the target is checked byte-exact (every
mailbox's messages hashed on both sides, as multisets).

    .venv/bin/python bench/copy.py --scale 0.2 --rounds 1     # a quick look
    .venv/bin/python bench/copy.py                            # the full run (median of 3)
    .venv/bin/python bench/copy.py --corpus small             # many small messages (2-20 KB)
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# This script is called copy.py: take its folder off the path so that `import copy` (pygments,
# exchangelib) finds the standard library's module, not this file.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

from bench.measure import (  # noqa: E402 - after the path is set
    busy_seconds,
    check_byte_exact,
    mailbox_digest,
    peak_rss_mb,
    servers_cpu_seconds,
)

FOLDERS = (
    "INBOX",
    "Sent",
    "Drafts",
    "Trash",
    "Junk",
    "Archiv",
    "Kunden",
    "Kunden/Müller",
    "Kunden/Schmidt & Co",
    "Projekte",
    "Projekte/2023",
    "Projekte/2024/Q1",
    "Rechnungen",
    "Privat/Urlaub",
    "Ärzte",
)
KB = 1024
MB = 1024 * 1024


def corpus_message(rng: random.Random, mailbox: int, n: int, size: int) -> bytes:
    when = datetime(2023, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randint(0, 10**6))
    head = [
        f"From: Sender {n} <sender{n}@old.example>",
        f"To: user{mailbox}@old.example",
        f"Subject: Bench message {mailbox}-{n}",
        f"Date: {when.strftime('%a, %d %b %Y %H:%M:%S +0000')}",
    ]
    if n % 10 != 3:  # one in ten has no Message-ID
        head.append(f"Message-ID: <bench-{mailbox}-{n}@old.example>")
    head += [
        "MIME-Version: 1.0",
        "Content-Type: application/octet-stream",
        "Content-Transfer-Encoding: base64",
    ]
    raw_len = max(0, (size - 400) * 3 // 4)
    payload = base64.encodebytes(rng.randbytes(raw_len)).replace(b"\n", b"\r\n")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + payload


def message_sizes(rng: random.Random, count: int, big: int, small: bool = False) -> list[int]:
    top = 20 * KB if small else 2 * MB  # the small corpus: 2-20 KB, where per-message costs weigh
    sizes = [int(math.exp(rng.uniform(math.log(2 * KB), math.log(top)))) for _ in range(count)]
    for i in range(big):  # a few over 10 MB
        sizes[rng.randrange(count)] = rng.randint(10 * MB + 1, 12 * MB) + i
    return sizes


def build_corpus(
    source, users: list[str], per_mailbox: int, big: int, small: bool = False
) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    messages = total = 0
    for index, user in enumerate(users):
        rng = random.Random(1000 + index)
        client = source.client(user)
        for folder in FOLDERS:
            if not client.folder_exists(folder):
                client.create_folder(folder)
        batch: dict[str, list[dict[str, object]]] = {}
        batch_bytes = 0
        for n, size in enumerate(message_sizes(rng, per_mailbox, big, small)):
            folder = FOLDERS[0] if n % 3 == 0 else rng.choice(FOLDERS)
            raw = corpus_message(rng, index, n, size)
            flags = [b"\\Seen"] if rng.random() < 0.7 else []
            batch.setdefault(folder, []).append(
                {"msg": raw, "flags": flags, "date": datetime(2023, 5, 1, tzinfo=UTC)}
            )
            batch_bytes += len(raw)
            messages += 1
            total += len(raw)
            if batch_bytes > 16 * MB:
                for name, items in batch.items():
                    client.multiappend(name, items)
                batch, batch_bytes = {}, 0
        for name, items in batch.items():
            client.multiappend(name, items)
        client.logout()
    return messages, total


# ----- children: each method runs in a process of its own -----------------------------------


def own_cpu() -> float:
    """CPU seconds of this process and its ended children so far: taken when a method starts
    copying and when it is done, it leaves out its imports and start-up (``copy`` in the
    figures; ``ours`` is the whole child process)."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def child_engine(spec: dict) -> dict:  # type: ignore[type-arg]
    from wizard.copy.connect import source_factory, target_factory
    from wizard.copy.engine import CopyEngine, CopySettings, MailboxJob
    from wizard.copy.folder_map import PlanOptions
    from wizard.copy.ledger import CopyLedger, RunMode
    from wizard.endpoint import parse_endpoint
    from wizard.profile import example_profile
    from wizard.store import SessionStore

    ledger = Path(spec["ledger"])
    if ledger.exists():  # a differential pass over the session of the copy before
        store = SessionStore.open(ledger, lock="shared")
    else:
        store = SessionStore.create(
            ledger, customer="bench", domain="bench.example", profile=example_profile()
        )
    jobs = [
        MailboxJob(
            mailbox=dest,
            source=source_factory(parse_endpoint(src), spec["password"]),
            target=target_factory(parse_endpoint(dst), spec["dest_password"]),
            options=PlanOptions(),
        )
        for src, dst, dest in spec["pairs"]
    ]
    engine = CopySettings()  # what a spec leaves out: the engine's defaults
    settings = CopySettings(
        concurrency=spec["concurrency"],
        batch_bytes=int(spec["batch_mb"] * MB) if "batch_mb" in spec else engine.batch_bytes,
        batch_messages=spec.get("batch_messages", engine.batch_messages),
        memory_budget=int(spec["budget_mb"] * MB) if "budget_mb" in spec else engine.memory_budget,
        mode=RunMode(spec.get("mode", "initial")),
    )
    started = time.monotonic()
    cpu = own_cpu()
    result = CopyEngine(CopyLedger(store), jobs, settings).run()
    seconds = time.monotonic() - started
    store.close()
    return {
        "seconds": seconds,
        "copy_cpu_seconds": own_cpu() - cpu,
        "messages": result.copied,
        "bytes": sum(m.bytes_copied for m in result.mailboxes),
        "already": sum(m.already for m in result.mailboxes),
        "failed": result.failed,
        "errors": [m.error for m in result.mailboxes if m.error],
    }


def child_naive(spec: dict) -> dict:  # type: ignore[type-arg]
    """The loop a quick script would use: one FETCH, one APPEND, one message at a time."""
    from imapclient import IMAPClient

    from wizard.endpoint import parse_endpoint

    messages = total = 0
    started = time.monotonic()
    cpu = own_cpu()
    for src_url, dst_url, _dest in spec["pairs"]:
        src, dst = parse_endpoint(src_url), parse_endpoint(dst_url)
        source = IMAPClient(src.host, src.port, ssl=False)
        source.login(src.user, spec["password"])
        source.normalise_times = False
        target = IMAPClient(dst.host, dst.port, ssl=False)
        target.login(dst.user, spec["dest_password"])
        target_delim = target.list_folders()[0][1].decode()
        for flags, delim, name in source.list_folders():
            if b"\\Noselect" in flags or b"\\NonExistent" in flags:
                continue
            info = source.select_folder(name, readonly=True)
            target_name = name.replace(delim.decode(), target_delim)
            if target_name != "INBOX" and not target.folder_exists(target_name):
                target.create_folder(target_name)
            if not info.get(b"EXISTS"):
                continue
            for uid in source.search("ALL"):
                item = source.fetch([uid], ["BODY.PEEK[]", "FLAGS", "INTERNALDATE"])[uid]
                raw = item[b"BODY[]"]
                flags = [f for f in item[b"FLAGS"] if f != b"\\Recent"]
                target.append(target_name, raw, flags=flags, msg_time=item[b"INTERNALDATE"])
                messages += 1
                total += len(raw)
        source.logout()
        target.logout()
    return {
        "seconds": time.monotonic() - started,
        "copy_cpu_seconds": own_cpu() - cpu,
        "messages": messages,
        "bytes": total,
        "failed": 0,
    }


def child_dsync(spec: dict) -> dict:  # type: ignore[type-arg]
    """The peer: one `doveadm backup -R` per mailbox with the imapc backend, all at once.

    Each doveadm reads the source over IMAP (imapc) and writes the target user's storage through
    the target Dovecot's own config, as a support engineer would script dsync for a migration.
    """
    from wizard.endpoint import parse_endpoint

    procs = []
    started = time.monotonic()
    cpu = own_cpu()
    for src_url, _dst_url, dest in spec["pairs"]:
        src = parse_endpoint(src_url)
        options = {
            "imapc_host": src.host,
            "imapc_port": str(src.port),
            "imapc_user": src.user,
            "imapc_password": spec["password"],
            "imapc_features": "rfc822.size fetch-headers",
            "mail_prefetch_count": "20",
        }
        command = ["doveadm", "-c", spec["target_conf"]]
        for key, value in options.items():
            command += ["-o", f"{key}={value}"]
        command += ["backup", "-R", "-u", dest, "imapc:"]
        procs.append(subprocess.Popen(command, stderr=subprocess.PIPE, text=True))
    errors = [p.communicate()[1] for p in procs if p.wait() != 0]
    seconds = time.monotonic() - started
    if errors:
        raise RuntimeError("doveadm backup failed: " + errors[0][-2000:])
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "seconds": seconds,
        "copy_cpu_seconds": own_cpu() - cpu,
        "messages": spec["expect_messages"],
        "bytes": spec["expect_bytes"],
        "failed": 0,
        # the largest doveadm's peak, and the CPU time of all of them
        "child_peak_rss_mb": children.ru_maxrss / 1024,
        "child_cpu_seconds": children.ru_utime + children.ru_stime,
    }


def child_floor(spec: dict) -> dict:  # type: ignore[type-arg]
    """A floor, not a tool: the least a Python copier can do over IMAP, on bare sockets.

    One thread per mailbox: LIST, then per folder EXAMINE, UID SEARCH, UID FETCH of FLAGS,
    INTERNALDATE and BODY.PEEK[] for 64 UIDs at a time, and one MULTIAPPEND with LITERAL+ per
    64 (cut at 8 MiB). No ledger, no identity, no retries, no folder mapping beyond the
    separator, no error handling: what the engine costs on top of it is the engine's own.
    """
    import re
    import socket
    import threading

    from wizard.endpoint import parse_endpoint

    literal = re.compile(rb"\{(\d+)\}\r\n$")
    listed = re.compile(rb'\* LIST \(([^)]*)\) "(.)" (.*)\r\n')
    fetched = re.compile(rb"FLAGS \(([^)]*)\) INTERNALDATE (\"[^\"]+\")")

    class Wire:
        def __init__(self, url: str, password: str) -> None:
            endpoint = parse_endpoint(url)
            self.sock = socket.create_connection((endpoint.host, endpoint.port))
            self.file = self.sock.makefile("rb", buffering=1 << 16)
            self.file.readline()
            self.n = 0
            self.call(b"LOGIN %s %s" % (endpoint.user.encode(), password.encode()))

        def call(self, line: bytes, on=None, body: bytes = b"") -> None:  # type: ignore[no-untyped-def]
            self.n += 1
            tag = b"F%d " % self.n
            self.sock.sendall(tag + line + body + b"\r\n")
            while not (answer := self.file.readline()).startswith(tag):
                if match := literal.search(answer):
                    data = self.file.read(int(match.group(1)))
                    self.file.readline()
                    on and on(answer, data)
                elif on:
                    on(answer, None)
            if not answer.startswith(tag + b"OK"):
                raise RuntimeError(answer.decode(errors="replace"))

    counts: list[tuple[int, int]] = []

    def one(src_url: str, dst_url: str) -> None:
        source, target = Wire(src_url, spec["password"]), Wire(dst_url, spec["dest_password"])
        folders: list[tuple[bytes, bytes]] = []
        source.call(
            b'LIST "" "*"',
            lambda line, _d: (
                (m := listed.match(line))
                and b"Noselect" not in m.group(1)
                and folders.append((m.group(3), m.group(2)))
            ),
        )
        messages = total = 0
        for name, delimiter in folders:
            target_name = name.replace(delimiter, b".")
            if target_name != b"INBOX":
                target.call(b"CREATE " + target_name)
            source.call(b"EXAMINE " + name)
            uids: list[bytes] = []
            source.call(
                b"UID SEARCH ALL",
                lambda line, _d, uids=uids: (
                    line.startswith(b"* SEARCH") and uids.extend(line.split()[2:])
                ),
            )
            for start in range(0, len(uids), 64):
                got: list[tuple[bytes, bytes]] = []
                source.call(
                    b"UID FETCH %s (FLAGS INTERNALDATE BODY.PEEK[])"
                    % b",".join(uids[start : start + 64]),
                    lambda line, data, got=got: data is not None and got.append((line, data)),
                )
                while got:
                    parts, size = [], 0
                    while got and (not parts or size + len(got[0][1]) <= 8 * MB):
                        line, data = got.pop(0)
                        match = fetched.search(line)
                        assert match is not None
                        flags = match.group(1).replace(b"\\Recent", b"").strip()
                        parts += [b" (%s) %s {%d+}\r\n" % (flags, match.group(2), len(data)), data]
                        size += len(data)
                        messages += 1
                        total += len(data)
                    target.call(b"APPEND " + target_name, body=b"".join(parts))
        for wire in (source, target):
            wire.call(b"LOGOUT")
        counts.append((messages, total))

    started = time.monotonic()
    cpu = own_cpu()
    threads = [threading.Thread(target=one, args=(src, dst)) for src, dst, _dest in spec["pairs"]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if len(counts) != len(threads):
        raise RuntimeError("floor: a mailbox failed")
    return {
        "seconds": time.monotonic() - started,
        "copy_cpu_seconds": own_cpu() - cpu,
        "messages": sum(m for m, _ in counts),
        "bytes": sum(b for _, b in counts),
        "failed": 0,
    }


def child_ews_engine(spec: dict) -> dict:  # type: ignore[type-arg]
    return child_engine(spec)


def child_ews_bare(spec: dict) -> dict:  # type: ignore[type-arg]
    """Bare exchangelib: fetch in batches, bulk_create the MIME, N mailboxes at once."""
    from concurrent.futures import ThreadPoolExecutor

    from exchangelib import DELEGATE, Account, Configuration, Credentials, Message
    from imapclient import IMAPClient

    from wizard.endpoint import parse_endpoint

    def one(pair: list[str]) -> tuple[int, int]:
        src_url, dst_url, dest = pair
        src, dst = parse_endpoint(src_url), parse_endpoint(dst_url)
        scheme = "https" if dst.security == "tls" else "http"
        config = Configuration(
            service_endpoint=f"{scheme}://{dst.host}:{dst.port}{dst.path or '/EWS/Exchange.asmx'}",
            credentials=Credentials(dst.user, spec["dest_password"]),
        )
        account = Account(dest, config=config, autodiscover=False, access_type=DELEGATE)
        source = IMAPClient(src.host, src.port, ssl=False)
        source.login(src.user, spec["password"])
        count = size = 0
        for flags, _delim, name in source.list_folders():
            if b"\\Noselect" in flags or b"\\NonExistent" in flags:
                continue
            info = source.select_folder(name, readonly=True)
            if not info.get(b"EXISTS"):
                continue
            uids = source.search("ALL")
            for start in range(0, len(uids), 32):
                data = source.fetch(uids[start : start + 32], ["BODY.PEEK[]"])
                items = [
                    Message(account=account, folder=account.inbox, mime_content=d[b"BODY[]"])
                    for d in data.values()
                ]
                account.bulk_create(folder=account.inbox, items=items)
                count += len(items)
                size += sum(len(d[b"BODY[]"]) for d in data.values())
        return count, size

    started = time.monotonic()
    cpu = own_cpu()
    with ThreadPoolExecutor(spec["concurrency"]) as pool:
        results = list(pool.map(one, spec["pairs"]))
    return {
        "seconds": time.monotonic() - started,
        "copy_cpu_seconds": own_cpu() - cpu,
        "messages": sum(r[0] for r in results),
        "bytes": sum(r[1] for r in results),
        "failed": 0,
    }


EWS_PASSWORD = "bench-ews-password"

CHILDREN = {
    "engine": child_engine,
    "naive": child_naive,
    "dsync": child_dsync,
    "floor": child_floor,
    "ews-engine": child_ews_engine,
    "ews-bare": child_ews_bare,
}


PROFILE: Path | None = None  # --profile DIR: each engine child sampled by py-spy into DIR


def run_child(method: str, spec: dict, pair=None) -> dict:  # type: ignore[type-arg,no-untyped-def]
    # Every method starts with nothing left to write back: without this the first round's engine
    # shared the disk and the CPU with the kernel flushing the corpus just built (1.4 GB), and
    # each later method with the writes of the one before.
    os.sync()
    before = busy_seconds()
    servers = servers_cpu_seconds(pair) if pair is not None else (0.0, 0.0)
    command = [sys.executable, __file__, "--child", method]
    if PROFILE is not None and method == "engine":
        PROFILE.mkdir(parents=True, exist_ok=True)
        out = PROFILE / f"{method}-{spec.get('mode', 'initial')}-{len(list(PROFILE.iterdir()))}.txt"
        py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        command = [
            py_spy,
            "record",
            "--format",
            "raw",
            "--threads",
            "-r",
            "250",
            "-o",
            str(out),
            "--",
        ] + command
    proc = subprocess.run(
        command,
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{method} failed:\n{proc.stderr[-3000:]}")
    lines = proc.stdout.strip().splitlines()  # py-spy, when it samples, prints after the child
    result = json.loads(next(line for line in reversed(lines) if line.startswith("{")))
    result["machine_cpu_seconds"] = busy_seconds() - before
    if pair is not None:
        time.sleep(0.3)  # the imap processes of the last logouts end
        after = servers_cpu_seconds(pair)
        result["source_cpu_seconds"] = after[0] - servers[0]
        result["target_cpu_seconds"] = after[1] - servers[1]
    return result


def child_main(method: str) -> None:
    spec = json.loads(sys.stdin.read())
    result = CHILDREN[method](spec)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result["peak_rss_mb"] = result.pop("child_peak_rss_mb", peak_rss_mb())
    result["cpu_seconds"] = usage.ru_utime + usage.ru_stime + result.pop("child_cpu_seconds", 0.0)
    print(json.dumps(result))


# ----- the run --------------------------------------------------------------------------------


def fmt(r: dict) -> str:  # type: ignore[type-arg]
    mps = r["messages"] / r["seconds"]
    mbs = r["bytes"] / MB / r["seconds"]
    return (
        f"{r['messages']:>5} msgs {r['bytes'] / MB:8.1f} MB {r['seconds']:7.1f} s  "
        f"{mps:7.1f} msgs/s {mbs:7.1f} MB/s  peak RSS {r['peak_rss_mb']:6.1f} MB"
        + (
            f"  CPU: ours {r['cpu_seconds']:.1f} s (copy {r.get('copy_cpu_seconds', 0):.2f} s), "
            f"source {r.get('source_cpu_seconds', 0):.1f} s, "
            f"target {r.get('target_cpu_seconds', 0):.1f} s, machine {r['machine_cpu_seconds']:.1f} s"
            if "cpu_seconds" in r
            else ""
        )
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument(
        "--scale", type=float, default=1.0, help="fraction of the 500 messages per mailbox"
    )
    parser.add_argument("--mailboxes", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--no-warmup",
        dest="warmup",
        action="store_false",
        help="no uncounted round 0 before the measured rounds",
    )
    parser.add_argument("--concurrency", type=int, default=8, help="mailboxes at once (engine)")
    from wizard.copy.job import CopySettings

    engine = CopySettings()  # the engine's own defaults, as `onboard copy` runs it
    parser.add_argument(
        "--batch-mb", type=float, default=engine.batch_bytes / MB, help="engine batch size"
    )
    parser.add_argument("--batch-messages", type=int, default=engine.batch_messages)
    parser.add_argument(
        "--budget-mb", type=float, default=engine.memory_budget / MB, help="engine memory budget"
    )
    parser.add_argument("--big", type=int, default=2, help="messages over 10 MB per mailbox")
    parser.add_argument("--ews", action="store_true", help="also IMAP to the EWS stand-in")
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--skip-dsync", action="store_true")
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also a bare-socket copier (no ledger, no identity, no retries): a floor",
    )
    parser.add_argument(
        "--skip-passes", action="store_true", help="no differential pass nor reconciliation"
    )
    parser.add_argument(
        "--corpus",
        choices=("mixed", "small"),
        default="mixed",
        help="mixed: 2 KB-2 MB plus big ones; small: many small messages (2-20 KB, no big ones)",
    )
    parser.add_argument(
        "--storage",
        choices=("mdbox", "maildir", "sdbox"),
        default="mdbox",
        help="Dovecot mail storage of both servers (maildir makes a file per message)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="sample each engine run with py-spy (from PyPI) into DIR, as collapsed stacks",
    )
    args = parser.parse_args()
    global PROFILE
    PROFILE = args.profile
    if args.child:
        child_main(args.child)
        return 0

    from tests.copy.dovecot_dev import DovecotPair

    per_mailbox = max(10, int(500 * args.scale))
    pair = DovecotPair(args.storage)
    work = Path(tempfile.mkdtemp(prefix="onboard-bench-"))
    try:
        users = [f"bench{i}" for i in range(args.mailboxes)]
        print(
            f"building the corpus: {args.mailboxes} mailboxes x {per_mailbox} messages, {len(FOLDERS)} folders"
        )
        started = time.monotonic()
        small = args.corpus == "small"
        messages, total = build_corpus(
            pair.source, users, per_mailbox, 0 if small else args.big, small
        )
        print(f"  {messages} messages, {total / MB:.1f} MB in {time.monotonic() - started:.1f} s")
        expected = [mailbox_digest(pair.source, u) for u in users]
        results: dict[str, list[dict]] = {}  # type: ignore[type-arg]
        methods = ["engine"] + ([] if args.skip_dsync or not shutil.which("doveadm") else ["dsync"])
        methods += [] if args.skip_naive else ["naive"]
        methods += ["floor"] if args.floor else []
        if args.ews:
            from wizard.devservers.ews import EWS_PATH, EwsSandbox

            sandbox = EwsSandbox()  # in this process; the copies run in child processes
            sandbox.start()
            methods += ["ews-engine", "ews-bare"]
        # Round 0 warms up and is not counted: the first copy after the corpus was built (the
        # engine's, which goes first) cost the target's Dovecot up to twice the CPU of the same
        # copy in later rounds.
        for round_no in range(0 if args.warmup else 1, args.rounds + 1):
            label = f"round {round_no}" if round_no else "warm-up"

            for method in methods:
                dests = [f"r{round_no}{method[:2]}{method[-2:]}{u}" for u in users]
                if method.startswith("ews"):
                    for d in dests:
                        sandbox.add_mailbox(f"{d}@bench.example", EWS_PASSWORD)
                    urls = [
                        f"ews://{d}@bench.example@127.0.0.1:{sandbox.port}{EWS_PATH}?tls=none"
                        for d in dests
                    ]
                    dest_password = EWS_PASSWORD
                else:
                    urls = [pair.target.url(d) for d in dests]
                    dest_password = pair.target.password
                spec = {
                    "pairs": [
                        (pair.source.url(u), url, f"{d}@bench.example" if "ews" in method else d)
                        for u, d, url in zip(users, dests, urls, strict=True)
                    ],
                    "password": pair.source.password,
                    "dest_password": dest_password,
                    "concurrency": args.concurrency,
                    "batch_mb": args.batch_mb,
                    "batch_messages": args.batch_messages,
                    "budget_mb": args.budget_mb,
                    "ledger": str(work / f"{method}-{round_no}.onboard"),
                    "target_conf": str(pair.config("target")),
                    "expect_messages": messages,
                    "expect_bytes": total,
                }
                result = run_child(method, spec, pair)
                if round_no:
                    results.setdefault(method, []).append(result)
                print(f"{label} {method:<12} {fmt(result)}")
                if not method.startswith("ews"):  # the peer's count is checked, not taken
                    check_byte_exact(method, pair.target, dests, expected)
                if method == "engine" and not args.skip_passes:
                    for again in ("differential", "reconcile"):
                        spec_again = dict(
                            spec, mode="differential" if again[0] == "d" else "initial"
                        )
                        if again == "reconcile":  # a new session: the ledger knows nothing
                            spec_again["ledger"] = str(work / f"{again}-{round_no}.onboard")
                        result = run_child("engine", spec_again, pair)
                        if result["messages"] or result["already"] != messages:
                            raise RuntimeError(
                                f"{again}: {result['messages']} copied, {result['already']} "
                                f"of {messages} found already there"
                            )
                        result["messages"] = result.pop("already")  # looked at, none sent
                        if round_no:
                            results.setdefault(again, []).append(result)
                        print(f"{label} {again:<12} {fmt(result)}")
                    check_byte_exact("reconcile", pair.target, dests, expected)
                for d in dests:  # keep the disk small between rounds
                    shutil.rmtree(pair.home("target", d), ignore_errors=True)
        print("\nmedian of rounds:")
        medians = {}
        for method, rounds in results.items():
            median = {
                key: statistics.median(r[key] for r in rounds)
                for key in (
                    "seconds",
                    "messages",
                    "bytes",
                    "peak_rss_mb",
                    "cpu_seconds",
                    "copy_cpu_seconds",
                    "source_cpu_seconds",
                    "target_cpu_seconds",
                )
                if all(key in r for r in rounds)
            }
            median["machine_cpu_seconds"] = statistics.median(
                r["machine_cpu_seconds"] for r in rounds
            )
            medians[method] = median
            print(f"  {method:<12} {fmt(median)}")
        rate = {m: v["messages"] / v["seconds"] for m, v in medians.items()}
        if "dsync" in medians:
            print(
                f"\nengine / dsync-imapc msgs/s: {rate['engine'] / rate['dsync']:.2f}x "
                f"(target >= 1.0x); dsync peak RSS {medians['dsync']['peak_rss_mb']:.0f} MB "
                "per process"
            )
        if "floor" in medians:
            print(
                f"engine / floor msgs/s: {rate['engine'] / rate['floor']:.2f}x"
                + (
                    f"; floor / dsync-imapc: {rate['floor'] / rate['dsync']:.2f}x"
                    if "dsync" in rate
                    else ""
                )
            )
        for again, limit in (("differential", 2), ("reconcile", 5)):
            if again in medians:
                print(
                    f"{again}: {medians[again]['seconds']:.2f} s over "
                    f"{medians[again]['messages']:.0f} messages (target < {limit} s)"
                )
        if "naive" in medians:
            speed = (medians["engine"]["messages"] / medians["engine"]["seconds"]) / (
                medians["naive"]["messages"] / medians["naive"]["seconds"]
            )
            print(
                f"\nengine / naive msgs/s: {speed:.1f}x (target >= 5x); engine peak RSS "
                f"{medians['engine']['peak_rss_mb']:.0f} MB (target <= 150 MB)"
            )
        if "ews-engine" in medians:
            ratio = (medians["ews-engine"]["messages"] / medians["ews-engine"]["seconds"]) / (
                medians["ews-bare"]["messages"] / medians["ews-bare"]["seconds"]
            )
            print(
                f"IMAP to EWS, engine / bare exchangelib msgs/s: {ratio:.2f}x (target >= 0.8x, "
                f"{args.concurrency} connections each)"
            )
    finally:
        if args.ews:
            sandbox.stop()
        pair.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
