"""Keep freed working memory in the process: a day's temporaries reuse it instead of faulting in new pages.

A day at 1e6 consumers allocates and frees dozens of per-view arrays of a few to
tens of megabytes.  glibc's allocator serves blocks above a dynamic threshold with
``mmap`` and returns them to the kernel on ``free``, so every day pays again for
page faults and for the kernel zeroing those pages (about 8% of a day at 1e6
consumers on the 2-core benchmark machine: experiments/BENCHMARKS.md).  Raising the
mmap threshold to glibc's maximum (32 MiB on 64-bit) and not trimming the heap
keeps that memory for reuse.  Results are unaffected (only where memory comes
from changes); elsewhere than glibc this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util

_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3
_done = False


def keep_freed_memory() -> bool:
    """Tune glibc's allocator once per process (``mallopt``); returns whether it applied."""
    global _done
    if _done:
        return True
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc: nothing to tune
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    ok = all(mallopt(param, value) == 1 for param, value in (
        (_M_MMAP_THRESHOLD, 32 * 2**20),  # glibc's maximum on 64-bit
        (_M_TRIM_THRESHOLD, 2**31 - 1),
        (_M_TOP_PAD, 64 * 2**20),
    ))
    _done = ok
    return ok
