"""Keep a copy's memory flat: big message buffers go back to the OS as soon as they are freed."""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
import threading

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_done = threading.Event()


def return_big_buffers_to_the_os(threshold: int = 1024 * 1024) -> bool:
    """glibc raises its mmap threshold each time a big buffer is freed (up to 32 MB), after which
    message-sized buffers are carved from per-thread arenas that keep their memory: RSS creeps up
    to threads x largest message. A fixed threshold makes every buffer over ``threshold`` a
    mapping of its own, unmapped when freed. Process-wide and idempotent; False off glibc."""
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
    ok = bool(mallopt(_M_MMAP_THRESHOLD, threshold)) and bool(
        mallopt(_M_TRIM_THRESHOLD, 4 * threshold)
    )
    if ok:
        _done.set()
    return ok
