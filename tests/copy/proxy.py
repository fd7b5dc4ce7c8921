"""A TCP proxy on 127.0.0.1 that cuts connections after a number of bytes, to test reconnects."""

from __future__ import annotations

import contextlib
import random
import socket
import threading


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
