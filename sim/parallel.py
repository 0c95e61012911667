"""Local worker processes for comparisons and sweeps, and how a command stops them on Ctrl-C or a kill.

``process_pool`` makes the pools; ``run_command`` wraps a command's ``main`` (``python -m sim``,
``sim.sweep``, ``sim.sensitivity``, ``sim.calibrate``, ...) so that Ctrl-C or SIGTERM stops its
workers at once and exits with one line and status 130 (143 for SIGTERM).
"""

from __future__ import annotations

import multiprocessing
import os
import select
import signal
import sys
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

#: exit status of a command stopped by Ctrl-C (SIGINT) or SIGTERM: 128 + the signal's number, as shells report it
EXIT_INTERRUPTED = 128 + signal.SIGINT
EXIT_TERMINATED = 128 + signal.SIGTERM


class Terminated(KeyboardInterrupt):
    """Raised in the main thread on SIGTERM (by ``run_command``), so a kill unwinds like Ctrl-C.

    A subclass of KeyboardInterrupt: the ``finally`` blocks and pool shutdowns that handle Ctrl-C
    handle a kill the same way.
    """


class WorkerPool(ProcessPoolExecutor):
    """A process pool that stops its workers at once when an interrupt unwinds the code using it."""

    def __init__(self, max_workers: int | None, mp_context: multiprocessing.context.BaseContext) -> None:
        super().__init__(max_workers=max_workers, mp_context=mp_context, initializer=_init_worker,
                         initargs=(os.getpid(),))
        # the executor drops its reference to the workers on shutdown; this one outlives it for terminate()
        self._workers = self._processes
        _POOLS.add(self)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """As ``ProcessPoolExecutor.shutdown``, but terminate the workers if Ctrl-C or SIGTERM is unwinding the caller.

        Callers shut pools down in ``finally`` blocks; during an interrupt, waiting there for the runs in
        flight would keep the command alive for as long as a run takes.
        """
        if isinstance(sys.exc_info()[1], KeyboardInterrupt):
            self.terminate()
        else:
            super().shutdown(wait=wait, cancel_futures=cancel_futures)

    def terminate(self, grace: float = 2.0) -> None:
        """Cancel the queued runs and end the workers now: SIGTERM, then SIGKILL after ``grace`` seconds."""
        workers = list(self._workers.values())
        super().shutdown(wait=False, cancel_futures=True)
        for p in workers:
            if p.exitcode is None:
                p.terminate()
        deadline = time.monotonic() + grace
        for p in workers:
            p.join(max(0.0, deadline - time.monotonic()))
            if p.exitcode is None:
                p.kill()
                p.join(1.0)


_POOLS: weakref.WeakSet[WorkerPool] = weakref.WeakSet()


def process_pool(workers: int | None) -> WorkerPool:
    """A process pool whose workers come from a fork server that has the model imported.

    Safe when the caller has threads (Jupyter kernels, progress bars, Dask clients), unlike plain
    ``fork``; scripts that use it need the usual ``if __name__ == "__main__":`` guard. The workers
    ignore Ctrl-C (the parent stops them) and exit by themselves if the parent dies.
    """
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["sim._worker", "sim.sweep", "sim.compare", "sim.run"])
    return WorkerPool(workers, ctx)


def share_cores() -> None:
    """In a worker whose jobs share the machine's cores: one thread each for the chunked kernels
    (unless ``LIVESIM_THREADS`` says otherwise). Process-pool and Dask workers call it on start."""
    if "LIVESIM_THREADS" not in os.environ:
        from sim import kernels

        kernels.THREADS = 1


def _init_worker(parent: int) -> None:
    """First thing every worker runs: leave Ctrl-C to the parent, and exit when the parent is gone."""
    # Ctrl-C in a terminal signals the whole process group; an idle worker would print a traceback of
    # its own, a busy one would hand a KeyboardInterrupt back as its run's result
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    share_cores()
    threading.Thread(target=_exit_with, args=(parent,), name="exit-with-parent", daemon=True).start()


def _exit_with(parent: int) -> None:
    """Block until process ``parent`` has exited, then end this worker.

    A parent killed outright (SIGKILL, the OOM killer) cleans nothing up, and its workers would wait
    for more work for ever: each holds both ends of the task queue, so it never sees end-of-file.
    """
    try:
        fd = os.pidfd_open(parent)  # Linux: becomes readable when the process exits; no polling
    except (AttributeError, OSError):  # another OS, or the parent has already gone
        fd = None
    if fd is not None:
        select.select([fd], [], [])
    else:
        while _alive(parent):
            time.sleep(1.0)
    os._exit(1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else (the pid was reused)
        return False
    return True


def terminate_pools() -> None:
    """Terminate the workers of every pool still alive in this process."""
    for pool in list(_POOLS):
        pool.terminate()


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated()


def _prog() -> str:
    """The command's name as typed: ``python -m sim.sweep`` gives sim.sweep."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    name = spec.name.removesuffix(".__main__") if spec is not None else os.path.basename(sys.argv[0])
    return name or "sim"


def run_command(main: Callable[[], int | None]) -> int:
    """Run a command's ``main`` and return its exit status; Ctrl-C and SIGTERM end it cleanly.

    SIGTERM is turned into an exception like Ctrl-C's, so ``finally`` blocks run and the pools stop
    their workers. Either way the command prints one line (no traceback) and returns 130 (Ctrl-C) or
    143 (SIGTERM). Results already on disk are complete: files are written atomically (sim.output).
    A command started with SIGINT ignored (a background job of a shell without job control, e.g.
    ``python -m sim.sweep ... &`` in a script) keeps ignoring it, as a background job should, and
    Ctrl-C does not reach it: stop it with SIGTERM (``kill PID``).
    """
    signals = (signal.SIGINT, signal.SIGTERM)
    # handlers can only be set from the main thread; elsewhere (a caller's thread) they are left alone
    saved = {s: signal.getsignal(s) for s in signals} if threading.current_thread() is threading.main_thread() else {}
    if saved:
        signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        return main() or 0
    except KeyboardInterrupt as exc:
        for s in saved:  # a second Ctrl-C or kill must not interrupt the clean-up with a traceback
            signal.signal(s, signal.SIG_IGN)
        terminate_pools()  # any pool whose shutdown did not run (or was itself interrupted)
        terminated = isinstance(exc, Terminated)
        print(f"{_prog()}: stopped by {'SIGTERM' if terminated else 'Ctrl-C'}; the files already written are complete",
              file=sys.stderr)
        return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED
    finally:
        for s, handler in saved.items():
            if handler is not None:  # None: set outside Python, cannot be restored from here
                signal.signal(s, handler)
