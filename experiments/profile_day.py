"""Where a simulated day goes: wall time of each phase and of the compiled passes, per day.

    python experiments/profile_day.py --size large --checkpoint /tmp/large.model --after 365 --days 10

Builds the market of ``--size`` (as experiments/bench.py; burned in), or loads it from
``--checkpoint`` when that file exists (and saves it there otherwise), runs ``--after`` reported days,
then times ``--days`` more with every phase of ``MarketModel._day`` and every kernel wrapped in a
timer.  Nested entries overlap (a phase includes the kernels it calls; ``run_chunks`` is the wall
time of the chunked passes, their ``_`` cores the summed time of their chunks on all threads).
Prints one line per entry, milliseconds per day, largest first.
"""

from __future__ import annotations

import argparse
import collections
import functools
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))

PHASES = ("_arrivals", "_seller_entry", "_sp_market", "_plan_boosts", "_visits", "_orders", "_learn",
          "_learn_awareness", "_seller_outcomes", "_remove_sellers", "_providers_and_funds", "_quality_control")


def _timed(table: collections.Counter, label: str, fn):  # noqa: ANN001, ANN202 - any callable
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):  # noqa: ANN202
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            table[label] += time.perf_counter() - t

    return wrapper


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="default", choices=("small", "default", "large", "xlarge"))
    ap.add_argument("--checkpoint", help="load the burned-in market from here (saved here if missing)")
    ap.add_argument("--after", type=int, default=0, help="reported days to run before timing")
    ap.add_argument("--days", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    from bench import SIZES

    from sim import MarketModel, kernels, metrics
    from sim import model as model_module
    from sim.agents.consumers import Consumers
    from sim.agents.follows import FollowGraph
    from sim.traffic import Allocator

    if args.checkpoint and os.path.exists(args.checkpoint):
        m = MarketModel.load(args.checkpoint)
        m.brand_trust.keep_rows = True  # a checkpoint of an older version: rows built by the edits, as in a new model
    else:
        m = MarketModel(seed=args.seed, days=args.after + args.days + 5, **SIZES[args.size])
        if args.checkpoint:
            m.save(args.checkpoint)
    m.run_for(args.after + 2)  # two untimed days: caches, buffers and compiled code warm
    table: collections.Counter = collections.Counter()
    for name in PHASES:
        setattr(MarketModel, name, _timed(table, f"day.{name}", getattr(MarketModel, name)))
    for name in dir(kernels):
        fn = getattr(kernels, name)
        if callable(fn) and hasattr(fn, "py_func") or name == "run_chunks":
            setattr(kernels, name, _timed(table, f"kernel.{name}", fn))
    for cls, names in ((FollowGraph, ("edit", "find")), (Consumers, ("churn", "arrive", "refill_wallets")),
                       (Allocator, ("allocate",))):
        for name in names:
            setattr(cls, name, _timed(table, f"{cls.__name__}.{name}", getattr(cls, name)))
    model_module.daily_metrics = _timed(table, "metrics.daily_metrics", metrics.daily_metrics)
    t = time.perf_counter()
    m.run_for(args.days)
    total = time.perf_counter() - t
    print(f"{'day (wall)':40s} {1000 * total / args.days:8.1f} ms  ({m.consumers.n:,} consumers, "
          f"{len(m.follows):,} follow edges, {len(m.brand_trust):,} brand-trust edges)")
    for label, seconds in table.most_common():
        print(f"{label:40s} {1000 * seconds / args.days:8.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
