"""How much each SP fund moves the market: paired runs at 0, 1x, 4x and 10x the seed's fund sizes.

    python experiments/fund_elasticity.py                       # 6 replications at the default market
    python experiments/fund_elasticity.py --reps 10 --workers 2
    python experiments/fund_elasticity.py --table               # print the markdown table of the saved results
    python experiments/fund_elasticity.py --table --doc         # ... and write it into docs/MODEL.md (section 3.3.34)

For each replication the default (proportional) market is burned in once with no funds; every
arm branches from it (common random numbers) and runs ``--days`` reported days: each fund alone
(cash, traffic, eco) and all three together, at ``--levels`` times the seed's sizes (cash 1e8
yuan, traffic 1e11 feed impressions, eco 1e9 yuan over the half year from day 1). Outcomes, as
paired differences against the no-fund arm: platform GMV over the run, brand survival (share of
the brands active at day 0 still active at the end), SPs over 100 million yuan a year and capable
SPs at the end (platform scale), SP clients' GMV, and the cost per incremental yuan (fund yuan paid
/ GMV change; traffic valued at the ad price of a view). Each with a 95% paired-t interval, and the
minimum detectable effect at 80% power (2.8 standard errors). Results are saved per replication
(resumable) under ``experiments/results/fund_elasticity/`` and summarised in ``summary.json`` (with the
package version and date); ``experiments/results/fund_elasticity_uncalibrated/`` keeps the run on the
market before the calibration became the default.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.output import replace_block, write_json, write_text  # noqa: E402

OUT = ROOT / "experiments" / "results" / "fund_elasticity"
SEED_SIZES = {"cash": 1e8, "traffic": 1e11, "eco": 1e9}
FUNDS = ("cash", "traffic", "eco", "all")
OUTCOMES = ("gmv", "brand_survival", "n_sps_over_threshold", "n_sps_capable", "sp_client_gmv", "fund_yuan")


def arms(levels: list[float]) -> dict[str, dict[str, float]]:
    """Fund settings of every arm: ``none`` and ``<fund>@<level>``."""
    out = {"none": {k: 0.0 for k in SEED_SIZES}}
    for fund in FUNDS:
        for level in levels:
            if level == 0:
                continue
            on = SEED_SIZES if fund == "all" else {fund: SEED_SIZES[fund]}
            out[f"{fund}@{level:g}"] = {k: (v * level if k in on else 0.0) for k, v in SEED_SIZES.items()}
    return out


def outcomes(model, brands0: np.ndarray) -> dict[str, float]:
    """One arm's outcomes at the end of its run."""
    df = model.metrics_frame()
    S = model.sellers
    alive = S.active[: brands0.size][brands0]
    view_yuan = model.view_price()
    fund = (df["fund_cash_spent"] - df["fund_cash_clawback"] + df["fund_eco_spent"]).sum()
    fund += df["fund_traffic_views"].sum() * view_yuan
    return {
        "gmv": float(df["gmv"].sum()),
        "brand_survival": float(alive.mean()) if brands0.any() else float("nan"),
        "n_sps_over_threshold": float(df["n_sps_over_threshold"].iloc[-1]),
        "n_sps_capable": float(df["n_sps_capable"].iloc[-1]),
        "sp_client_gmv": float(df["sp_client_gmv"].sum()),
        "fund_yuan": float(fund),
    }


def replication(seed: int, days: int, levels: list[float], burn_in: int) -> dict[str, dict[str, float]]:
    """Burn one market in, branch every arm from it, return each arm's outcomes."""
    import warnings

    from sim import MarketModel
    from sim.agents.sellers import Kind

    warnings.simplefilter("ignore")
    settings = arms(levels)
    root = MarketModel(seed=seed, days=days, burn_in=burn_in, funds=settings["none"])
    S = root.sellers
    brands0 = S.active[: S.n] & (S.kind[: S.n] == Kind.BRAND)
    out = {}
    for name, funds in settings.items():
        arm = root.branch(funds=funds)
        arm.run_for(days)
        out[name] = outcomes(arm, brands0)
    return out


def summarise(reps: list[dict[str, dict[str, float]]]) -> list[dict[str, object]]:
    """Paired differences against ``none``: mean, 95% interval, minimum detectable effect."""
    from scipy import stats

    rows = []
    names = [k for k in reps[0] if k != "none"]
    for name in names:
        row: dict[str, object] = {"arm": name, "replications": len(reps)}
        base_gmv = np.array([r["none"]["gmv"] for r in reps])
        for key in OUTCOMES[:-1]:
            d = np.array([r[name][key] - r["none"][key] for r in reps], float)
            d = d[np.isfinite(d)]
            m = float(d.mean()) if d.size else float("nan")
            se = float(d.std(ddof=1) / np.sqrt(d.size)) if d.size > 1 else float("nan")
            t = float(stats.t.ppf(0.975, d.size - 1)) if d.size > 1 else float("nan")
            row[key] = {"diff": m, "lo": m - t * se, "hi": m + t * se, "mde": 2.8 * se}
        dg = np.array([r[name]["gmv"] - r["none"]["gmv"] for r in reps])
        row["gmv_pct"] = {k: 100.0 * v / float(base_gmv.mean()) for k, v in row["gmv"].items()}
        spent = np.array([r[name]["fund_yuan"] for r in reps])
        row["fund_yuan"] = float(spent.mean())
        row["cost_per_incremental_yuan"] = float(spent.mean() / dg.mean()) if dg.mean() > 0 else None
        rows.append(row)
    return rows


def table(summary: dict) -> str:
    """A markdown table of the summary."""
    def ci(d: dict, fmt: str = "{:+.2f}") -> str:
        return f"{fmt.format(d['diff'])} [{fmt.format(d['lo'])}, {fmt.format(d['hi'])}] (MDE {fmt.format(d['mde']).lstrip('+')})"

    stamp = f" (livesim {summary['version']}, {summary['date']})" if "version" in summary else ""
    lines = [f"{summary['replications']} paired replications, {summary['days']} reported days after a "
             f"{summary['burn_in']}-day burn-in, default market{stamp} (seed sizes: cash 1e8 yuan, traffic 1e11 "
             "impressions, eco 1e9 yuan).", "",
             "| arm | GMV change, % | brand survival change | SPs over 100M change | capable SPs change "
             "| SP clients' GMV change, % | fund yuan | yuan per incremental GMV yuan |",
             "|---|---|---|---|---|---|---|---|"]
    base_client = summary["base_sp_client_gmv"]
    for r in summary["rows"]:
        cg = {k: 100.0 * v / base_client for k, v in r["sp_client_gmv"].items()} if base_client else r["sp_client_gmv"]
        cost = r["cost_per_incremental_yuan"]
        lines.append(f"| {r['arm']} | {ci(r['gmv_pct'])} | {ci(r['brand_survival'], '{:+.3f}')} | "
                     f"{ci(r['n_sps_over_threshold'], '{:+.0f}')} | {ci(r['n_sps_capable'], '{:+.0f}')} | {ci(cg, '{:+.1f}')} | "
                     f"{r['fund_yuan']:.3g} | {'n/a (no GMV gain)' if cost is None else f'{cost:.3g}'} |")
    return "\n".join(lines)


DOC = ROOT / "docs" / "MODEL.md"
START, END = "<!-- fund-elasticity:start (experiments/fund_elasticity.py --table --doc) -->", "<!-- fund-elasticity:end -->"


def write_doc(text: str) -> None:
    """Replace the block between the markers in docs/MODEL.md (atomically)."""
    replace_block(DOC, START, END, text)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=6)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--burn-in", type=int, default=720)
    ap.add_argument("--levels", type=float, nargs="+", default=[1.0, 4.0, 10.0])
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--table", action="store_true", help="print the saved summary as markdown and stop")
    ap.add_argument("--doc", action="store_true", help="with --table: also write it into docs/MODEL.md")
    args = ap.parse_args()
    if args.table:
        text = table(json.loads((args.out / "summary.json").read_text()))
        print(text)
        if args.doc:
            write_doc(text)
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    todo = [s for s in range(args.reps) if not (args.out / f"rep{s}.json").exists()]  # resumable
    t0 = time.perf_counter()

    def save(seed: int, result: dict) -> None:
        write_text(args.out / f"rep{seed}.json", json.dumps(result))
        print(f"replication {seed} done ({time.perf_counter() - t0:.0f} s)", flush=True)

    if args.workers > 1 and todo:
        from sim.parallel import process_pool

        with process_pool(args.workers) as pool:
            futures = {pool.submit(replication, s, args.days, args.levels, args.burn_in): s for s in todo}
            for f, s in futures.items():
                save(s, f.result())
    else:
        for s in todo:
            save(s, replication(s, args.days, args.levels, args.burn_in))
    reps = [json.loads((args.out / f"rep{s}.json").read_text()) for s in range(args.reps)]
    from sim import __version__

    summary = {"version": __version__, "date": time.strftime("%Y-%m-%d"), "replications": args.reps,
               "days": args.days, "burn_in": args.burn_in, "levels": args.levels,
               "base_sp_client_gmv": float(np.mean([r["none"]["sp_client_gmv"] for r in reps])),
               "base_gmv": float(np.mean([r["none"]["gmv"] for r in reps])), "rows": summarise(reps)}
    write_json(args.out / "summary.json", summary)
    print(table(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
