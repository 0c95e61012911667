"""Choose the burn-in from data: MSER-5 over long runs of the default market with no scheduled policy.

    .venv/bin/python experiments/burn_in.py [--seeds 3] [--days 720] [--n 100000]

Runs the default market (``funds=none``, ``consumers.growth=0``) through a burn-in of
``--days`` days per seed (its daily metrics kept by ``MarketModel.burn_in_frame``),
computes the MSER-5 truncation point of daily GMV, mean platform trust, repurchase
rate, active sellers, active SPs and active consumers, and prints and writes
(``experiments/results/burn_in.json``) the points and their maximum, rounded up to 30
days: the burn-in the default config uses.  Then it checks the chosen burn-in: the
trend of each series over a reported year after it, per seed, with intervals.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim import MarketModel  # noqa: E402
from sim.output import write_json  # noqa: E402
from sim.warmup import mser5, trend  # noqa: E402

SERIES = ("gmv", "mean_platform_trust", "repurchase_rate", "active_sellers", "n_sps", "active_consumers")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--days", type=int, default=720)
    ap.add_argument("--n", type=int, default=100_000)
    args = ap.parse_args()
    points: dict[str, list[int]] = {s: [] for s in SERIES}
    t0 = time.time()
    for seed in range(args.seeds):
        # the burn-in dynamics themselves: a long burn-in whose daily metrics are kept
        m = MarketModel(seed=seed, days=1, burn_in=args.days, consumers={"n": args.n, "growth": 0.0},
                        funds={"cash": 0.0, "traffic": 0.0, "eco": 0.0})
        f = m.burn_in_frame()
        for s in SERIES:
            points[s].append(mser5(f[s].to_numpy()))
        print(f"seed {seed}: " + ", ".join(f"{s} {points[s][-1]}" for s in SERIES), flush=True)
    limit = (args.days // 5 // 2) * 5  # MSER searches the first half: a point there means "still trending"
    boundary = {s: [p >= limit - 5 for p in v] for s, v in points.items()}
    worst = max(max(v) for v in points.values())
    chosen = int(math.ceil(worst / 30.0) * 30)
    check = {s: [] for s in SERIES}
    t1 = time.time()
    for seed in range(args.seeds):  # the chosen burn-in, then the reported year: no trend at growth 0
        m = MarketModel(seed=seed, days=365, burn_in=chosen, consumers={"n": args.n, "growth": 0.0},
                        funds={"cash": 0.0, "traffic": 0.0, "eco": 0.0})
        m.run_for(365)
        f = m.metrics_frame()
        for s in SERIES:
            check[s].append(trend(f[s].to_numpy()))
    cost = (time.time() - t1) / args.seeds
    out = {"n": args.n, "days": args.days, "seeds": args.seeds, "mser5_points": points,
           "max_point": worst, "search_limit": limit, "at_search_limit": boundary, "burn_in": chosen, "trend_after_burn_in": check,
           "seconds_per_checked_run": round(cost, 1), "wall_seconds": round(time.time() - t0, 1)}
    write_json(ROOT / "experiments" / "results" / "burn_in.json", out)
    print(f"MSER-5 burn-in: {worst} days -> burn_in = {chosen}")
    for s in SERIES:
        print(f"  trend of {s} over the year after it (per year, relative): "
              + "; ".join(f"{c['slope_per_year']:+.3f} [{c['ci_low']:+.3f}, {c['ci_high']:+.3f}]" for c in check[s]))


if __name__ == "__main__":
    main()
