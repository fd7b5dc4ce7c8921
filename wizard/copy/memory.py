"""Keep a copy's memory flat: big message buffers go back to the OS as soon as they are freed,
and one ``ByteBudget`` bounds the message bytes every mailbox of a copy holds at once."""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
import threading
from collections.abc import Callable

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
_done = threading.Event()


def return_big_buffers_to_the_os(threshold: int = 1024 * 1024, arenas: int = 1) -> bool:
    """glibc raises its mmap threshold each time a big buffer is freed (up to 32 MB), after which
    message-sized buffers are carved from per-thread arenas that keep their memory: RSS creeps up
    to threads x largest message. A fixed threshold makes every buffer over ``threshold`` a
    mapping of its own, unmapped when freed; at most ``arenas`` arenas (glibc makes up to 8 per
    core, one per busy thread, each keeping what its thread freed) keep the buffers under it from
    being held once per thread: a message read by a fetch thread is freed by the mailbox thread.
    Process-wide and idempotent; False off glibc."""
    if _done.is_set():
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    ok = (
        bool(mallopt(_M_MMAP_THRESHOLD, threshold))
        and bool(mallopt(_M_TRIM_THRESHOLD, 4 * threshold))
        and bool(mallopt(_M_ARENA_MAX, arenas))
    )
    if ok:
        _done.set()
    return ok


class ByteBudget:
    """Bytes of message data in memory at once; one oversize message may always go alone."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self.used = 0
        self.peak = 0
        self._cond = threading.Condition()

    def acquire(self, amount: int, stop: Callable[[], bool]) -> bool:
        with self._cond:
            while self.used > 0 and self.used + amount > self.limit:
                if stop():
                    return False
                self._cond.wait(0.2)
            self.used += amount
            self.peak = max(self.peak, self.used)
            return True

    def cap(self, limit: int) -> None:
        """Hold at most ``limit`` bytes from now on (a budget is never raised): what is held
        already stays, new batches wait until the rest fits under it."""
        with self._cond:
            self.limit = max(1, min(self.limit, limit))

    def release(self, amount: int) -> None:
        with self._cond:
            self.used = max(0, self.used - amount)
            self._cond.notify_all()
