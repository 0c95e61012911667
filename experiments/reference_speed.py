"""Speed of the per-agent reference (sim.reference) against the fast engine on the same market (issue 13).

Runs both engines on the docking market (SMALL's densities, no brands, SPs, funds or upgrades,
no burn-in; MODEL.md 4.6) at a few sizes for 30 days, one run each, one after the other on one
core, and prints one JSON line per size: seconds to build and to run each engine and the fast
engine's speed-up (reference time / fast time, build + run).

    .venv/bin/python experiments/reference_speed.py [--sizes 1000 3000 10000] [--days 30] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sim import MarketModel  # noqa: E402
from sim.config import merge  # noqa: E402
from sim.reference import REFERENCE_MARKET, ReferenceModel  # noqa: E402

#: tests/conftest.py SMALL's densities (hosts and merchants per consumer), without brands and SPs.
DENSITIES: dict[str, Any] = {"burn_in": 0, "hosts": {"real_n": 1.125e7}, "merchants": {"real_n": 2.25e7}}


def time_engine(cls: type, cfg: dict[str, Any], days: int) -> tuple[float, float]:
    """Seconds to build a model of ``cls`` and to run it ``days`` days."""
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # small populations: the resolution warning is expected
        model = cls(**cfg)
    t1 = time.perf_counter()
    for _ in range(days):
        model.step()
    return t1 - t0, time.perf_counter() - t1


def main(argv: list[str] | None = None) -> int:
    """Time both engines at each size and print one JSON line per size."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 3000, 10000])
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    for n in args.sizes:
        cfg = merge(merge(DENSITIES, REFERENCE_MARKET), {"seed": args.seed, "days": args.days, "consumers": {"n": n}})
        ref_init, ref_run = time_engine(ReferenceModel, cfg, args.days)
        fast_init, fast_run = time_engine(MarketModel, cfg, args.days)
        print(json.dumps({
            "consumers": n, "days": args.days,
            "reference_init_s": round(ref_init, 3), "reference_run_s": round(ref_run, 3),
            "fast_init_s": round(fast_init, 3), "fast_run_s": round(fast_run, 3),
            "reference_ms_per_day": round(1000 * ref_run / args.days, 1),
            "fast_ms_per_day": round(1000 * fast_run / args.days, 2),
            "speedup": round((ref_init + ref_run) / (fast_init + fast_run), 1),
            "speedup_per_day": round(ref_run / fast_run, 1),
        }), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
