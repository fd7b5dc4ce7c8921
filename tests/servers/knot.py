"""Real authoritative DNS servers (Knot) for tests, each from a generated configuration.

A ``KnotServer`` listens on its own loopback address 127.0.0.x and a free port, UDP and TCP,
and serves the zones a test writes with ``set_zone(origin, records)`` (zone-file lines relative
to the origin; the SOA is added with a serial that goes up on every write, and an NS record
when the lines have none). Writing a zone of a running server reloads it with
``knotc zone-reload`` (blocking), which is how tests make a change "propagate"; a zone the server
did not serve yet is added by reloading the configuration. Several servers given different zones
play resolvers and name servers that disagree. ``SilentServer`` is a UDP socket on loopback that
never answers, for timeouts.

knotd runs as whoever runs the tests: as root it simply stays root (the generated configuration
names no ``user``, so Knot does not switch), as a normal user everything lives in a temporary
directory that user owns. Use it from pytest through ``knot_factory`` / ``silent_dns`` in
tests/servers/plugin.py, or directly: ``KnotFactory()(zones)`` and ``stop_all()``.
"""

from __future__ import annotations

import contextlib
import random
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

import dns.message
import dns.query
import dns.rcode

from wizard.dns import NameServer

KNOTD = shutil.which("knotd") or "/usr/sbin/knotd"
KNOTC = shutil.which("knotc") or "/usr/sbin/knotc"
START_TIMEOUT = 10.0


class KnotUnavailable(RuntimeError):
    """knotd or knotc is not installed."""


class KnotFailed(RuntimeError):
    """Knot did not start or refused a zone; the message carries the end of its log."""


def knot_installed() -> bool:
    return Path(KNOTD).exists() and Path(KNOTC).exists()


def _free_endpoint(taken: set[str]) -> tuple[str, int]:
    """A loopback address not used by this factory yet and a port free there on UDP and TCP."""
    for _attempt in range(200):
        host = f"127.0.0.{random.randint(2, 250)}"
        if host in taken:
            continue
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            udp.bind((host, 0))
            port = udp.getsockname()[1]
            tcp.bind((host, port))
        except OSError:
            continue
        finally:
            udp.close()
            tcp.close()
        return host, port
    raise KnotFailed("no free loopback address and port for Knot")


def _zone_text(origin: str, records: str, serial: int, host: str) -> str:
    lines = [
        f"$ORIGIN {origin}.",
        "$TTL 300",
        f"@ 300 IN SOA ns1.{origin}. hostmaster.{origin}. {serial} 3600 600 86400 300",
    ]
    if not re.search(r"^\S*\s+(\d+\s+)?(IN\s+)?NS\s", records, re.M | re.I):
        lines += ["@ IN NS ns1", f"ns1 IN A {host}"]
    return "\n".join([*lines, records.strip(), ""])


class KnotServer:
    """One running knotd; see the module docstring."""

    def __init__(self, workdir: Path, host: str, port: int) -> None:
        self.workdir = workdir
        self.host = host
        self.port = port
        self.zones: dict[str, str] = {}
        self.serials: dict[str, int] = {}
        self.process: subprocess.Popen[bytes] | None = None
        self.config = workdir / "knot.conf"
        self.socket = workdir / "knot.sock"
        self.log = workdir / "knotd.log"
        (workdir / "zones").mkdir(parents=True, exist_ok=True)
        (workdir / "db").mkdir(exist_ok=True)

    # ----- addresses -----------------------------------------------------------------------

    @property
    def address(self) -> str:
        """``IP:PORT``, as given to ``--resolver``."""
        return f"{self.host}:{self.port}"

    def server(self, label: str = "") -> NameServer:
        return NameServer(self.host, self.port, label)

    # ----- zones ---------------------------------------------------------------------------

    def set_zone(self, origin: str, records: str, *, serial: int | None = None) -> int:
        """Write (or rewrite) a zone; when running, reload it. Returns the SOA serial."""
        origin = origin.rstrip(".").lower()
        new = origin not in self.zones
        number = serial if serial is not None else self.serials.get(origin, 0) + 1
        self.zones[origin] = records
        self.serials[origin] = number
        path = self.workdir / "zones" / f"{origin}.zone"
        path.write_text(_zone_text(origin, records, number, self.host), encoding="utf-8")
        if self.process is not None:
            if new:
                self._write_config()
                self._knotc("reload")
            else:
                self._knotc("zone-reload", origin)
            self._wait_for_serial(origin, number)
        return number

    def serial(self, origin: str) -> int:
        return self.serials[origin.rstrip(".").lower()]

    # ----- life cycle ----------------------------------------------------------------------

    def _write_config(self) -> None:
        zones = "".join(f"  - domain: {origin}\n" for origin in sorted(self.zones))
        zones = f"zone:\n{zones}" if zones else ""  # Knot rejects an empty zone list
        self.config.write_text(
            f"""server:
    rundir: "{self.workdir}"
    listen: {self.host}@{self.port}
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: "{self.workdir / "db"}"
control:
    listen: "{self.socket}"
log:
  - target: stderr
    any: notice
template:
  - id: default
    storage: "{self.workdir / "zones"}"
    file: "%s.zone"
    journal-content: none
    zonefile-sync: -1
    semantic-checks: off
{zones}""",
            encoding="utf-8",
        )

    def start(self) -> KnotServer:
        self._write_config()
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [KNOTD, "-c", str(self.config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.workdir,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise KnotFailed(f"knotd exited with {self.process.returncode}: {self.log_tail()}")
            if self.socket.exists() and self._status_ok():
                break
            time.sleep(0.02)
        else:
            self.stop()
            raise KnotFailed(f"knotd did not start within {START_TIMEOUT:g} s: {self.log_tail()}")
        for origin, serial in self.serials.items():
            self._wait_for_serial(origin, serial)
        return self

    def _status_ok(self) -> bool:
        result = subprocess.run(
            [KNOTC, "-c", str(self.config), "-s", str(self.socket), "status"],
            capture_output=True,
            check=False,
        )
        return result.returncode == 0

    def _knotc(self, *args: str) -> None:
        result = subprocess.run(
            [KNOTC, "-c", str(self.config), "-s", str(self.socket), "-b", *args],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise KnotFailed(
                f"knotc {' '.join(args)} failed: {result.stdout}{result.stderr} {self.log_tail()}"
            )

    def _wait_for_serial(self, origin: str, serial: int) -> None:
        """Until the server answers the zone's SOA with ``serial`` (a reload is asynchronous)."""
        deadline = time.monotonic() + START_TIMEOUT
        query = dns.message.make_query(origin + ".", "SOA")
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                answer = dns.query.udp(query, self.host, port=self.port, timeout=0.5)
                served = answer.answer[0][0].serial if answer.answer else None
                if answer.rcode() == dns.rcode.NOERROR and served == serial:
                    return
            time.sleep(0.02)
        raise KnotFailed(f"zone {origin} serial {serial} never served: {self.log_tail()}")

    def log_tail(self, lines: int = 15) -> str:
        with contextlib.suppress(OSError):
            return " | ".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return "(no log)"

    def stop(self) -> None:
        if self.process is None:
            return
        process, self.process = self.process, None
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


class SilentServer:
    """A UDP socket on loopback that receives questions and never answers (a timeout)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.host, self.port = self.sock.getsockname()

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def server(self, label: str = "") -> NameServer:
        return NameServer(self.host, self.port, label)

    def close(self) -> None:
        self.sock.close()


class KnotFactory:
    """Starts Knot servers on distinct loopback addresses; ``stop_all`` ends them all."""

    def __init__(self, base: Path | None = None) -> None:
        if not knot_installed():
            raise KnotUnavailable(f"knotd is not installed ({KNOTD} missing)")
        self.base = base or Path(tempfile.mkdtemp(prefix="onboard-knot-"))
        self.servers: list[KnotServer] = []

    def __call__(self, zones: Mapping[str, str] | None = None) -> KnotServer:
        host, port = _free_endpoint({s.host for s in self.servers})
        workdir = Path(tempfile.mkdtemp(prefix=f"knot-{host}-", dir=self.base))
        server = KnotServer(workdir, host, port)
        for origin, records in (zones or {}).items():
            server.set_zone(origin, records)
        self.servers.append(server)
        return server.start()

    def stop_all(self) -> None:
        for server in self.servers:
            server.stop()
        self.servers.clear()
        shutil.rmtree(self.base, ignore_errors=True)
