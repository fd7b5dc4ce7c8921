"""What bench/copy.py measures besides time: a process's own peak RSS, the CPU of the machine
and of the two Dovecots, and whether a copy is byte-exact."""

from __future__ import annotations

import hashlib
import os
import resource
from pathlib import Path


def busy_seconds() -> float:
    """CPU time the whole machine spent busy so far (all processes, all cores)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    values = [int(v) for v in fields]
    idle = values[3] + values[4]
    return (sum(values) - idle) / os.sysconf("SC_CLK_TCK")


def servers_cpu_seconds(pair) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """CPU time the source and the target Dovecot spent so far: each master and its ended
    children (the imap and auth processes a copy's connections used, once they logged out)."""
    out = []
    for which in ("source", "target"):
        pid = (pair.config(which).parent / "run" / "master.pid").read_text().split()[0]
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        out.append(sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK"))
    return out[0], out[1]


def peak_rss_mb() -> float:
    """This process's own peak RSS. Not ru_maxrss: Linux carries the parent's over an exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def mailbox_digest(server, user: str) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """Every folder's messages of one mailbox as a sorted list of SHA-256 of their raw bytes."""
    client = server.client(user)
    out: dict[str, list[str]] = {}
    for flags, _delim, name in client.list_folders():
        if b"\\Noselect" in flags or b"\\NonExistent" in flags:
            continue
        client.select_folder(name, readonly=True)
        uids = client.search("ALL")
        hashes = []
        for start in range(0, len(uids), 20):
            data = client.fetch(uids[start : start + 20], ["BODY.PEEK[]"])
            hashes += [hashlib.sha256(d[b"BODY[]"]).hexdigest() for d in data.values()]
        if hashes:
            out[name] = sorted(hashes)
    client.logout()
    return out


def check_byte_exact(method: str, target, dests: list[str], expected) -> None:  # type: ignore[no-untyped-def]
    """Each target mailbox holds exactly the source's messages, byte for byte, and as many per
    folder (the engine maps folder names to the target's, dsync and the naive loop keep them)."""
    for dest, want in zip(dests, expected, strict=True):
        got = mailbox_digest(target, dest)
        if sorted(h for v in got.values() for h in v) != sorted(
            h for v in want.values() for h in v
        ):
            raise RuntimeError(f"{method}: {dest} does not hold its source's messages byte-exact")
        if sorted(map(len, got.values())) != sorted(map(len, want.values())):
            raise RuntimeError(f"{method}: {dest}'s folders do not hold as many as the source's")
