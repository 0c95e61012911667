"""Ctrl-C, SIGTERM and SIGKILL of a command with worker processes: prompt exit, one line, no process left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.parallel import EXIT_INTERRUPTED, EXIT_TERMINATED, Terminated, run_command

psutil = pytest.importorskip("psutil")

# a sweep of 30 small runs on 2 workers: it lasts far longer than the test waits before signalling
SWEEP = ["sweep=demo", "sweep.seeds=5", "sweep.base.days=30", "sweep.base.consumers.n=2000", "burn_in=0", "min_agents=1",
         "hosts.real_n=9e6", "merchants.real_n=1.8e7", "brands.real_n=3e5", "providers.real_n=4.5e5",
         "--workers", "2", "--no-progress"]


# The sweep as a foreground command sees Ctrl-C: SIGINT at its default disposition, whatever this test
# inherited. A shell without job control starts background jobs (`make test &`) with SIGINT ignored,
# an ignored disposition survives fork and exec, and CPython then leaves it ignored, so the signal
# would be dropped by the kernel (as a backgrounded command should drop it) and the test would fail.
_FOREGROUND = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
               "os.execv(sys.executable, [sys.executable, '-m', 'sim.sweep', *sys.argv[1:]])")


def _sigint_ignored(pid: int) -> bool:
    """Whether process ``pid`` ignores SIGINT (its SigIgn mask in /proc; False where there is no /proc)."""
    status = Path(f"/proc/{pid}/status")
    for line in status.read_text().splitlines() if status.exists() else []:
        if line.startswith("SigIgn:"):
            return bool(int(line.split()[1], 16) >> (signal.SIGINT - 1) & 1)
    return False


def _start_sweep(out: Path) -> tuple[subprocess.Popen, dict[int, psutil.Process]]:
    """Start ``python -m sim.sweep`` in its own session; return it once its two workers are up and a run has begun.

    Also returns every descendant process seen meanwhile (fork server, resource tracker, workers).
    """
    proc = subprocess.Popen([sys.executable, "-c", _FOREGROUND, *SWEEP, "--out", str(out)], cwd=out.parent,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    parent, seen, workers = psutil.Process(proc.pid), {}, set()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            for c in parent.children(recursive=True):
                if c.pid not in seen:
                    seen[c.pid] = c
                    if c.ppid() != proc.pid:  # the fork server's children
                        workers.add(c.pid)
        except psutil.NoSuchProcess:
            pass  # a process ended while being listed; the next round sees the others
        if sum(_running(seen[w]) for w in workers) >= 2 and any((out / "runs" / "started").glob("*.started")):
            return proc, seen
        time.sleep(0.1)
    proc.kill()
    pytest.fail(f"the sweep's workers did not start: {proc.communicate()[1][-2000:]}")


def _running(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.mark.parametrize(("sig", "code"), [
    pytest.param(signal.SIGINT, EXIT_INTERRUPTED, id="ctrl-c"),
    pytest.param(signal.SIGTERM, EXIT_TERMINATED, id="sigterm"),
    pytest.param(signal.SIGKILL, -signal.SIGKILL, id="sigkill"),
])
def test_a_signalled_sweep_stops_its_workers_and_exits_at_once(tmp_path, sig, code):
    out = tmp_path / "sweep"
    proc, seen = _start_sweep(out)
    try:
        t0 = time.monotonic()
        if sig == signal.SIGINT:
            assert not _sigint_ignored(proc.pid), "the sweep was started with SIGINT ignored: it cannot see Ctrl-C"
            os.killpg(proc.pid, sig)  # Ctrl-C in a terminal signals the whole foreground process group
        else:
            os.kill(proc.pid, sig)  # kill PID
        _, err = proc.communicate(timeout=30)
        elapsed = time.monotonic() - t0
    finally:
        if proc.poll() is None:  # the test failed: leave nothing running
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == code, err
    assert elapsed < 5
    if sig != signal.SIGKILL:  # a killed parent prints nothing; its workers still go (sim.parallel._exit_with)
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
        assert f"stopped by {'Ctrl-C' if sig == signal.SIGINT else 'SIGTERM'}" in err
    deadline = time.monotonic() + 10
    while (left := [p for p in seen.values() if _running(p)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    for p in left:  # leave nothing running, even when the test fails
        p.kill()
    assert not left, f"processes left: {[p.pid for p in left]}"
    assert not list(out.rglob("*.tmp"))  # nothing half-written


def test_run_command_turns_an_interrupt_into_one_line_and_restores_the_handlers(capsys):
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)

    def interrupted() -> int:
        raise KeyboardInterrupt

    def terminated() -> int:
        assert signal.getsignal(signal.SIGTERM) is not before[0]  # SIGTERM raises Terminated meanwhile
        raise Terminated

    assert run_command(interrupted) == 130
    assert run_command(terminated) == 143
    assert run_command(lambda: None) == 0 and run_command(lambda: 3) == 3
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and "stopped by Ctrl-C" in err[0] and "stopped by SIGTERM" in err[1]
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before
