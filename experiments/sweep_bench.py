"""Sweep runner overhead and local parallel throughput (a benchmark, not a test).

    python experiments/sweep_bench.py [--runs 40] [--days 90] [--consumers 5000]

Runs the same design of small runs three ways and prints one JSON line:
direct calls of ``sim.run.run`` in this process (the pure model time), the runner with one worker
(overhead = runner wall time minus model time, per run, as a share of a run), and the runner with
all cores (throughput versus one worker). Targets: overhead well under 5%, throughput >= 1.8x on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

from sim.config import SimConfig, to_dict
from sim.run import run
from sim.sweep import plan, run_sweep, validate_design


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--consumers", type=int, default=5000)
    args = ap.parse_args(argv)
    base = to_dict(SimConfig())
    design = validate_design({"name": "bench", "method": "random", "samples": args.runs, "seeds": 1,
                              "parameters": {"platform.feed_load": {"low": 1.0, "high": 3.0}},
                              "base": {"days": args.days, "consumers": {"n": args.consumers},
                                       "hosts": {"n": 200}, "merchants": {"n": 400}, "output": {"figures": False}}},
                             base)
    specs = plan(design, base)
    t0 = time.perf_counter()
    for s in specs:
        run(s.config)
    direct = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        run_sweep(design, base, os.path.join(d, "one"), workers=1, progress=False)
        one = time.perf_counter() - t0
        t0 = time.perf_counter()
        run_sweep(design, base, os.path.join(d, "all"), workers=os.cpu_count(), progress=False)
        many = time.perf_counter() - t0
    print(json.dumps({
        "runs": args.runs, "days": args.days, "consumers": args.consumers, "cores": os.cpu_count(),
        "model_s_per_run": round(direct / args.runs, 4),
        "runner_one_worker_s_per_run": round(one / args.runs, 4),
        "overhead_share": round((one - direct) / direct, 4),
        "parallel_s_per_run": round(many / args.runs, 4),
        "throughput_vs_one_worker": round(one / many, 2),
        "throughput_vs_direct": round(direct / many, 2),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
