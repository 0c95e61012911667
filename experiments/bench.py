"""Time the model at several sizes; print one JSON line per size.

    python experiments/bench.py                 # default (1e5) and large (1e6 consumers, 1e4 hosts)
    python experiments/bench.py --sizes small default --days 365

Each size runs in a fresh process so its peak memory (max RSS) is its own.
Targets on a 2-core machine: default under 20 s, large under 120 s and 6 GiB.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import platform
import resource
import sys
import time

SIZES = {
    "small": {"consumers": {"n": 10_000}, "hosts": {"n": 200}, "merchants": {"n": 400}},
    "default": {},
    "large": {"consumers": {"n": 1_000_000}, "hosts": {"n": 10_000}, "merchants": {"n": 20_000},
              "brands": {"n": 300}, "providers": {"n": 500}},
}


def _one(name: str, days: int, seed: int, queue: mp.Queue) -> None:
    from sim import MarketModel

    t0 = time.perf_counter()
    model = MarketModel(seed=seed, days=days, **SIZES[name])
    t1 = time.perf_counter()
    model.run_for(days)
    t2 = time.perf_counter()
    df = model.datacollector.get_model_vars_dataframe()
    queue.put({
        "size": name,
        "consumers": model.cfg.consumers.n,
        "consumers_end": int(model.consumers.n),
        "hosts": model.cfg.hosts.n,
        "merchants": model.cfg.merchants.n,
        "brands": model.cfg.brands.n,
        "providers": model.cfg.providers.n,
        "days": days,
        "init_s": round(t1 - t0, 2),
        "sim_s": round(t2 - t1, 2),
        "ms_per_day": round(1000 * (t2 - t1) / days, 1),
        "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
        "follow_edges_end": len(model.follows),
        "orders_per_day_end": float(df["orders"].iloc[-1] / model.cfg.consumers.scale),
        "python": platform.python_version(),
    })


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="+", default=["default", "large"], choices=sorted(SIZES))
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    ctx = mp.get_context("spawn")
    for name in args.sizes:
        q = ctx.Queue()
        p = ctx.Process(target=_one, args=(name, args.days, args.seed, q))
        p.start()
        result = q.get()
        p.join()
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
