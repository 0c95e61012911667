"""What do common random numbers buy? Standard errors of paired differences, CRN versus independent seeds.

    python experiments/crn_variance.py [--experiment brand_entry] [--replications 10] [key=value ...]

Runs the experiment twice: arms branched from one burned-in market per replication (common random
numbers and a shared burn-in) and arms built from their own initialisation with unrelated seeds
(independent). Prints one JSON line with the standard error of the mean difference of each
run-level metric under both designs and their ratio.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from sim.compare import compare, load_experiment


ROWS = (("gmv_total", "total GMV over the run"), ("gmv_first_90_days", "total GMV, first 90 days"),
        ("gmv_last_90_days", "total GMV, last 90 days"), ("gmv_incumbent", "incumbents' GMV"),
        ("active_consumers_final", "active consumers at the end"),
        ("mean_platform_trust_last_30", "mean platform trust, last 30 days"),
        ("repurchase_rate_last_30", "repurchase rate, last 30 days"))


def table(record: dict) -> str:
    """The markdown table of docs/MODEL.md section 5.1 from a record this script wrote."""
    lines = ["| metric (difference policy - baseline) | SE, branched (CRN) | SE, independent | SE ratio | variance ratio |",
             "|---|---|---|---|---|"]
    for key, label in ROWS:
        v = record["se"][key]
        r = v["ratio"]
        lines.append(f"| {label} | {v['crn']:.3g} | {v['independent']:.3g} | "
                     + (f"{r:.2g} | {r * r:.2g} |" if r else "undefined | undefined |"))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--experiment", default="brand_entry")
    ap.add_argument("--replications", type=int, default=10)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--wave", type=float, default=1.5e5,
                    help="real brands in the preset's entry wave (default: doubles the brands of the default overrides)")
    # 20,000 consumers with the brands' density raised 15x (10 brand agents), a 360-day burn-in, half a year
    ap.add_argument("overrides", nargs="*", default=["consumers.n=20000", "consumers.scale=3000.0", "brands.real_n=1.5e5", "days=180",
                                                     "burn_in=360"])
    ap.add_argument("--table", help="print the markdown table of a record written by this script, and stop")
    args = ap.parse_args(argv)
    if args.table:
        with open(args.table, encoding="utf-8") as fh:
            print(table(json.load(fh)))
        return 0
    exp, base, _ = load_experiment(args.experiment, args.overrides)
    for arm in exp.policies.values():
        if "entry_waves" in arm.get("brands", {}):
            arm["brands"]["entry_waves"] = [[day, args.wave] for day, _ in arm["brands"]["entry_waves"]]
    out = {"experiment": exp.name, "replications": args.replications, "overrides": args.overrides, "wave": args.wave}
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
