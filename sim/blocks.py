"""Cache blocking for the per-view pipelines.

A day has millions of views; a chain of numpy operations over whole per-view
arrays streams each temporary through main memory.  Run block by block, the
same elementwise operations (so the same bits) work on temporaries that stay in
cache.  Random draws taken block by block from one generator are the same
numbers as one draw of the whole length (a float64 uniform uses one 64-bit output).
"""

from __future__ import annotations

from collections.abc import Iterator

BLOCK = 1 << 16  # views per block: a block's float64 temporaries (512 KiB each) stay in cache


def blocks(n: int, size: int = BLOCK) -> Iterator[slice]:
    """Consecutive slices covering ``range(n)``, ``size`` long (the last may be shorter)."""
    for lo in range(0, n, size):
        yield slice(lo, min(lo + size, n))
