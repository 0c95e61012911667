"""Time the model at several sizes; print one JSON line per size.

    python experiments/bench.py                      # default (1e5) and large (1e6 consumers)
    python experiments/bench.py --sizes small default --days 365
    python experiments/bench.py --branching          # a 20-replication comparison: branched vs independent arms
    python experiments/bench.py --sizes large --out experiments/results/bench/2026-12-06.jsonl
    python experiments/bench.py --table experiments/results/bench/2026-12-06.jsonl   # the markdown table

``--out`` appends each size's line to a JSON-lines file (the record BENCHMARKS.md's tables are
rendered from with ``--table``, so no figure there is typed by hand).

Every population follows the resolution (no pinned counts): at 1e6 consumers the market holds
10x the default's hosts, merchants, brands and SPs.  Each size runs in a fresh process so its
peak memory (max RSS) is its own; the burn-in is timed apart from the reported year.
Targets on a 2-core machine (issue 10): the 1e6-consumer year under 120 s and 6 GiB.  Beside each
size, the ratio of the model's day to a floor measured in the same process on the model's final
state (:func:`floor_ms_per_day`: the bare traffic-and-choice loop, in numpy and compiled).
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing as mp
import os
import platform
import resource
import sys
import time

SIZES = {
    "small": {"consumers": {"n": 10_000, "scale": 30_000.0}},
    "default": {},
    "large": {"consumers": {"n": 1_000_000, "scale": 300.0}},  # the same platform at 10x the resolution
    "xlarge": {"consumers": {"n": 10_000_000, "scale": 30.0}},  # 100x: 1 simulated consumer per 30 users
}


def _one(name: str, days: int, seed: int, queue: mp.Queue) -> None:
    import warnings

    from sim import MarketModel

    warnings.simplefilter("ignore")
    t0, c0 = time.perf_counter(), time.process_time()
    bare = MarketModel(seed=seed, days=days, burn_in=0, **SIZES[name])
    init, init_cpu = time.perf_counter() - t0, time.process_time() - c0
    del bare
    gc.collect()  # the model is in reference cycles (Mesa agents hold it): free it before the next one is built
    t0, c0 = time.perf_counter(), time.process_time()
    model = MarketModel(seed=seed, days=days, **SIZES[name])
    t1, c1 = time.perf_counter(), time.process_time()
    model.run_for(days)
    t2, c2 = time.perf_counter(), time.process_time()
    df = model.metrics_frame()
    model_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # before the floor's own arrays
    floor = floor_ms_per_day(model)
    ms = 1000 * (t2 - t1) / days
    queue.put({
        "size": name,
        "consumers": model.cfg.consumers.n,
        "consumers_end": int(model.consumers.n),
        **{f"{k}_agents": v["agents"] for k, v in model.sample["populations"].items()},
        "burn_in_days": model.cfg.burn_in,
        "days": days,
        "init_s": round(init, 2),
        "burn_in_s": round(t1 - t0 - init, 2),
        "sim_s": round(t2 - t1, 2),
        "ms_per_day": round(ms, 1),
        **floor,
        # how close the model is to the machine: its day against the bare traffic-and-choice loop
        "ratio_to_numpy_floor": round(ms / floor["floor_numpy_ms_per_day"], 1),
        "ratio_to_compiled_floor": round(ms / floor["floor_compiled_ms_per_day"], 1),
        # CPU time of this process: wall time inflates when other jobs share the cores
        "burn_in_cpu_s": round(c1 - c0 - init_cpu, 2),
        "sim_cpu_s": round(c2 - c1, 2),
        "load_avg_1min": round(os.getloadavg()[0], 2),
        "peak_rss_model_gib": round(model_peak, 2),  # the model's run (initialisation, burn-in, year)
        "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),  # with the floor
        "follow_edges_end": len(model.follows),
        # the two states that grow with both consumers and brand agents (quadratically in the resolution)
        "brand_trust_edges_end": len(model.brand_trust),
        "awareness_slots_end": int(model.consumers.n_slots),
        "orders_per_day_end": float(df["orders"].iloc[-1] / model.cfg.consumers.scale),
        "python": platform.python_version(),
        "commit": _commit(),
        "date": time.strftime("%Y-%m-%d"),
    })


def _commit() -> str | None:
    """The checked-out commit (with ``+`` when code has changes), or None outside a git checkout."""
    import subprocess

    try:
        run = dict(cwd=os.path.dirname(os.path.abspath(__file__)), capture_output=True, text=True, check=True)
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], **run).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ":!experiments/results"],
                               **run).stdout.strip()  # the records this writes do not make the code dirty
        return head + ("+" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def floor_ms_per_day(model, days: int = 10) -> dict[str, float]:  # noqa: ANN001 - a MarketModel
    """Milliseconds per day of the bare traffic-and-choice loop at the model's size, in numpy and compiled.

    The floor keeps only what every day must do: each active consumer's impressions (stochastic
    rounding of its viewing rate), a room per impression from an alias table over the live rooms,
    the item on screen, and a logit purchase draw per view from the viewer's trust, price
    sensitivity and the item's price; no learning, no sellers' outcomes, no accounting.  Run on
    the model's final state, so the views per day are the model's.
    """
    import numpy as np

    from sim import kernels
    from sim.choice import logistic
    from sim.traffic import alias_draw, alias_table

    C, H, S = model.consumers, model.hosts, model.sellers
    rng = np.random.default_rng(0)
    lam = model.public_view_rate()
    live = np.flatnonzero(H.active[: H.n])
    prob, alias = alias_table(np.ones(live.size) / live.size)
    n_items = H.slate_size().astype(np.float64)
    slate = H.slate.ravel().astype(np.int64)
    width = H.slate.shape[1]
    log_price = np.log(S.price[: S.n])
    cfg = model.cfg.choice

    def numpy_day() -> int:
        demand = np.floor(lam + rng.random(lam.size)).astype(np.int64)
        viewers = np.repeat(np.arange(lam.size), demand)
        rooms = live[alias_draw(rng, prob, alias, viewers.size)]
        k = (rng.random(viewers.size) * n_items[rooms]).astype(np.int64) + rooms * width
        seller = slate[k]
        u = cfg.intercept + cfg.w_trust * C.trust[viewers] - C.price_sens[viewers] * log_price[seller]
        return int(np.count_nonzero(rng.random(viewers.size) < logistic(u)))

    pair = np.stack([np.arange(prob.size), alias], axis=1).ravel()
    zeros_s = np.zeros((S.n, 1))
    none_i, none_f = np.zeros(0, np.int64), np.zeros(0)
    no_seller, no_slot = np.zeros(S.n, bool), np.full(S.n, -1, S.aware_slot.dtype)  # no brands in the bare loop
    room_term = np.zeros(H.n)
    no_store = np.zeros(H.n, bool)
    lp2 = np.repeat(log_price, 2)
    seg0 = np.zeros(C.n, np.int8)

    def compiled_day() -> int:
        demand = np.floor(lam + rng.random(lam.size)).astype(np.int64)
        viewers = kernels.repeat_index(demand)
        slot = np.empty(viewers.size, np.int64)
        kernels.alias_pick(rng, prob, pair, slot)  # the compiled passes draw their own uniforms
        rooms = live[slot]
        seller = np.empty(viewers.size, np.int64)
        kernels.on_screen(rng, rooms, n_items, slate, width, seller)
        cand, draw, u, *_ = kernels.purchase_candidates(
            rng, viewers, seller, rooms, 0, none_f, 0.0, no_seller, no_seller, no_slot, C.aware, C.brand_affinity, 0.0,
            none_i, none_i, none_f, 0.0, C.trust, seg0, C.price_sens, zeros_s.ravel(), 1, no_store, no_seller,
            room_term, lp2, cfg.intercept, cfg.w_trust)
        return int(np.count_nonzero(draw < logistic(u)))

    out = {}
    for name, day in (("numpy", numpy_day), ("compiled", compiled_day)):
        day()  # warm up (and compile)
        t0 = time.perf_counter()
        for _ in range(days):
            day()
        out[f"floor_{name}_ms_per_day"] = round(1000 * (time.perf_counter() - t0) / days, 1)
    return out


def branching(replications: int, workers: int) -> dict:
    """Wall time of a paired comparison whose arms branch from one burned-in market, against independent arms."""
    import warnings

    from sim.compare import compare, load_experiment

    warnings.simplefilter("ignore")
    exp, base, _ = load_experiment("brand_entry", ["consumers.n=10000", "days=365"])
    out = {"experiment": "brand_entry", "consumers": 10_000, "replications": replications, "workers": workers,
           "burn_in_days": base["burn_in"], "days": 365}
    for design, independent in (("branched", False), ("independent", True)):
        t0 = time.perf_counter()
        compare(exp, base, replications, workers=workers, independent=independent)
        out[f"{design}_s"] = round(time.perf_counter() - t0, 1)
    out["saving"] = round(1 - out["branched_s"] / out["independent_s"], 3)
    return out


COLUMNS = (
    ("size", lambda r: r["size"]),
    ("commit", lambda r: r.get("commit") or "-"),
    ("consumers (start -> end)", lambda r: f"{r['consumers']:,} -> {r['consumers_end']:,}"),
    ("burn-in (s)", lambda r: r["burn_in_s"]),
    ("reported days", lambda r: r["days"]),
    ("simulated (s)", lambda r: r["sim_s"]),
    ("ms/day", lambda r: r["ms_per_day"]),
    ("CPU (s)", lambda r: r["sim_cpu_s"]),
    ("floor numpy / compiled (ms/day)", lambda r: f"{r['floor_numpy_ms_per_day']} / {r['floor_compiled_ms_per_day']}"),
    ("ratio to floor numpy / compiled", lambda r: f"{r['ratio_to_numpy_floor']} / {r['ratio_to_compiled_floor']}"),
    # the reported days at the compiled floor's pace: what no model of this traffic can beat here
    ("floor's time for the days (s)", lambda r: round(r["floor_compiled_ms_per_day"] * r["days"] / 1000, 1)),
    ("peak RSS (GiB): model / with the floor", lambda r: f"{r.get('peak_rss_model_gib', '-')} / {r['peak_rss_gib']}"),
    ("load at the end", lambda r: r["load_avg_1min"]),
    ("follow edges at the end", lambda r: f"{r['follow_edges_end']:,}"),
    ("brand-trust edges / awareness slots at the end",
     lambda r: f"{r['brand_trust_edges_end']:,} / {r['awareness_slots_end']:,}" if "awareness_slots_end" in r else "-"),
    ("orders/day at the end (model units)", lambda r: f"{r['orders_per_day_end']:,.0f}"),
)


def table(paths: list[str]) -> str:
    """The markdown table of every line in the JSON-lines files ``paths`` (written by ``--out``)."""
    rows = [json.loads(line) for path in paths for line in open(path, encoding="utf-8") if line.strip()]
    head = "| " + " | ".join(name for name, _ in COLUMNS) + " |"
    rule = "|" + "---|" * len(COLUMNS)
    return "\n".join([head, rule, *("| " + " | ".join(str(f(r)) for _, f in COLUMNS) + " |" for r in rows)])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="+", default=["default", "large"], choices=sorted(SIZES))
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--branching", action="store_true", help="time a 20-replication comparison instead")
    ap.add_argument("--replications", type=int, default=20)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", help="append each size's JSON line to this file too")
    ap.add_argument("--table", nargs="+", metavar="JSONL", help="print the markdown table of these files and stop")
    args = ap.parse_args(argv)
    if args.table:
        print(table(args.table))
        return 0
    if args.branching:
        print(json.dumps(branching(args.replications, args.workers)), flush=True)
        return 0
    ctx = mp.get_context("spawn")
    for name in args.sizes:
        q = ctx.Queue()
        p = ctx.Process(target=_one, args=(name, args.days, args.seed, q))
        p.start()
        result = q.get()
        p.join()
        print(json.dumps(result), flush=True)
        if args.out:  # one whole line per size, so an interrupted run leaves only finished sizes
            os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
            with open(args.out, "a", encoding="utf-8") as f:
                f.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
