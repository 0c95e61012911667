"""The default market's figures for docs/MODEL.md section 9, regenerated (never typed by hand).

    .venv/bin/python experiments/default_run.py            # run, write experiments/results/default_run.json
                                                           # and the block between the markers in MODEL.md

Runs the default configuration (seed 0: burn-in, then 365 reported days) and reports the sample,
daily metrics on days 1, 90, 180 and 365, year totals, the burn-in check, and per-agent figures in
real units (one real brand's monthly GMV; real SPs over the 100-million threshold).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim import __version__  # noqa: E402
from sim.agents.sellers import Kind  # noqa: E402
from sim.model import MarketModel  # noqa: E402
from sim.output import summarise, write_json, replace_block  # noqa: E402
from sim.warmup import trend  # noqa: E402

START, END = "<!-- default-run:start (experiments/default_run.py) -->", "<!-- default-run:end -->"
DAYS = (1, 90, 180, 365)
ROWS = ("gmv", "gmv_white_label", "gmv_brand", "gmv_new_brand", "gmv_self_broadcast", "platform_take",
        "repurchase_rate", "mean_platform_trust", "cheated_rate", "refund_rate", "active_consumers",
        "active_sellers", "active_sellers_agents", "n_brands", "n_sps", "n_sps_over_threshold", "sp_clients",
        "follows")


def _g(x: float) -> str:
    return f"{x:.4g}"


def main() -> int:
    t0 = time.time()
    model = MarketModel(seed=0)
    burn = time.time() - t0
    S = model.sellers
    brand = np.flatnonzero(S.active[: S.n] & (S.kind[: S.n] == Kind.BRAND))
    month_gmv = []  # one real brand's GMV in each 30-day month of the reported year
    prev = S.gmv[brand] / S.mass[brand]
    for day in range(1, 366):
        model.step()
        if day % 30 == 0:
            now = S.gmv[brand] / S.mass[brand]
            month_gmv.append(float(np.mean(now - prev)))
            prev = now
    wall = time.time() - t0
    f = model.metrics_frame()
    summary = summarise(f)
    tr = {k: trend(f[k].to_numpy()) for k in ("gmv", "active_consumers", "active_sellers", "mean_platform_trust")}
    P = model.providers
    act = P.active[: P.n]
    out = {"version": __version__, "seed": 0, "burn_in": model.cfg.burn_in, "burn_in_s": round(burn, 1),
           "wall_s": round(wall, 1), "sample": model.sample,
           "daily": {k: [float(f[k].loc[d]) for d in DAYS] for k in ROWS}, "totals": summary, "trend": tr,
           "brand_month_gmv_per_real_brand": month_gmv,
           "sp_annual_client_gmv_per_real_sp": P.annual_client_gmv()[act].tolist()}
    write_json(ROOT / "experiments" / "results" / "default_run.json", out)

    pops = model.sample["populations"]
    lines = [START, "",
             f"Default configuration, seed 0, livesim {__version__}: a {model.cfg.burn_in}-day burn-in "
             f"({burn:.0f} s) then 365 reported days ({wall - burn:.0f} s) on the 2-core reference machine.",
             "", "| population | agents | real agents | real per agent |", "|---|---|---|---|"]
    for name, p in pops.items():
        w = ", ".join(f"{k} {v['weight']:.3g}" for k, v in p["strata"].items())
        lines.append(f"| {name} | {p['agents']} | {p['real']:.4g} | {w} |")
    lines += ["", "| metric (platform scale) | " + " | ".join(f"day {d}" for d in DAYS) + " |",
              "|---|" + "---|" * len(DAYS)]
    for k in ROWS:
        lines.append(f"| `{k}` | " + " | ".join(_g(v) for v in out["daily"][k]) + " |")
    t = summary
    lines += ["", f"Year totals: GMV {_g(t['gmv_total'])} yuan (white label {_g(t['gmv_white_label_total'])}, "
              f"brands {_g(t['gmv_brand_total'])}, new brands {_g(t['gmv_new_brand_total'])}; self-broadcast "
              f"{_g(t['gmv_self_broadcast_total'])}); platform take {_g(t['platform_take_total'])} "
              f"({t['platform_take_total'] / t['gmv_total']:.1%} of GMV); refunds {_g(t['refunds_total'])}; "
              f"orders {_g(t['orders_total'])} (average order {t['gmv_total'] / t['orders_total']:.1f} yuan); "
              f"sellers entered {_g(t['sellers_entered_total'])} and exited {_g(t['sellers_exited_total'])} "
              f"(real); fraud rings banned {_g(t['frauds_banned_total'])} (real).",
              "", "Burn-in check, trend per year over the reported days (95% interval, autocorrelation-corrected): "
              + "; ".join(f"`{k}` {v['slope_per_year']:+.1%} [{v['ci_low']:+.1%}, {v['ci_high']:+.1%}]"
                          for k, v in tr.items()) + ".",
              "", "Per-agent figures in real units: one real brand's GMV per 30-day month over the year, "
              "mean over the brands present on day 1: " + ", ".join(_g(x) for x in month_gmv) + " yuan "
              "(the seed's cases: about 2e7 in a down-jacket brand's first month of broadcasting; a menswear "
              "brand above 1e7 a month about three months after starting). Real SPs over 100 million yuan a "
              f"year on day 365: {_g(f['n_sps_over_threshold'].iloc[-1])} of {_g(f['n_sps'].iloc[-1])} "
              "(the programme's goal: 200); annualised client GMV of one real SP by agent: "
              + ", ".join(_g(x) for x in out["sp_annual_client_gmv_per_real_sp"]) + " yuan.", "", END]
    replace_block(ROOT / "docs" / "MODEL.md", START, END, "\n".join(lines[1:-1]))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
