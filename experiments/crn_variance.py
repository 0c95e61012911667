"""What do common random numbers buy? Standard errors of paired differences, CRN versus independent seeds.

    python experiments/crn_variance.py [--experiment brand_entry] [--replications 10] [key=value ...]

Runs the experiment twice: policy arm r with the baseline's seed (common random numbers) and with
an unrelated seed (independent). Prints one JSON line with the standard error of the mean
difference of each run-level metric under both designs and their ratio.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from sim.compare import compare, load_experiment


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--experiment", default="brand_entry")
    ap.add_argument("--replications", type=int, default=10)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("overrides", nargs="*", default=["consumers.n=20000", "days=180"])
    args = ap.parse_args(argv)
    exp, base, _ = load_experiment(args.experiment, args.overrides)
    out = {"experiment": exp.name, "replications": args.replications, "overrides": args.overrides}
    se = {}
    for design, independent in (("crn", False), ("independent", True)):
        comp, _ = compare(exp, base, args.replications, workers=args.workers, independent=independent)
        for metric, g in comp.groupby("metric"):
            se.setdefault(metric, {})[design] = float(g["difference"].std(ddof=1) / np.sqrt(len(g)))
    out["se"] = {m: {**v, "ratio": v["independent"] / v["crn"] if v["crn"] > 0 else None} for m, v in se.items()}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
