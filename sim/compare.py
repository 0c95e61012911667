"""Paired policy experiments: incremental pie versus cannibalization, with intervals.

``python -m sim.compare experiment=<name> [key=value ...] [--grid key=v1,v2] [--workers N] [--out DIR]``
runs a baseline arm and one or more policy arms over R paired replications
(replication r of every arm uses seed ``seed + r``, so with the stream plan of
:mod:`sim.rng` the arms share every draw the policy does not touch) and writes
a comparison folder: ``comparison.csv``, ``decomposition.csv``, ``report.md``,
``config.yaml`` and ``figures/``.  From Python: :func:`compare`.

Decomposition (per replication, then summarised over replications), with T
the treated sellers (chosen by the experiment's ``treated`` rule in the policy
arm), I the incumbents (every other seller present in both arms, matched
by their stable ``origin``) and U the sellers present in one arm only (organic
entrants whose entry the policy changed)::

    d_gmv_total           = GMV_policy - GMV_baseline
    d_gmv_treated         = GMV_T,policy - GMV_T,baseline
    cannibalization       = -(GMV_I,policy - GMV_I,baseline)
    displaced_unmatched   = -(GMV_U,policy - GMV_U,baseline)
    incremental_share     = d_gmv_total / GMV_T,policy
    cannibalization_ratio = cannibalization / GMV_T,policy

so ``d_gmv_total = d_gmv_treated - cannibalization - displaced_unmatched``.
When the treated sellers do not exist in the baseline (entrants),
``GMV_T,baseline = 0`` and incremental share, cannibalization ratio and
``displaced_unmatched_ratio`` add to 1; otherwise the headline splits the
change in total GMV instead.  Differences get paired-t 95% intervals; ratios
are ratios of replication means with percentile-bootstrap 95% intervals (2000
resamples, fixed seed), undefined when their denominator's interval contains
zero.  Every quantity has a unit (:data:`UNITS`); the headline and report print
them in the reader's units (:mod:`sim.units`).
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import time
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim import units
from sim.agents.sellers import ENTRY_WAVE, Kind
from sim.config import ConfigError, get_key, has_key, make_config, merge, override_key, set_key, to_dict
from sim.output import digest, write_bytes, write_csv, write_json, write_text, write_yaml
from sim.parallel import process_pool
from sim.warmup import trend

TREATED_RULES = ("entrants", "sp_clients", "upgraded", "brands", "none")
EARLY = LATE = 90  # days of the short-run and long-run windows


@dataclass
class Experiment:
    """A named comparison: baseline overrides, policy arms, and which sellers are treated."""

    name: str
    description: str = ""
    treated: str = "entrants"
    baseline: dict[str, Any] = field(default_factory=dict)
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.treated not in TREATED_RULES:
            raise ConfigError(f"invalid config: experiment.treated = {self.treated!r}: must be one of "
                              + ", ".join(TREATED_RULES))
        if not self.policies:
            raise ConfigError(f"invalid config: experiment.policies = {{}}: experiment {self.name!r} needs a policy arm")


@dataclass
class Arm:
    """What one run of one arm leaves for the comparison."""

    metrics: pd.DataFrame
    sellers: pd.DataFrame  # one row per seller: origin, kind, cohort, gmv (total, self, at window edges), flags
    config: dict[str, Any]


def policy_start(base: dict[str, Any], arm: dict[str, Any]) -> int:
    """The first reported day on which ``arm`` can differ from ``base``.

    New entry waves act on their day, funds from their start day; any other
    difference acts from day 1 (the day after the burn-in, where arms branch).
    """
    b, a = copy.deepcopy(base), copy.deepcopy(arm)
    days = [w[0] for w in a["brands"]["entry_waves"] if w not in b["brands"]["entry_waves"]]
    days += [w[0] for w in b["brands"]["entry_waves"] if w not in a["brands"]["entry_waves"]]
    if a["funds"] != b["funds"]:
        days.append(min(a["funds"]["start_day"], b["funds"]["start_day"]))
    for c in (a, b):
        c["brands"].pop("entry_waves")
        c.pop("funds")
        c.pop("seed", None)
    if a != b:
        days.append(1)
    return max(min(days), 1) if days else 1


def window_days(start: int, days: int) -> dict[str, tuple[int, int]]:
    """Reported-day windows [first, last] of the decomposition: the whole run, the first EARLY days of the
    policy (from its start) and the last LATE days."""
    return {"": (1, days), "_early": (start, min(start + EARLY - 1, days)), "_late": (max(days - LATE + 1, 1), days)}


def _finish(model: Any, edges: set[int]) -> Arm:
    """Run a (branched) model to the end, snapshotting cumulative seller GMV after each reported day in ``edges``."""
    days = model.cfg.days
    snaps: dict[int, np.ndarray] = {}
    S = model.sellers
    if model.reported_day != 0:
        raise ValueError("an arm starts at the end of the burn-in (reported day 0)")
    snaps[0] = S.gmv[: S.n].copy()
    self0 = S.gmv_self[: S.n].copy()
    while model.reported_day < days:
        model.step()
        if model.reported_day in edges:
            snaps[model.reported_day] = S.gmv[: S.n].copy()
    n = S.n
    scale = model.cfg.consumers.scale
    t0 = model.t0  # the reported days only: the burn-in is common to the arms (and not part of the answer)
    sellers = pd.DataFrame({
        "origin": S.origin[:n], "kind": S.kind[:n], "cohort": S.cohort[:n],
        "gmv": (S.gmv[:n] - np.pad(snaps[0], (0, n - snaps[0].size))) * scale,
        "gmv_self": (S.gmv_self[:n] - np.pad(self0, (0, n - self0.size))) * scale,
        "had_sp": S.had_sp[:n], "upgraded": S.upgraded_on[:n] > t0,
        "exited": S.exited[:n] > t0, "banned": S.banned[:n] & (S.exited[:n] > t0),
    })
    for day, snap in snaps.items():
        sellers[f"gmv_at_{day}"] = np.pad(snap, (0, n - snap.size)) * scale
    return Arm(model.metrics_frame(), sellers, to_dict(model.cfg))


def _quiet_model(config: dict[str, Any]) -> Any:
    """A model whose resolution warnings are left to :func:`compare` (which says them once, not per replication)."""
    import warnings

    from sim.model import MarketModel
    from sim.resolution import ResolutionWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResolutionWarning)
        return MarketModel(config)


def run_arm(config: dict[str, Any], starts: tuple[int, ...] = (1,)) -> Arm:
    """Run one arm from its own initialisation (and burn-in) to the end; windows for policies starting at ``starts``."""
    model = _quiet_model(config)
    return _finish(model, set().union(*(_edges(s, model.cfg.days) for s in starts)))


def _edges(start: int, days: int) -> set[int]:
    edges = {0, days}
    for first, last in window_days(start, days).values():
        edges |= {first - 1, last}
    return edges


def run_replication(arms: dict[str, dict[str, Any]], starts: dict[str, int]) -> dict[str, Arm]:
    """One replication: burn the baseline's market in once, then branch every arm from it.

    The arms share every state and random stream up to their policy's start
    (branching keeps them bit-identical until the changed parameters act).
    """
    root = _quiet_model(arms["baseline"])
    days = root.cfg.days
    edges = set().union(*(_edges(s, days) for s in starts.values()))
    out = {}
    for name, cfg in arms.items():
        out[name] = _finish(root.branch(cfg), edges)
    return out


def replication_key(arms: dict[str, dict[str, Any]], starts: dict[str, int]) -> str:
    """A name for one replication's result: a hash of every arm's full configuration and the policy starts."""
    return digest({"arms": arms, "starts": starts, "version": _version()})


def _version() -> str:
    from sim import __version__

    return __version__


def timed_replication(arms: dict[str, dict[str, Any]], starts: dict[str, int]) -> tuple[dict[str, Arm], float]:
    """:func:`run_replication` and the seconds it took in its process (the cost of a unit of work)."""
    t0 = time.perf_counter()
    out = run_replication(arms, starts)
    return out, time.perf_counter() - t0


def cached_replications(reps: list[dict[str, dict[str, Any]]], starts: dict[str, int], mapper: Any,
                        cache: str | Path | None, bar: Any = lambda it, n: it) -> list[dict[str, Arm]]:
    """Run the replications ``reps`` (``mapper`` over :func:`run_replication`), reusing those already in ``cache``.

    Each finished replication is written to ``cache/<key>.pkl`` (atomically, with the seconds it
    took) as soon as it arrives, so an interrupted run loses at most the replications in flight.
    """
    import pickle

    if cache is None:
        return [res for res, _ in bar(mapper(timed_replication, reps, [starts] * len(reps)), len(reps))]
    folder = Path(cache)
    keys = [replication_key(arms, starts) for arms in reps]
    todo = [i for i, k in enumerate(keys) if not (folder / f"{k}.pkl").exists()]
    for i, (res, secs) in zip(todo, bar(mapper(timed_replication, [reps[i] for i in todo], [starts] * len(todo)),
                                         len(todo))):
        write_bytes(folder / f"{keys[i]}.pkl", pickle.dumps({"arms": res, "seconds": secs}))
    out = []
    for k in keys:
        with open(folder / f"{k}.pkl", "rb") as f:
            out.append(pickle.load(f)["arms"])
    return out


def cache_seconds(cache: str | Path, keys: list[str] | None = None) -> tuple[int, float]:
    """(replications, worker-seconds) of the results kept in a comparison cache (those named ``keys``, or all)."""
    import pickle

    files = sorted(Path(cache).glob("*.pkl")) if keys is None else [Path(cache) / f"{k}.pkl" for k in keys]
    secs = 0.0
    for path in files:
        with open(path, "rb") as f:
            secs += pickle.load(f)["seconds"]
    return len(files), secs


def treated_mask(rule: str, sellers: pd.DataFrame) -> np.ndarray:
    """Which sellers of the policy arm are treated under ``rule``."""
    if rule == "entrants":
        return (sellers["cohort"] >= ENTRY_WAVE).to_numpy()
    if rule == "sp_clients":
        return sellers["had_sp"].to_numpy()
    if rule == "upgraded":
        return sellers["upgraded"].to_numpy()
    if rule == "brands":
        return (sellers["kind"] == Kind.BRAND).to_numpy()
    return np.zeros(len(sellers), bool)


def decompose(base: Arm, pol: Arm, rule: str, start: int = 1) -> dict[str, float]:
    """Per-replication quantities of the decomposition (yuan at platform scale unless a share).

    The early window is the first ``EARLY`` days from the policy's ``start``; the
    late window the run's last ``LATE`` days.
    """
    b, p = base.sellers, pol.sellers
    treated = set(p["origin"][treated_mask(rule, p)])
    common = set(b["origin"]) & set(p["origin"])
    inc = common - treated
    bi = b[b["origin"].isin(inc)].set_index("origin").sort_index()
    pi = p[p["origin"].isin(inc)].set_index("origin").sort_index()
    pt = p[p["origin"].isin(treated)]
    bt = b[b["origin"].isin(treated)]  # the treated sellers in the baseline (none for entrants)
    mb, mp = base.metrics, pol.metrics
    days = len(mb)
    out: dict[str, float] = {}
    for window, (first, last) in window_days(start, days).items():
        total_b, total_p = mb["gmv"].loc[first:last].sum(), mp["gmv"].loc[first:last].sum()

        def gmv(frame: pd.DataFrame) -> pd.Series:
            return frame[f"gmv_at_{last}"] - frame[f"gmv_at_{first - 1}"]

        inc_b, inc_p = gmv(bi).sum(), gmv(pi).sum()
        treat_b, treat_p = gmv(bt).sum(), gmv(pt).sum()
        out[f"gmv_total_baseline{window}"] = total_b
        out[f"gmv_total_policy{window}"] = total_p
        out[f"d_gmv_total{window}"] = total_p - total_b
        out[f"gmv_treated{window}"] = treat_p
        out[f"gmv_treated_baseline{window}"] = treat_b
        out[f"d_gmv_treated{window}"] = treat_p - treat_b
        out[f"gmv_incumbent_baseline{window}"] = inc_b
        out[f"cannibalization{window}"] = -(inc_p - inc_b)
        # sellers in one arm only and not treated (organic entrants whose entry the policy changed): what they
        # lost closes d_gmv_total = d_gmv_treated - cannibalization - displaced_unmatched exactly
        out[f"displaced_unmatched{window}"] = -((total_p - treat_p - inc_p) - (total_b - treat_b - inc_b))
    out["baseline_gmv_trend"] = trend(mb["gmv"].to_numpy())["slope_per_year"]
    # the treated sellers' change by channel (whole run): through talent hosts' rooms, which is their other
    # channel when the policy gives them broadcasts of their own, and through their own store accounts
    out["d_gmv_treated_host_channel"] = (pt["gmv"] - pt["gmv_self"]).sum() - (bt["gmv"] - bt["gmv_self"]).sum()
    out["d_gmv_treated_self_broadcast"] = pt["gmv_self"].sum() - bt["gmv_self"].sum()
    # who the incumbents lost sales to, by type and channel
    kind = bi["kind"]
    for k, name in ((Kind.WHITE_LABEL, "white_label"), (Kind.NEW_BRAND, "new_brand"), (Kind.BRAND, "brand")):
        sel = kind == k
        out[f"cannibalization_{name}"] = -(pi["gmv"][sel].sum() - bi["gmv"][sel].sum())
    out["cannibalization_host_channel"] = -((pi["gmv"] - pi["gmv_self"]).sum() - (bi["gmv"] - bi["gmv_self"]).sum())
    out["cannibalization_self_broadcast"] = -(pi["gmv_self"].sum() - bi["gmv_self"].sum())
    # the demand side
    for name, fb, fp in (
        ("active_consumers", mb["active_consumers"].iloc[-1], mp["active_consumers"].iloc[-1]),
        ("buyers_per_day", mb["buyers"].mean(), mp["buyers"].mean()),
        ("orders_per_buyer", mb["orders"].sum() / max(mb["buyers"].sum(), 1), mp["orders"].sum() / max(mp["buyers"].sum(), 1)),
        ("average_basket", mb["gmv"].sum() / max(mb["orders"].sum(), 1), mp["gmv"].sum() / max(mp["orders"].sum(), 1)),
        ("platform_trust", mb["mean_platform_trust"].iloc[-30:].mean(), mp["mean_platform_trust"].iloc[-30:].mean()),
        ("repurchase_rate", mb["repurchase_rate"].iloc[-30:].mean(), mp["repurchase_rate"].iloc[-30:].mean()),
    ):
        out[f"d_{name}"] = fp - fb
    # incumbent harm
    was = bi["gmv"] > 0
    out["incumbents_losing_10pct"] = float((pi["gmv"][was] < 0.9 * bi["gmv"][was]).mean()) if was.any() else 0.0
    wl_b = b[(b["kind"] == Kind.WHITE_LABEL) & b["exited"] & ~b["banned"]]
    wl_p = p[(p["kind"] == Kind.WHITE_LABEL) & p["exited"] & ~p["banned"]]
    out["d_white_label_exits"] = float(len(wl_p) - len(wl_b))
    for name in ("n_sps_over_threshold", "n_brands", "n_sps", "sp_clients"):
        out[f"d_{name}"] = mp[name].iloc[-1] - mb[name].iloc[-1]
    out["d_sp_fees"] = mp["sp_fees"].sum() - mb["sp_fees"].sum()
    spent = sum(mp[f"fund_{f}_spent"].sum() - mb[f"fund_{f}_spent"].sum() for f in ("cash", "eco"))
    out["d_fund_yuan_spent"] = spent
    return out


#: Ratios reported as ratio of replication means: (numerator, denominator).
RATIOS = {
    "incremental_share": ("d_gmv_total", "gmv_treated"),
    "cannibalization_ratio": ("cannibalization", "gmv_treated"),
    "incremental_share_early": ("d_gmv_total_early", "gmv_treated_early"),
    "cannibalization_ratio_early": ("cannibalization_early", "gmv_treated_early"),
    "incremental_share_late": ("d_gmv_total_late", "gmv_treated_late"),
    "cannibalization_ratio_late": ("cannibalization_late", "gmv_treated_late"),
    "displaced_unmatched_ratio": ("displaced_unmatched", "gmv_treated"),
    "displaced_unmatched_ratio_early": ("displaced_unmatched_early", "gmv_treated_early"),
    "displaced_unmatched_ratio_late": ("displaced_unmatched_late", "gmv_treated_late"),
    "cost_per_incremental_yuan": ("d_fund_yuan_spent", "d_gmv_total"),
    "treated_host_channel_share": ("d_gmv_treated_host_channel", "d_gmv_treated"),
}


WINDOWS = ("", "_early", "_late")


def _windowed(names: tuple[str, ...], unit: str) -> dict[str, str]:
    return {f"{name}{w}": unit for name in names for w in WINDOWS}


#: The unit of every quantity of decomposition.csv (what :func:`decompose` and :data:`RATIOS` produce).
UNITS: dict[str, str] = {
    **_windowed(("gmv_total_baseline", "gmv_total_policy", "d_gmv_total", "gmv_treated", "gmv_treated_baseline",
                 "d_gmv_treated", "gmv_incumbent_baseline", "cannibalization", "displaced_unmatched"), "yuan"),
    "baseline_gmv_trend": "relative change per year",
    "d_gmv_treated_host_channel": "yuan",
    "d_gmv_treated_self_broadcast": "yuan",
    "treated_host_channel_share": "share",
    **{f"cannibalization_{name}": "yuan" for name in ("white_label", "new_brand", "brand", "host_channel",
                                                       "self_broadcast")},
    "d_active_consumers": "count",
    "d_buyers_per_day": "count per day",
    "d_orders_per_buyer": "orders per buyer",
    "d_average_basket": "yuan per order",
    "d_platform_trust": "trust (0-1)",
    "d_repurchase_rate": "share difference",
    "incumbents_losing_10pct": "share",
    "d_white_label_exits": "count (agents)",  # rows of the seller table, not the real sellers they stand for
    "d_n_sps_over_threshold": "count",
    "d_n_brands": "count",
    "d_n_sps": "count",
    "d_sp_clients": "count",
    "d_sp_fees": "yuan",
    "d_fund_yuan_spent": "yuan",
    **_windowed(("incremental_share", "cannibalization_ratio", "displaced_unmatched_ratio"), "share"),
    "cost_per_incremental_yuan": "yuan per yuan",
}
#: Quantities that cannot leave a range (GMV is never negative; a share of sellers lies in [0, 1]): their
#: printed intervals and figure bands are cut there (decomposition.csv keeps the t interval as computed).
RANGES: dict[str, tuple[float, float | None]] = {
    **{f"{name}{w}": (0.0, None) for name in ("gmv_total_baseline", "gmv_total_policy", "gmv_treated",
                                              "gmv_treated_baseline", "gmv_incumbent_baseline") for w in WINDOWS},
    "incumbents_losing_10pct": (0.0, 1.0),
}
#: What a ratio's denominator is, in words (for the note saying why a ratio is undefined).
LABELS = {"d_gmv_total": "the change in total GMV", "gmv_treated": "the treated sellers' GMV",
          "d_gmv_treated": "the change in the treated sellers' GMV"}
WINDOW_LABELS = {"": "", "_early": f" in the first {EARLY} days of the policy", "_late": f" in the last {LATE} days"}
#: The treated sellers in words, per ``treated`` rule.
TREATED_LABELS = {"entrants": "the entrants", "sp_clients": "SP clients", "upgraded": "upgraded sellers",
                  "brands": "brands", "none": "no sellers"}


def unit_of(metric: str) -> str:
    """The unit of a decomposition quantity (see :data:`UNITS`)."""
    try:
        return UNITS[metric]
    except KeyError:
        raise KeyError(f"decomposition quantity {metric!r} has no unit: add it to sim.compare.UNITS") from None


def clip(metric: str, low: float, high: float) -> tuple[float, float]:
    """An interval of ``metric`` cut to the range the quantity can take (:data:`RANGES`)."""
    lo_bound, hi_bound = RANGES.get(metric, (None, None))
    if lo_bound is not None:
        low, high = max(low, lo_bound), max(high, lo_bound)
    if hi_bound is not None:
        low, high = min(low, hi_bound), min(high, hi_bound)
    return low, high


def _label(metric: str) -> str:
    for w in ("_early", "_late"):
        if metric.endswith(w):
            return LABELS[metric[: -len(w)]] + WINDOW_LABELS[w]
    return LABELS[metric]


def paired_t(values: np.ndarray) -> tuple[float, float, float]:
    """Mean and 95% paired-t interval of per-replication differences."""
    v = np.asarray(values, float)
    m = float(v.mean())
    if v.size < 2:
        return m, float("nan"), float("nan")
    half = stats.t.ppf(0.975, v.size - 1) * v.std(ddof=1) / np.sqrt(v.size)
    return m, m - half, m + half


def ratio_ci(num: np.ndarray, den: np.ndarray, resamples: int = 2000) -> tuple[float, float, float]:
    """Ratio of means with a percentile-bootstrap 95% interval over replications."""
    num, den = np.asarray(num, float), np.asarray(den, float)
    if den.mean() == 0:
        return float("nan"), float("nan"), float("nan")
    est = float(num.mean() / den.mean())
    if num.size < 2:
        return est, float("nan"), float("nan")
    idx = np.random.default_rng(0).integers(0, num.size, (resamples, num.size))
    d = den[idx].mean(axis=1)
    r = np.where(d != 0, num[idx].mean(axis=1) / np.where(d != 0, d, 1.0), np.nan)
    lo, hi = np.nanpercentile(r, [2.5, 97.5])
    return est, float(lo), float(hi)


def summarise(rows: pd.DataFrame) -> pd.DataFrame:
    """decomposition.csv: one row per (policy, metric) with estimate and 95% interval."""
    out = []
    for policy, g in rows.groupby("policy", sort=False):
        wide = g.pivot(index="replication", columns="metric", values="value")
        for metric in wide.columns:
            est, lo, hi = paired_t(wide[metric].to_numpy())
            out.append((policy, metric, est, lo, hi, "paired t"))
        for name, (num, den) in RATIOS.items():
            est, lo, hi = ratio_ci(wide[num].to_numpy(), wide[den].to_numpy())
            out.append((policy, name, est, lo, hi, "ratio of means, bootstrap"))
    return pd.DataFrame(out, columns=["policy", "metric", "estimate", "ci_low", "ci_high", "method"])


def load_experiment(name: str, overrides: list[str] | None = None, with_ensemble: bool = False) -> tuple:
    """Compose ``configs/compare.yaml`` with ``experiment=name`` and overrides; validate every arm.

    Returns (experiment, base config, replications), and the ensemble's parameter
    table (or None) last when ``with_ensemble``.
    """
    from sim.__main__ import compose

    data = compose([f"experiment={name}", *(overrides or [])], config_name="compare")
    exp_data = data.pop("experiment")
    reps = data.pop("replications")
    ens_name = data.pop("ensemble", None)
    if isinstance(reps, bool) or not isinstance(reps, int) or reps < 1:
        raise ConfigError(f"invalid config: replications = {reps!r}: must be an integer >= 1")
    exp = Experiment(**exp_data)
    base = to_dict(make_config(data))
    for arm, over in [("baseline", exp.baseline), *exp.policies.items()]:
        try:
            make_config(merge(base, over))
        except ConfigError as err:
            raise ConfigError(f"{err} (in arm {arm!r} of experiment {exp.name!r})") from None
    members = None
    if ens_name is not None:
        from sim import ensemble

        members = ensemble.load(ens_name, base)
        # what the experiment preset or the command line sets is part of the design: it overrides the member's value
        fixed = [k for k in members.columns if k in set_keys(name, overrides)]
        if len(fixed) == len(members.columns):
            raise ConfigError(f"invalid config: ensemble = {ens_name!r}: experiment {name!r} and the command line set "
                              f"every parameter it varies ({', '.join(fixed)}): nothing is left to the members")
        members = members.drop(columns=fixed)
        for arm, over in [("baseline", exp.baseline), *exp.policies.items()]:
            for i in range(len(members)):
                try:
                    make_config(member_arm(base, over, members.iloc[i]))
                except ConfigError as err:
                    raise ConfigError(f"{str(err).splitlines()[0]} (member {i}, arm {arm!r})") from None
    return (exp, base, reps, members) if with_ensemble else (exp, base, reps)


def set_keys(name: str, overrides: list[str] | None = None) -> set[str]:
    """The dotted keys the experiment preset ``name`` and the command-line ``overrides`` set (not its arms')."""
    from sim.paths import config_dir

    import yaml

    def flat(d: Any, prefix: str = "") -> set[str]:
        if not isinstance(d, dict):
            return {prefix.rstrip(".")}
        return set().union(*(flat(v, f"{prefix}{k}.") for k, v in d.items())) if d else set()

    data = yaml.safe_load((config_dir() / "experiment" / f"{name}.yaml").read_text(encoding="utf-8")) or {}
    keys = flat({k: v for k, v in data.items() if k not in ("experiment", "defaults")})
    return keys | {k for k in map(override_key, overrides or []) if k}


def member_arm(base: dict[str, Any], over: dict[str, Any], member: Any) -> dict[str, Any]:
    """An arm's configuration on an ensemble member: the member's values, then the arm's own settings on top
    (an arm that sets a calibrated key, e.g. a stronger inspection rate, keeps its setting)."""
    from sim import ensemble as ens

    return to_dict(make_config(merge(ens.apply(base, member), over)))


def compare(experiment: Experiment, base: dict[str, Any], replications: int, out_dir: str | Path | None = None,
            workers: int = 1, independent: bool = False, executor: Executor | None = None,
            progress: bool = False, ensemble: pd.DataFrame | None = None,
            cache: str | Path | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run the paired comparison; returns (comparison rows, decomposition) and writes them if ``out_dir``.

    Each replication burns the baseline's market in once and branches every arm
    from it after the burn-in (:func:`run_replication`), so arms are identical up
    to their policy's start.  ``independent=True`` instead builds every arm from its
    own initialisation with seeds unrelated to the baseline's (for measuring what
    common random numbers and branching buy). ``progress`` shows a bar of replications
    done and the time left on stderr.  ``ensemble`` (a parameter table, :mod:`sim.ensemble`) runs the
    ``replications`` paired seeds on every member and summarises with a parameter interval as well.
    ``cache`` (a folder) keeps each finished replication, named by a hash of its arms' configurations,
    so an interrupted comparison resumes where it stopped (:func:`cached_replications`).
    """
    seed0 = int(base.get("seed", 0))
    if ensemble is not None and independent:
        raise ConfigError("invalid config: ensemble with independent arms: an ensemble comparison is paired")
    from sim import ensemble as ens

    # units of work: (member, replication); without an ensemble one member with no parameter changes
    members = [None] if ensemble is None else [ensemble.iloc[i] for i in range(len(ensemble))]
    units = [(m, r) for m in range(len(members)) for r in range(replications)]
    arms = {"baseline": to_dict(make_config(merge(base, experiment.baseline)))}
    for name, over in experiment.policies.items():
        arms[name] = to_dict(make_config(merge(base, over)))
    if not independent:  # arms branch from the baseline's burned-in market: they must share what built it
        from sim.model import frozen_change

        for name, cfg in arms.items():
            key = frozen_change(arms["baseline"], cfg, keep_seed=False)
            if key is not None:
                raise ConfigError(f"invalid config: {key} = {get_key(cfg, key)!r} in arm {name!r}: arms branch from "
                                  f"the baseline's burned-in market and must keep {get_key(arms['baseline'], key)!r}")
    starts = {name: policy_start(arms["baseline"], cfg) for name, cfg in arms.items()}
    starts["baseline"] = min(starts.values())
    _warn_resolution(arms["baseline"])
    own = executor is None and workers > 1
    pool = process_pool(workers) if own else executor
    mapper = map if pool is None else pool.map
    try:
        if independent:
            jobs = [(r, name, {**cfg, "seed": seed0 + r + (100_003 * (1 + list(arms).index(name)) if name != "baseline" else 0)})
                    for r in range(replications) for name, cfg in arms.items()]
            every = tuple(sorted(set(starts.values())))
            done = list(_bar(mapper(run_arm, [cfg for _, _, cfg in jobs], [every] * len(jobs)), len(jobs),
                             f"compare {experiment.name} (arms)", progress))
            by = {(r, name): res for (r, name, _), res in zip(jobs, done)}
        else:
            overs = {"baseline": experiment.baseline, **experiment.policies}
            reps = [{name: {**(cfg if members[m] is None else member_arm(base, overs[name], members[m])), "seed": seed0 + r}
                     for name, cfg in arms.items()} for m, r in units]
            done = cached_replications(reps, starts, mapper, cache,
                                       lambda it, n: _bar(it, n, f"compare {experiment.name} (replications)", progress))
            by = {(u, name): res for u, arm_results in enumerate(done) for name, res in arm_results.items()}
    finally:
        if own:
            pool.shutdown()
    if independent:
        units = [(0, r) for r in range(replications)]
    rows = []
    for u, (m, r) in enumerate(units):
        for name in experiment.policies:
            for metric, value in decompose(by[u, "baseline"], by[u, name], experiment.treated, starts[name]).items():
                rows.append((u, m, r, name, metric, value))
    long = pd.DataFrame(rows, columns=["unit", "member", "replication", "policy", "metric", "value"])
    if ensemble is None:
        decomposition = summarise(long.drop(columns=["unit", "member"]))
    else:
        decomposition = ens.summarise(long, RATIOS)
    decomposition = annotate(decomposition)
    comparison = _comparison_table(by, experiment, units)
    if out_dir is not None:
        _write(Path(out_dir), experiment, arms, replications, comparison, decomposition, by, starts, ensemble)
        write_csv(Path(out_dir) / "replications.csv", long, index=False)
        if cache is not None and not independent:  # what the answer cost: the seconds of its replications
            n, secs = cache_seconds(cache, [replication_key(a, starts) for a in reps])
            write_json(Path(out_dir) / "cost.json", {"replications": n, "worker_seconds": round(secs, 1)})
    return comparison, decomposition


def _bar(results: Any, total: int, desc: str, show: bool) -> Any:
    """``results`` wrapped in a progress bar (done, rate, time left) when ``show``."""
    if not show:
        return results
    from tqdm import tqdm

    return tqdm(results, total=total, desc=desc, unit="rep" if "replications" in desc else "arm")


def _warn_resolution(config: dict[str, Any]) -> None:
    """The resolution warnings of the comparison's market, once."""
    from sim import resolution

    cfg = make_config(config)
    resolution.warn(resolution.describe(resolution.plan(cfg), cfg.consumers.scale, cfg.min_agents), cfg.min_agents,
                    stacklevel=4)


#: Run-level metrics compared arm against arm in comparison.csv.
ARM_METRICS = {
    "gmv_total": lambda m: m["gmv"].sum(),
    "gmv_incumbent": lambda m: m["gmv_incumbent"].sum(),
    "gmv_entrant": lambda m: m["gmv_entrant"].sum(),
    "gmv_white_label": lambda m: m["gmv_white_label"].sum(),
    "gmv_brand": lambda m: m["gmv_brand"].sum(),
    "gmv_new_brand": lambda m: m["gmv_new_brand"].sum(),
    "gmv_host_channel": lambda m: m["gmv_host_channel"].sum(),
    "gmv_self_broadcast": lambda m: m["gmv_self_broadcast"].sum(),
    "gmv_first_90_days": lambda m: m["gmv"].iloc[:EARLY].sum(),
    "gmv_last_90_days": lambda m: m["gmv"].iloc[-LATE:].sum(),
    "active_consumers_final": lambda m: m["active_consumers"].iloc[-1],
    "mean_platform_trust_last_30": lambda m: m["mean_platform_trust"].iloc[-30:].mean(),
    "repurchase_rate_last_30": lambda m: m["repurchase_rate"].iloc[-30:].mean(),
    "n_sps_over_threshold_final": lambda m: m["n_sps_over_threshold"].iloc[-1],
    "n_sps_final": lambda m: m["n_sps"].iloc[-1],
    "sp_clients_final": lambda m: m["sp_clients"].iloc[-1],
    "sp_fees_total": lambda m: m["sp_fees"].sum(),
    "upgrades_total": lambda m: m["upgrades"].sum(),
    "fund_spent_yuan": lambda m: m["fund_cash_spent"].sum() + m["fund_eco_spent"].sum(),
}

#: The unit of each of :data:`ARM_METRICS` (comparison.csv, column ``unit``).
ARM_UNITS: dict[str, str] = {
    **{name: "yuan" for name in ARM_METRICS if name.startswith("gmv_") or name.endswith("_yuan")},
    "active_consumers_final": "count",
    "mean_platform_trust_last_30": "trust (0-1)",
    "repurchase_rate_last_30": "share",
    "n_sps_over_threshold_final": "count",
    "n_sps_final": "count",
    "sp_clients_final": "count",
    "sp_fees_total": "yuan",
    "upgrades_total": "count",
}


def _comparison_table(by: dict, experiment: Experiment, units: list[tuple[int, int]]) -> pd.DataFrame:
    rows = []
    for u, (m, r) in enumerate(units):
        mb = by[u, "baseline"].metrics
        for name in experiment.policies:
            mp = by[u, name].metrics
            for metric, f in ARM_METRICS.items():
                b, p = float(f(mb)), float(f(mp))
                rows.append((m, r, name, metric, ARM_UNITS[metric], b, p, p - b))
    return pd.DataFrame(rows, columns=["member", "replication", "policy", "metric", "unit", "baseline", "policy_value",
                                       "difference"])


def _gmv_scale(rows: pd.DataFrame) -> float:
    """The size money quantities of one policy are judged against for float noise: its baseline GMV over the run."""
    est = rows.loc[rows["metric"] == "gmv_total_baseline", "estimate"]
    return float(abs(est.iloc[0])) if len(est) and np.isfinite(est.iloc[0]) and est.iloc[0] != 0 else 1.0


def _undefined(den: Any, scale: float) -> str:
    """Why a ratio whose denominator is the row ``den`` is undefined ('' when it is defined)."""
    bounds = [v for v in (den.ci_low, den.ci_high) if np.isfinite(v)]
    if not np.isfinite(den.estimate) or all(units.is_noise(v, scale) for v in (den.estimate, *bounds)):
        return f"undefined: {_label(den.metric)} is zero"
    if RANGES.get(den.metric, (None,))[0] == 0.0:  # never negative: a positive mean is a known sign
        return ""
    if len(bounds) == 2 and den.ci_low <= 0 <= den.ci_high:  # the ratio's sign and size are not known
        return f"undefined: the 95% interval of {_label(den.metric)} contains zero"
    return ""


def annotate(decomposition: pd.DataFrame) -> pd.DataFrame:
    """``decomposition`` with each quantity's ``unit`` and a ``note``: ratios whose denominator may be zero
    are undefined (the numbers are kept), and an interval left open by one replication is said so."""
    d = decomposition.drop(columns=[c for c in ("unit", "note") if c in decomposition.columns])
    d.insert(d.columns.get_loc("metric") + 1, "unit", [unit_of(m) for m in d["metric"]])
    ensemble = "param_low" in d.columns
    rows = {(r.policy, r.metric): r for r in d.itertuples()}
    scales = {policy: _gmv_scale(g) for policy, g in d.groupby("policy", sort=False)}
    notes = []
    for r in d.itertuples():
        note = []
        if r.metric in RATIOS and (r.policy, RATIOS[r.metric][1]) in rows:
            note.append(_undefined(rows[r.policy, RATIOS[r.metric][1]], scales[r.policy]))
        if not note or not note[0]:
            note = []
            if np.isfinite(r.estimate) and not (np.isfinite(r.ci_low) and np.isfinite(r.ci_high)):
                note.append("no interval: 1 replication" + (" per member" if ensemble else ""))
            if ensemble and np.isfinite(r.estimate) and not (np.isfinite(r.param_low) and np.isfinite(r.param_high)):
                note.append("no ensemble range: 1 member")
        notes.append("; ".join(note))
    d["note"] = notes
    return d


def _annotated(decomposition: pd.DataFrame) -> pd.DataFrame:
    return decomposition if {"unit", "note"} <= set(decomposition.columns) else annotate(decomposition)


def _quantity(d: pd.DataFrame, metric: str, scale: float, sign: int = 1, shown: str | None = None) -> str:
    """One quantity of an annotated decomposition (indexed by metric) in words: estimate, interval, ensemble range.

    ``sign`` -1 prints its negative (a loss as a change); ``shown`` replaces the estimate's text (a rounded
    term of a sum that must add up).  An undefined ratio prints ``undefined (reason)``.
    """
    row = d.loc[metric]
    if str(row.note).startswith("undefined"):
        return f"undefined ({row.note.split(': ', 1)[1]})"
    sc = scale if row.unit == "yuan" else 1.0

    def bounds(lo: float, hi: float) -> tuple[float, float]:
        return (lo, hi) if sign > 0 else (-hi, -lo)

    ensemble = "param_low" in d.columns
    text = shown if shown is not None else units.value(sign * row.estimate, row.unit, sc)
    text += " " + units.interval(*bounds(*clip(metric, row.ci_low, row.ci_high)), row.unit, sc,
                                 "1 replication per member" if ensemble else "1 replication")
    if ensemble:  # an ensemble comparison: the range over plausible markets too
        lo, hi = bounds(row.param_low, row.param_high)
        text += (f" (ensemble range {units.interval(lo, hi, row.unit, sc)})" if np.isfinite(lo) and np.isfinite(hi)
                 else " (no ensemble range: 1 member)")
    return text


#: The split of the entrants' GMV: (share, the money it is a share of, in words, the money's name).
ENTRANT_SPLIT = (
    ("incremental_share", "d_gmv_total", "is new to the market", "change in total GMV"),
    ("cannibalization_ratio", "cannibalization", "was taken from incumbents", "cannibalization"),
    ("displaced_unmatched_ratio", "displaced_unmatched", "from sellers present in one arm only", ""),
)


def split_terms(treated: str) -> tuple[tuple[str, int, str], list[tuple[str, int, str]]]:
    """What adds up for a ``treated`` rule: (total, parts), each term (metric, sign, label).

    Entrants do not exist in the baseline, so their GMV is new to the market, taken from
    incumbents or taken from sellers present in one arm only.  Treated sellers present in both arms
    (and platform-wide policies) split the change in total GMV instead.
    """
    if treated == "entrants":
        return ("gmv_treated", 1, "the entrants' GMV"), [
            ("d_gmv_total", 1, "new to the market"), ("cannibalization", 1, "taken from incumbents"),
            ("displaced_unmatched", 1, "taken from sellers in one arm only")]
    parts = [] if treated == "none" else [("d_gmv_treated", 1, f"change for {TREATED_LABELS[treated]}")]
    parts += [("cannibalization", -1, "change for incumbents" if parts else "change for sellers in both arms"),
              ("displaced_unmatched", -1, "change for sellers in one arm only")]
    return ("d_gmv_total", 1, "change in total GMV"), parts


def _entrant_headline(d: pd.DataFrame, scale: float) -> str:
    sold = f"the entrants sold {_quantity(d, 'gmv_treated', scale)}"
    if str(d.loc["incremental_share"].note).startswith("undefined"):
        return (f"{sold}; the shares of it new to the market and taken from incumbents are "
                f"{_quantity(d, 'incremental_share', scale)}; change in total GMV {_quantity(d, 'd_gmv_total', scale)}; "
                f"cannibalization {_quantity(d, 'cannibalization', scale)}")
    # rounded so that the printed shares add to exactly 100% (their estimates do, as ratios of the same mean)
    shown = units.adding_up(100.0, [100.0 * d.loc[share].estimate for share, *_ in ENTRANT_SPLIT], 1)
    text = []
    for i, ((share, money, words, name), pct) in enumerate(zip(ENTRANT_SPLIT, shown)):
        if i == 2 and pct == 0:  # nobody present in one arm only lost (or gained) a printable share
            continue
        part = f"{_quantity(d, share, scale, shown=units.percent(pct / 100.0, decimals=1))} {words}"
        text.append(f"{part} ({name + ' ' if name else ''}{_quantity(d, money, scale)})")
    return f"{sold}, of which " + ", ".join(text[:-1]) + " and " + text[-1]


def _split_headline(d: pd.DataFrame, scale: float, treated: str) -> str:
    (total, _, _), parts = split_terms(treated)
    total_s, parts_s, words = units.money_terms(d.loc[total].estimate, [s * d.loc[m].estimate for m, s, _ in parts])
    terms = [f"{label} {_quantity(d, m, scale, s, shown=f'{p} {words}')}"
             for (m, s, label), p in zip(parts, parts_s) if not (m == "displaced_unmatched" and float(p.replace(',', '')) == 0)]
    text = f"change in total GMV {_quantity(d, total, scale, shown=f'{total_s} {words}')} = " + " + ".join(terms)
    if treated == "none":
        return (f"{text}; first {EARLY} days of the policy {_quantity(d, 'd_gmv_total_early', scale)}; last {LATE} days "
                f"{_quantity(d, 'd_gmv_total_late', scale)}; platform trust (last 30 days) "
                f"{_quantity(d, 'd_platform_trust', scale)}; repurchase rate (last 30 days) "
                f"{_quantity(d, 'd_repurchase_rate', scale)}")
    return (f"{TREATED_LABELS[treated]} sell in both arms, so shares of their GMV new to the market and taken from "
            f"incumbents need not add to 100%; what adds up is the {text}")


def headline(experiment: Experiment, decomposition: pd.DataFrame) -> list[str]:
    """The answer in a few lines per policy, in the reader's units, with 95% intervals; the terms printed add up.

    Entrants: the shares of their GMV new to the market and taken from incumbents (100% together).
    Treated sellers present in both arms, or none: the change in total GMV split by who gained or lost it.
    """
    lines = []
    for policy, g in _annotated(decomposition).groupby("policy", sort=False):
        scale = _gmv_scale(g)
        d = g.set_index("metric")
        body = (_entrant_headline(d, scale) if experiment.treated == "entrants"
                else _split_headline(d, scale, experiment.treated))
        parts = [f"{experiment.name} / {policy}: {body}"]
        if "funds" in experiment.baseline or "funds" in experiment.policies.get(policy, {}):  # what a fund yuan bought
            parts.append(f"fund spent {_quantity(d, 'd_fund_yuan_spent', scale)}; cost per incremental yuan "
                         f"{_quantity(d, 'cost_per_incremental_yuan', scale)}")
        parts.append(f"burn-in check: baseline GMV trend {_quantity(d, 'baseline_gmv_trend', scale)}")
        lines.append("; ".join(parts))
    return lines


def _write(out: Path, experiment: Experiment, arms: dict, replications: int, comparison: pd.DataFrame,
           decomposition: pd.DataFrame, by: dict, starts: dict[str, int], ensemble: pd.DataFrame | None = None) -> None:
    resolved = {"experiment": experiment.name, "treated": experiment.treated, "replications": replications,
                "policy_start": starts, "arms": arms}
    if ensemble is not None:  # each member's parameters (applied to every arm)
        resolved["ensemble"] = ensemble.to_dict(orient="records")
    write_yaml(out / "config.yaml", resolved)
    write_csv(out / "comparison.csv", comparison, index=False)
    write_csv(out / "decomposition.csv", decomposition, index=False)
    members = 1 if ensemble is None else len(ensemble)
    write_text(out / "report.md", report(experiment, replications, decomposition, members))
    from sim.plots import comparison_figures

    comparison_figures(by, experiment, replications * members, decomposition, out / "figures")


def _cells(row: Any, scale: float, ensemble: bool) -> list[str]:
    """A decomposition row's estimate and interval cells (and ensemble range, param_share) for report.md."""
    sc = scale if row.unit == "yuan" else 1.0
    if str(row.note).startswith("undefined"):
        cells = [f"undefined ({row.note.split(': ', 1)[1]})", ""]
        return cells + ["", ""] if ensemble else cells
    cells = [units.value(row.estimate, row.unit, sc),
             units.interval(*clip(row.metric, row.ci_low, row.ci_high), row.unit, sc,
                            "1 replication" + (" per member" if ensemble else ""))]
    if ensemble:
        cells += [units.interval(row.param_low, row.param_high, row.unit, sc, "1 member"),
                  units.percent(row.param_share) if np.isfinite(row.param_share) else "n/a"]
    return cells


def report(experiment: Experiment, replications: int, decomposition: pd.DataFrame, members: int = 1) -> str:
    """report.md: the answer in words and numbers, each in its unit with a 95% interval."""
    decomposition = _annotated(decomposition)
    ensemble = "param_low" in decomposition.columns
    design = (f"{replications} paired replications (replication r of every arm uses seed + r). "
              "Differences: mean with paired-t 95% interval; ratios: ratio of replication means with "
              "percentile-bootstrap 95% interval, undefined when the 95% interval of their denominator contains zero.")
    if ensemble:
        design = (f"{replications} paired replications on each of the {members} members of a calibrated ensemble "
                  "(sim.ensemble). Estimate: the mean over members. The 95% interval is stochastic (what the seeds "
                  "leave open if the parameters were known: within-member variance); the ensemble range is the "
                  "2.5-97.5% range of the members' answers (parameter uncertainty); `param_share` is the share of "
                  "a single run's variance due to the parameters.")
    lines = [f"# {experiment.name}", "", experiment.description.strip(), "",
             design + " Money in yuan at platform scale over the whole run (units: `decomposition.csv`, column "
             f"`unit`); treated sellers: `{experiment.treated}`.", ""]
    lines += ["## Headline", ""] + [f"- {h}" for h in headline(experiment, decomposition)] + [""]
    for policy, g in decomposition.groupby("policy", sort=False):
        scale = _gmv_scale(g)
        if ensemble:
            lines += [f"## {policy}", "", "| quantity | estimate | 95% interval (stochastic) | ensemble range | param_share | method |",
                      "|---|---|---|---|---|---|"]
        else:
            lines += [f"## {policy}", "", "| quantity | estimate | 95% interval | method |", "|---|---|---|---|"]
        for row in g.itertuples():
            lines.append("| " + " | ".join([row.metric, *_cells(row, scale, ensemble), row.method]) + " |")
        lines.append("")
    return "\n".join(lines) + "\n"


def run_grid(experiment: Experiment, base: dict[str, Any], replications: int, key: str, values: list[Any],
             out: Path, workers: int) -> pd.DataFrame:
    """Rerun the comparison for each value of ``key``: when does entry turn from cannibalization to growth?"""
    rows = []
    for v in values:
        cfg = copy.deepcopy(base)
        set_key(cfg, key, v)
        make_config(cfg)
        _, dec = compare(experiment, cfg, replications, out / f"{key}={v}", workers=workers, progress=True)
        for row in dec[dec["metric"].isin(["incremental_share", "cannibalization_ratio", "d_gmv_total"])].itertuples():
            rows.append((key, v, row.policy, row.metric, row.unit, row.estimate, row.ci_low, row.ci_high, row.note))
    grid = pd.DataFrame(rows, columns=["parameter", "value", "policy", "metric", "unit", "estimate", "ci_low", "ci_high",
                                       "note"])
    write_csv(out / "grid.csv", grid, index=False)
    from sim.plots import grid_figure

    grid_figure(grid, out / "figures" / "incremental_share_by_parameter.png")
    return grid


def _parse_value(text: str) -> Any:
    import yaml

    return yaml.safe_load(text)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point (see the module docstring)."""
    ap = argparse.ArgumentParser(prog="python -m sim.compare", description=__doc__.split("\n\n")[0])
    ap.add_argument("overrides", nargs="*", help="experiment=<name> and any config key=value")
    ap.add_argument("--grid", help="rerun across one parameter: key=v1,v2,...")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                    help="parallel processes (default: the machine's cores)")
    ap.add_argument("--out", help="comparison folder (default outputs/compare/<experiment>/<time>)")
    args = ap.parse_intermixed_args(argv)  # key=value overrides may come before or after options
    name = next((o.split("=", 1)[1] for o in args.overrides if o.startswith("experiment=")), "brand_entry")
    rest = [o for o in args.overrides if not o.startswith("experiment=")]
    try:
        exp, base, reps, members = load_experiment(name, rest, with_ensemble=True)
        grid = None
        if args.grid and members is not None:
            raise ConfigError("invalid config: --grid with ensemble: run the grid on one market (drop ensemble=)")
        if args.grid:
            if "=" not in args.grid:
                raise ConfigError(f"invalid config: --grid = {args.grid!r}: must be key=v1,v2,...")
            gkey, gvals = args.grid.split("=", 1)
            grid = (gkey, [_parse_value(v) for v in gvals.split(",")])
            if not has_key(base, gkey):
                raise ConfigError(f"invalid config: --grid key {gkey!r}: unknown key")
            for v in grid[1]:
                probe = copy.deepcopy(base)
                set_key(probe, gkey, v)
                make_config(probe)
    except ConfigError as err:
        print(str(err).splitlines()[0], file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else Path("outputs") / "compare" / exp.name / time.strftime("%Y-%m-%d_%H-%M-%S")
    if grid:
        g = run_grid(exp, base, reps, grid[0], grid[1], out, args.workers)
        for row in g[g["metric"] == "incremental_share"].itertuples():
            share = (f"undefined ({row.note.split(': ', 1)[1]})" if str(row.note).startswith("undefined")
                     else units.estimate(row.estimate, row.ci_low, row.ci_high, row.unit))
            print(f"{row.parameter}={row.value} / {row.policy}: incremental share {share}")
    else:
        try:
            _, dec = compare(exp, base, reps, out, workers=args.workers, progress=True, ensemble=members)
        except ConfigError as err:  # raised before any run starts (e.g. an arm that cannot branch)
            print(str(err).splitlines()[0], file=sys.stderr)
            return 2
        for line in headline(exp, dec):
            print(line)
    print(out.resolve())
    return 0


if __name__ == "__main__":
    from sim.parallel import run_command

    sys.exit(run_command(main))
