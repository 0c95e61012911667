"""Time two checkouts of the model on the same burned-in market, interleaved (an A/B of a speed change).

    git worktree add /tmp/before <commit>      # the code to compare against
    python experiments/ab_day.py --checkpoint market.model --days 60 --rounds 3 /tmp/before .

Each round runs every checkout once, in a fresh process each: load the saved market
(``MarketModel.save``), run two untimed days, then time ``--days`` more.  Interleaving spreads the
machine's drift over both; prints one JSON line per run (checkout, round, ms per day) and the median
of each checkout.  A checkpoint written by either checkout must load in both.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

_RUN = """
import sys, time, warnings
warnings.simplefilter("ignore")
sys.path.insert(0, sys.argv[1])
from sim import MarketModel
m = MarketModel.load(sys.argv[2])
m.brand_trust.keep_rows = True
m.run_for(2)
t = time.perf_counter()
m.run_for(int(sys.argv[3]))
print(1000 * (time.perf_counter() - t) / int(sys.argv[3]))
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("trees", nargs=2, help="the two checkouts (folders holding sim/)")
    ap.add_argument("--checkpoint", required=True, help="a saved burned-in market")
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    times: dict[str, list[float]] = {t: [] for t in args.trees}
    for r in range(args.rounds):
        for tree in args.trees:
            out = subprocess.run([sys.executable, "-c", _RUN, os.path.abspath(tree), args.checkpoint, str(args.days)],
                                 capture_output=True, text=True, check=True)
            ms = float(out.stdout.strip().splitlines()[-1])
            times[tree].append(ms)
            print(json.dumps({"tree": tree, "round": r, "ms_per_day": round(ms, 1)}), flush=True)
    print(json.dumps({t: round(statistics.median(v), 1) for t, v in times.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
