"""TCP proxies on 127.0.0.1: one cuts connections after a number of bytes (to test reconnects),
one delivers large writes late (to test a batch that lands after its sender was killed)."""

from __future__ import annotations

import contextlib
import queue
import random
import socket
import threading
import time


class DroppingProxy:
    """Forwards to ``upstream``; each connection is cut after a random number of bytes (between
    ``low`` and ``high``) sent by the client ("up") or the server ("down"), for the first
    ``drops`` connections only."""

    def __init__(
        self,
        upstream: tuple[str, int],
        *,
        low: int,
        high: int,
        drops: int,
        seed: int = 1,
        direction: str = "up",
    ) -> None:
        self.direction = direction
        self.upstream = upstream
        self.low, self.high = low, high
        self.drops_left = drops
        self.dropped = 0
        self.rng = random.Random(seed)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self._lock = threading.Lock()
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._stop = True
        with contextlib.suppress(OSError):
            self.server.close()

    def _accept(self) -> None:
        while not self._stop:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            with self._lock:
                budget = self.rng.randint(self.low, self.high) if self.drops_left > 0 else None
                if budget is not None:
                    self.drops_left -= 1
            upstream = socket.create_connection(self.upstream)
            up, down = (budget, None) if self.direction == "up" else (None, budget)
            threading.Thread(target=self._pump, args=(client, upstream, up), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, down), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, budget: int | None) -> None:
        sent = 0
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if budget is not None and sent + len(data) >= budget:
                    dst.sendall(data[: max(0, budget - sent)])
                    with self._lock:
                        self.dropped += 1
                    break
                dst.sendall(data)
                sent += len(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    s.close()


class LaggingProxy:
    """Forwards to ``upstream`` like a link where large writes are slow to arrive: each chunk of
    at least ``big`` bytes the client sends (a message's bytes, not a command line) reaches the
    server ``lag`` seconds after the client sent it, in order. When the client goes away (killed),
    what it had sent still arrives, then the server sees the connection close: a batch on its way
    lands after its sender is gone. Only the first ``connections`` connections lag (0: all).
    ``held`` is the number of bytes held back now, ``delivered`` the number of writes held back
    that reached the server."""

    def __init__(
        self, upstream: tuple[str, int], *, lag: float, big: int = 16384, connections: int = 0
    ) -> None:
        self.upstream = upstream
        self.lag, self.big = lag, big
        self.slow_left = connections or -1  # how many connections lag (0: all of them)
        self.held = 0
        self.delivered = 0
        self._lock = threading.Lock()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.server.close()

    def drain(self, timeout: float = 30.0) -> None:
        """Wait until everything held back has reached the server (nothing more can land), then
        take no more connections."""
        deadline = time.monotonic() + timeout
        while self.held and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not self.held, f"{self.held} bytes still held back after {timeout:.0f} s"
        self.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.upstream)
            line: queue.Queue[tuple[float, bytes, bool] | None] = queue.Queue()
            lag = self.lag if self.slow_left != 0 else 0.0
            self.slow_left -= self.slow_left > 0
            threading.Thread(target=self._read_up, args=(client, line, lag), daemon=True).start()
            threading.Thread(target=self._deliver, args=(line, upstream), daemon=True).start()
            threading.Thread(target=self._down, args=(upstream, client), daemon=True).start()

    def _read_up(self, client: socket.socket, line: queue.Queue, lag: float) -> None:  # type: ignore[type-arg]
        due = 0.0
        try:
            while data := client.recv(65536):
                now = time.monotonic()
                due = max(due, now + (lag if len(data) >= self.big else 0.0))
                late = due > now  # a large write, or what queues behind one
                if late:
                    with self._lock:
                        self.held += len(data)
                line.put((due, data, late))
        except OSError:
            pass
        line.put(None)

    def _deliver(self, line: queue.Queue, upstream: socket.socket) -> None:  # type: ignore[type-arg]
        try:
            while (item := line.get()) is not None:
                due, data, late = item
                time.sleep(max(0.0, due - time.monotonic()))
                upstream.sendall(data)
                if late:
                    with self._lock:
                        self.held -= len(data)
                        self.delivered += 1
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                upstream.shutdown(socket.SHUT_WR)

    def _down(self, upstream: socket.socket, client: socket.socket) -> None:
        # The server's answers to a client that is gone are read and dropped: the server goes on
        # until what was on its way has arrived and it sees the connection close.
        gone = False
        try:
            while data := upstream.recv(65536):
                if not gone:
                    try:
                        client.sendall(data)
                    except OSError:
                        gone = True
        except OSError:
            pass
        finally:
            for s in (upstream, client):
                with contextlib.suppress(OSError):
                    s.close()
