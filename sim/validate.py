"""Validate a market against published figures: ``python -m sim.validate [calibration=NAME] [key=value ...]``.

    python -m sim.validate                               # the default market, 3 seeds -> docs/VALIDATION.md
    python -m sim.validate --seeds 5 consumers.n=20000   # any override; --out FILE for another report
    python -m sim.validate --quick                       # 1 seed, small market, short burn-in: a smoke check
    python -m sim.validate --ensemble kuaishou2021       # also every member of the calibrated ensemble

Runs the market over several seeds, computes every target of ``configs/calibration/<NAME>.yaml``
(:mod:`sim.targets`), and writes a report: each target with its published value and tolerance,
the model's mean and spread over seeds, and pass or fail; figures of the model against the
reported quarterly GMV and DAU; and pattern checks the model was not fitted to.  Exits 1 when a
target marked ``required`` fails (2 on bad input).  The report and figures are written atomically.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.config import ConfigError, make_config, to_dict
from sim.output import write_atomic, write_text, write_yaml
from sim.targets import TargetSet, dated_frame, evaluate, load_targets, split_overrides

ROOT = Path(__file__).resolve().parent.parent
# a checkout writes the project's docs/VALIDATION.md; an installed copy writes into the working directory
DEFAULT_OUT = ROOT / "docs" / "VALIDATION.md" if (ROOT / "configs" / "config.yaml").is_file() else \
    Path("VALIDATION.md")
REPORTED_GMV = {"2021-Q1": 118.56e9, "2021-Q2": 145.4e9, "2021-Q3": 175.8e9, "2021-Q4": 240.3e9}  # PUBLIC-FIGURES 1
REPORTED_DAU = {"2021-Q1": 295.3e6, "2021-Q2": 293.2e6, "2021-Q3": 320.4e6, "2021-Q4": 323.3e6}  # PUBLIC-FIGURES 2
QUICK = {"consumers": {"n": 20000, "scale": 15000.0}, "burn_in": 400}


def brand_months(model: Any) -> tuple[np.ndarray, np.ndarray]:
    """Each active brand agent's monthly GMV of one real brand (the last 30 days' smoothed orders x price), and its mass."""
    from sim.agents.sellers import Kind

    S = model.sellers
    n = S.n
    b = S.active[:n] & (S.kind[:n] == Kind.BRAND)
    mass = S.mass[:n][b]
    return 30.0 * S.ew_orders[:n][b] * S.price[:n][b] / mass, mass


def brand_pattern(model: Any) -> dict[str, float]:
    """Monthly GMV of one real brand (:func:`brand_months`): the best brand row and the median.

    The seed's cases: a brand's first month of broadcasting about 20 million yuan, a menswear brand
    above 10 million a month three months after starting; reachable by the better entrants, not the median.
    """
    monthly, mass = brand_months(model)
    if not monthly.size:
        return {"best": float("nan"), "median": float("nan"), "best_stands_for": float("nan"), "best_share": float("nan")}
    top = int(np.argmax(monthly))
    # one agent is the average of the real brands it stands for: the best agent is a top slice, not the top brand
    return {"best": float(monthly[top]), "median": float(np.median(monthly)),
            "best_stands_for": float(mass[top] * model.cfg.consumers.scale), "best_share": float(mass[top] / mass.sum())}


#: Zhang, Liu, Liu and Muller (2023): sellers adopting live selling, total revenue +107%, 47% of the gain
#: through their ordinary store channel (PUBLIC-FIGURES, papers; target 12: sign must match, uplift 50-150%).
ADOPTION = {"uplift": 1.07, "other_share": 0.47, "uplift_low": 0.5, "uplift_high": 1.5}
ADOPTION_DAYS = 90  # the months after adoption over which the paper compares revenue
#: The brand cases are decided only when the best brand agent stands for at most this share of all brands
#: (the top 1%: the seed's cases are single leading brands). Assumption.
BRAND_CASE_SHARE = 0.01
#: The brand cases at a finer resolution (experiments/brand_cases.py), cited by the report when present.
BRAND_CASES_RESULT = ROOT / "experiments" / "results" / "brand_cases.json"


def adoption_arms(base: dict[str, Any], seed: int, days: int = ADOPTION_DAYS) -> dict[str, dict[str, Any]]:
    """The adoption experiment's two arms: brands sell through talent hosts only, or open their own broadcasts.

    The arms branch from one burned-in market in which brands never self-broadcast; on reported day
    1 the policy arm lets every brand at STEPS stage self_broadcast or later open its store accounts
    (3.3.24), so those brands adopt live selling of their own while keeping the host channel they had.
    """
    import copy

    cfg = copy.deepcopy(base)
    cfg.update(days=days, seed=seed)
    arms = {}
    for name, on in (("baseline", False), ("adopt", True)):
        arm = copy.deepcopy(cfg)
        arm["brands"]["self_broadcast"] = on
        arms[name] = to_dict(make_config(arm))
    return arms


def adoption_effect(base: dict[str, Any], seed: int, days: int = ADOPTION_DAYS) -> dict[str, float]:
    """One paired replication of the adoption experiment: the brands' GMV in each arm and its change by channel."""
    from sim import compare

    res = compare.run_replication(adoption_arms(base, seed, days), {"adopt": 1})
    d = compare.decompose(res["baseline"], res["adopt"], "brands")
    keys = ("gmv_treated_baseline", "gmv_treated", "d_gmv_treated", "d_gmv_treated_host_channel",
            "d_gmv_treated_self_broadcast")
    return {**{k: float(d[k]) for k in keys}, "days": float(days)}


def adoption_pattern(effects: list[dict[str, float]]) -> dict[str, float]:
    """The adopters' revenue uplift and the share of the gain through their other channel, over replications.

    Ratios of sums over replications (as the paper pools its adopters); ``pass`` when the uplift lies in
    the published band and the other channel's change has the published sign (a gain).
    """
    tot = {k: sum(e[k] for e in effects) for k in effects[0] if k != "days"} if effects else {}
    base_gmv = tot.get("gmv_treated_baseline", 0.0)
    gain = tot.get("d_gmv_treated", 0.0)
    uplift = gain / base_gmv if base_gmv > 0 else float("nan")
    other_gain = tot.get("d_gmv_treated_host_channel", 0.0)
    other = other_gain / gain if gain != 0 else float("nan")
    ok = bool(ADOPTION["uplift_low"] <= uplift <= ADOPTION["uplift_high"]) and other_gain > 0
    days = effects[0]["days"] if effects else float("nan")
    return {"uplift": uplift, "other_share": other, "replications": float(len(effects)), "days": days,
            "pass": float(ok)}


def run_seeds(targets: TargetSet, base: dict[str, Any], seeds: int) -> tuple[pd.DataFrame, list[pd.DataFrame], list]:
    """Every target's value per seed, each seed's dated metrics, and each seed's brand pattern."""
    values, frames, patterns = [], [], []
    for seed in range(seeds):
        model = _simulate(base, seed)
        values.append(evaluate(targets, model))
        frames.append(dated_frame(model))
        patterns.append(brand_pattern(model))
        print(f"seed {seed}: done", file=sys.stderr, flush=True)
    return pd.DataFrame(values), frames, patterns


def _map(fn: Any, workers: int, *args: Any) -> list[Any]:
    """``fn`` over the zipped ``args``, in ``workers`` processes when more than one, in order."""
    if workers > 1:
        from sim.parallel import process_pool

        with process_pool(workers) as pool:
            return list(pool.map(fn, *args))
    return list(map(fn, *args))


def run_adoption(base: dict[str, Any], seeds: int, workers: int = 1) -> dict[str, float]:
    """The adoption pattern over ``seeds`` paired replications (:func:`adoption_effect`, seed i for replication i)."""
    effects = _map(adoption_effect, workers, [base] * seeds, range(seeds))
    print(f"adoption experiment, {seeds} paired replications: done", file=sys.stderr, flush=True)
    return adoption_pattern(effects)


def _simulate(config: dict[str, Any], seed: int) -> Any:
    """One market of ``config`` with ``seed``, run to its last day (a MarketModel)."""
    import warnings

    from sim.model import MarketModel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # resolution warnings: the report states the sizes
        model = MarketModel(make_config(config, seed=seed))
        model.run_for(model.cfg.days)
    return model


def _member_values(targets: TargetSet, config: dict[str, Any], seed: int) -> dict[str, float]:
    return evaluate(targets, _simulate(config, seed))


def run_members(targets: TargetSet, base: dict[str, Any], members: pd.DataFrame, workers: int = 1) -> pd.DataFrame:
    """Every target's value on each member of a calibrated ensemble (member i runs with seed i)."""
    from sim import ensemble

    configs = [ensemble.apply(base, members.iloc[i]) for i in range(len(members))]
    values = _map(_member_values, workers, [targets] * len(configs), configs, range(len(configs)))
    print(f"{len(values)} ensemble members: done", file=sys.stderr, flush=True)
    return pd.DataFrame(values)


def _mean(values: Any) -> float:
    """Mean of the finite values (nan when there are none)."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    return float(v.mean()) if v.size else float("nan")


def _fmt(x: float) -> str:
    if not np.isfinite(x):
        return "n/a"
    a = abs(x)
    if a >= 1e9:
        return f"{x / 1e9:.3g} bn"
    if a >= 1e6:
        return f"{x / 1e6:.3g} M"
    return f"{x:.3g}"


def _quarterly(frames: list[pd.DataFrame], metric: str, agg: str) -> pd.DataFrame:
    rows = []
    for f in frames:
        q = f[metric].loc["2021-01-01":"2021-12-31"].resample("QE")
        rows.append((q.sum() if agg == "sum" else q.mean()).to_numpy())
    return pd.DataFrame(rows, columns=list(REPORTED_GMV)[: len(rows[0])] if rows else [])


def figures(frames: list[pd.DataFrame], folder: Path) -> list[str]:
    """Model against the reported quarterly GMV and DAU (mean and range over seeds); returns file names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for metric, agg, reported, label, unit in (("gmv", "sum", REPORTED_GMV, "GMV per quarter", 1e9),
                                               ("active_consumers", "mean", REPORTED_DAU, "average DAU", 1e6)):
        q = _quarterly(frames, metric, agg)
        if q.empty:
            continue
        fig, ax = plt.subplots(figsize=(6, 3.5))
        x = np.arange(q.shape[1])
        ax.plot(x, [reported[c] / unit for c in q.columns], "o-", color="black", label="reported (2021)")
        ax.plot(x, q.mean() / unit, "s--", color="tab:blue", label=f"model (mean of {len(q)} seeds)")
        ax.fill_between(x, q.min() / unit, q.max() / unit, color="tab:blue", alpha=0.2, label="model, seed range")
        ax.set_xticks(x, q.columns)
        ax.set_ylabel(f"{label} ({'billion yuan' if unit == 1e9 else 'million users'})")
        ax.set_ylim(bottom=0)
        ax.ticklabel_format(axis="y", useOffset=False, style="plain")
        ax.legend(fontsize=8)
        fig.tight_layout()
        name = f"validation_{metric}.png"
        write_atomic(folder / name, lambda p, fig=fig: fig.savefig(p, dpi=110, format="png"))
        plt.close(fig)
        names.append(name)
    return names


def report(targets: TargetSet, values: pd.DataFrame, patterns: list[dict[str, float]], base: dict[str, Any],
           seeds: int, figure_names: list[str], figure_dir: str, members: pd.DataFrame | None = None,
           ensemble_name: str = "", adoption: dict[str, float] | None = None) -> tuple[str, bool]:
    """The markdown report and whether every required target passed (``members``: per-member values)."""
    cfg = make_config(base)
    params = (f"Parameter uncertainty: the {len(members)} members of the calibrated ensemble `{ensemble_name}` "
              "(one seed each): their mean and 2.5-97.5% range, and how many pass."
              if members is not None else "Parameter uncertainty is not included (run with --ensemble NAME).")
    extra_h, extra_s = (" ensemble mean | ensemble range | members passing |", "---|---|---|") if members is not None else ("", "")
    lines = [f"# Validation: {targets.name}", "",
             f"Generated by `python -m sim.validate` ({targets.description}); do not edit by hand.",
             f"Market: {cfg.consumers.n:,} consumers x {cfg.consumers.scale:g} (platform users "
             f"{cfg.consumers.n * cfg.consumers.scale:.3g}), burn-in {cfg.burn_in} days, {cfg.days} reported days from "
             f"{cfg.start_date}; {seeds} seeds. {params}", "",
             "| target | period | published | pass band | model mean | model sd (seeds) | pass | required |" + extra_h + " source |",
             "|---|---|---|---|---|---|---|---|" + extra_s + "---|"]
    ok_required = True
    for t in targets.targets:
        v = values[t.name].to_numpy(float)
        mean = _mean(v)
        sd = float(np.std(v[np.isfinite(v)], ddof=1)) if np.isfinite(v).sum() > 1 else float("nan")
        ok = t.passes(mean)
        ok_required &= ok or not t.required
        pub = _fmt(t.value) if t.value is not None else f"{_fmt(t.low)}-{_fmt(t.high)}"
        ens = ""
        if members is not None:
            m = members[t.name].to_numpy(float)
            m = m[np.isfinite(m)]
            lo, hi = np.percentile(m, [2.5, 97.5]) if m.size else (np.nan, np.nan)
            ens = (f" {_fmt(_mean(m))} | {_fmt(lo)} to {_fmt(hi)} | {sum(t.passes(x) for x in m)} of {len(members)} |")
        lines.append(f"| `{t.name}` | {t.period} | {pub} | {_fmt(t.low)} to {_fmt(t.high)} | {_fmt(mean)} | {_fmt(sd)} "
                     f"| {'pass' if ok else '**fail**'} | {'yes' if t.required else 'no'} |{ens} {t.source} ({t.confidence}) |")
    passed = sum(t.passes(_mean(values[t.name])) for t in targets.targets)
    lines += ["", f"{passed} of {len(targets.targets)} targets pass; required targets "
              f"{'all pass' if ok_required else '**fail**'}.", ""]
    if figure_names:
        lines += ["## Model against the reported series", ""]
        lines += [f"![{n}]({figure_dir}/{n})" for n in figure_names] + [""]
    finer = finer_brand_cases(base)
    brand_row, brand_notes = _brand_cases(patterns, cfg.consumers.n, finer)
    lines += ["## Patterns the model was not fitted to", "",
              "| pattern | published | model | pass |", "|---|---|---|---|", brand_row]
    notes = brand_notes
    if adoption is not None:
        row, more = _adoption_rows(adoption)
        lines.append(row)
        notes = notes + more
    for note in notes:
        lines += ["", note]
    lines.append("")
    return "\n".join(lines), ok_required


def _market(config: dict[str, Any]) -> dict[str, Any]:
    """A resolved config without what a finer resolution or another seed changes."""
    import copy

    out = copy.deepcopy(config)
    out.pop("seed", None)
    for key in ("n", "scale"):
        out["consumers"].pop(key, None)
    return out


def finer_brand_cases(base: dict[str, Any], path: Path = BRAND_CASES_RESULT) -> dict[str, Any] | None:
    """The record of experiments/brand_cases.py when it ran the market ``base`` describes (at its own resolution)."""
    if not path.is_file():
        return None
    record = json.loads(path.read_text())
    if "config" not in record or _market(record["config"]) != _market(to_dict(make_config(base))):
        return None
    return record


def brand_case_verdict(patterns: list[dict[str, float]]) -> str:
    """``pass``, ``fail``, or ``not resolved`` when the best brand agent averages more than BRAND_CASE_SHARE of all brands."""
    best = _mean([p["best"] for p in patterns])
    median = _mean([p["median"] for p in patterns])
    share = _mean([p["best_share"] for p in patterns])
    # the seed's cases are single brands: an agent averaging a large slice of all brands cannot show them
    if not (np.isfinite(share) and share <= BRAND_CASE_SHARE):
        return "not resolved"
    return "pass" if np.isfinite(best) and best >= 1e7 and median < 1e7 else "fail"


def _brand_cases(patterns: list[dict[str, float]], consumers: int,
                 finer: dict[str, Any] | None = None) -> tuple[str, list[str]]:
    """The brand cases' row of the pattern table and, when the resolution cannot decide them, why
    (and what ``finer``, a run of experiments/brand_cases.py, gives)."""
    best = _mean([p["best"] for p in patterns])
    median = _mean([p["median"] for p in patterns])
    stands = _mean([p["best_stands_for"] for p in patterns])
    share = _mean([p["best_share"] for p in patterns])
    verdict = brand_case_verdict(patterns)
    row = (f"| the better brands reach 10-20 million yuan a month, the median brand does not (seed's brand cases) "
           f"| best >= 10 M, median < 10 M | best {_fmt(best)}, median {_fmt(median)} (one real brand, last 30 days; "
           f"the best agent is the average of the {f'{stands:,.0f}' if np.isfinite(stands) else 'n/a'} real brands "
           f"it stands for, {f'{share:.0%}' if np.isfinite(share) else 'n/a'} of all) "
           f"| {'**fail**' if verdict == 'fail' else verdict} |")
    if verdict != "not resolved":
        return row, []
    at_1e7 = f"about {stands * consumers / 1e7:,.0f} at 1e7 consumers" if np.isfinite(stands) else "fewer at more consumers"
    return row, [f"The brand cases are not resolved at this resolution: they are single leading brands, and the best "
                 f"brand agent stands for more than {BRAND_CASE_SHARE:.0%} of all brands (an agent is the average of "
                 f"the real brands it stands for, MODEL.md 4.1). The real brands an agent stands for fall with the "
                 f"consumers' ratio: {at_1e7}." + ("" if finer is None else _finer_brand_cases(finer))]


def _finer_brand_cases(r: dict[str, Any]) -> str:
    return (f" At {r['consumers']:,} consumers (one seed, `experiments/brand_cases.py`, its record "
            f"`experiments/results/brand_cases.json`): {r['brand_agents']} brand agents, the best standing for "
            f"{r['best_stands_for']:,.0f} real brands; best {_fmt(r['best'])}, median {_fmt(r['median'])} a month; "
            f"{r['share_of_brands_above_10m']:.1%} of brands above 10 M a month: **{r['verdict']}**.")


def _adoption_rows(a: dict[str, float]) -> tuple[str, list[str]]:
    """The adoption pattern's row of the pattern table and the notes on what it measures."""
    def pct(x: float) -> str:
        return f"{x:+.0%}" if np.isfinite(x) else "undefined"

    reps = f"{a['replications']:.0f} paired replication{'s' if a['replications'] != 1 else ''}"
    row = (f"| a seller that starts live selling roughly doubles its total revenue, about half of the gain through "
           f"its other channels (Zhang, Liu, Liu and Muller 2023) | uplift {pct(ADOPTION['uplift'])} (pass band "
           f"{pct(ADOPTION['uplift_low'])} to {pct(ADOPTION['uplift_high'])}), other channels "
           f"{pct(ADOPTION['other_share'])} of the gain (a gain) | uplift {pct(a['uplift'])}, other channel "
           f"{pct(a['other_share'])} of the gain ({reps}, first {a['days']:.0f} days) "
           f"| {'pass' if a['pass'] else '**fail**'} |")
    notes = ["The adoption pattern is a virtual experiment (`sim.validate.adoption_effect`): from one burned-in "
             "market in which brands sell only through talent hosts, one arm lets every brand at STEPS stage "
             "self_broadcast or later open its store accounts on reported day 1, the other does not; the same "
             "brands' GMV is compared over the first days of the policy, and the change split into their own "
             "broadcasts and the talent hosts' rooms, the channel they already had (the paper's sellers had an "
             "ordinary store channel, which the model does not have: here the other channel is the host channel)."]
    if np.isfinite(a["other_share"]) and a["other_share"] < 0:
        notes.append("Here the other channel loses. In the model a brand's own broadcasts act on its host channel "
                     "in three ways: its room takes intents from the hosts' rooms at its lower price (diversion, "
                     "MODEL.md 3.3.27) and hosts learn to carry it less (reluctance), which lower it, and viewers of "
                     "its room learn the brand (awareness, 3.3.22), which raises it; here the sum is a loss. The "
                     "model has no channel (search, shelf) through which live exposure sells outside live rooms, "
                     "where the paper found half the gain.")
    return row, notes


def config_path(report: Path) -> Path:
    """Where the resolved configuration of the report ``report`` is written: ``VALIDATION.md`` ->
    ``VALIDATION.config.yaml``."""
    return report.with_suffix(".config.yaml")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sim.validate", description=__doc__.split("\n")[0])
    ap.add_argument("overrides", nargs="*", help="calibration=NAME and model overrides key=value")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--quick", action="store_true", help="1 seed, 20,000 consumers, 400-day burn-in")
    ap.add_argument("--ensemble", help="also run every member of this calibrated ensemble (configs/ensembles/NAME.csv)")
    ap.add_argument("--workers", type=int, default=1, help="processes for the ensemble's members")
    args = ap.parse_intermixed_args(argv)  # key=value overrides may come before or after options
    try:
        name, overrides = split_overrides(args.overrides)
        base = to_dict(make_config(QUICK if args.quick else None, **overrides))
        cfg = make_config(base)
        targets = load_targets(name, cfg)  # every target checked against the run's calendar before any run
        seeds = 1 if args.quick else args.seeds
        if seeds < 1:
            raise ConfigError(f"invalid option: --seeds = {seeds}; allowed: an integer >= 1")
        members = None
        if args.ensemble:
            from sim import ensemble

            members = ensemble.load(args.ensemble, base)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    values, frames, patterns = run_seeds(targets, base, seeds)
    adoption = run_adoption(base, seeds, args.workers)
    member_values = run_members(targets, base, members, args.workers) if members is not None else None
    fig_dir = args.out.parent / "figures"
    names = figures(frames, fig_dir)
    text, ok = report(targets, values, patterns, base, seeds, names, "figures", member_values, args.ensemble or "",
                      adoption)
    write_text(args.out, text + "\n")
    # the resolved configuration beside the report (the report's text gives only the market's size)
    write_yaml(config_path(args.out), {"calibration": name, "seeds": seeds, "ensemble": args.ensemble,
                                       "config": base})
    print(f"wrote {args.out}; required targets {'pass' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    from sim.parallel import run_command

    sys.exit(run_command(main))
