"""The seed's brand cases at a resolution that can decide them (docs/VALIDATION.md, patterns).

    .venv/bin/python experiments/brand_cases.py [--n 3400000] [--seed 0]

The cases (a brand's first month of broadcasting about 20 million yuan, a menswear brand above 10
million a month three months after starting) are single leading brands. A brand agent is the
average of the real brands it stands for, so ``sim.validate`` decides the pattern only where the
best brand agent stands for at most ``BRAND_CASE_SHARE`` of all brands; at its default 100,000
consumers that is 3,333 brands per agent and the pattern is "not resolved".

This script runs the calibrated default market at ``--n`` consumers standing for the same platform
(``consumers.scale = platform.users / n``, so every population follows the finer resolution)
through its burn-in and reported year, then computes the pattern's statistic
(:func:`sim.validate.brand_pattern`: each brand agent's smoothed monthly GMV per real brand at the
end), the verdict (:func:`sim.validate.brand_case_verdict`) and the distribution over real brands.
Writes ``experiments/results/brand_cases.json`` (atomically) with the run's resolved config, which
``sim.validate`` cites when it validates the same market (at any resolution and seed).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim import MarketModel  # noqa: E402
from sim.config import make_config, to_dict  # noqa: E402
from sim.output import write_json  # noqa: E402
from sim.validate import BRAND_CASES_RESULT, brand_case_verdict, brand_months, brand_pattern  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=3_400_000, help="consumers (the platform's users stay the same)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=BRAND_CASES_RESULT)
    args = ap.parse_args(argv)
    users = make_config().platform.users
    cfg = make_config(seed=args.seed, consumers={"n": args.n, "scale": users / args.n})
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MarketModel(cfg)
        model.run_for(cfg.days)
    seconds = time.perf_counter() - t0
    pattern = brand_pattern(model)
    monthly, mass = brand_months(model)
    order = np.argsort(monthly)
    real = mass[order] / mass.sum()  # each agent's share of the real brands, poorest first
    above = float(real[monthly[order] >= 1e7].sum())
    record = {
        "consumers": args.n, "scale": cfg.consumers.scale, "seed": args.seed, "burn_in": cfg.burn_in, "days": cfg.days,
        "brand_agents": int(mass.size), "real_brands": float(mass.sum() * cfg.consumers.scale),
        **pattern, "verdict": brand_case_verdict([pattern]),
        "share_of_brands_above_10m": above,
        "monthly_gmv_quantiles": {str(q): float(np.interp(q, np.cumsum(real) - real / 2, monthly[order]))
                                  for q in (0.5, 0.9, 0.99)},
        "seconds": round(seconds, 1),
        "config": to_dict(cfg),  # the resolved market: sim.validate cites the record only for the same market
    }
    write_json(args.out, record)
    print({k: v for k, v in record.items() if k != "config"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
