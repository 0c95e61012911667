"""Local worker processes for comparisons and sweeps."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor


def process_pool(workers: int | None) -> ProcessPoolExecutor:
    """A process pool whose workers come from a fork server that has the model imported.

    Safe when the caller has threads (Jupyter kernels, progress bars, Dask clients), unlike plain
    ``fork``; scripts that use it need the usual ``if __name__ == "__main__":`` guard.
    """
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["sim._worker", "sim.sweep", "sim.compare", "sim.run"])
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
