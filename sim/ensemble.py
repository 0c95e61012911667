"""Calibrated ensembles: many plausible markets instead of one, so policy answers carry parameter uncertainty.

A calibration (:mod:`sim.calibrate`) accepts an ensemble of parameter sets that
all fit the published figures.  The ensemble is committed as a table
(``configs/ensembles/<name>.csv``: one row per member, one column per dotted
parameter key, plus bookkeeping columns such as ``member`` and ``distance``).
``sim.compare ... ensemble=<name or path>`` runs every experiment on every
member, ``replications`` paired seeds each, and reports two intervals for each
answer (:func:`summarise`):

* the **stochastic** interval: what the seeds leave unknown if the parameters
  were known (pooled within-member variance, t interval of the ensemble mean);
* the **parameter** interval: the 2.5-97.5% range of the members' answers
  (each member's mean over its seeds), what parameter uncertainty leaves open;

and ``param_share``, the share of a single run's variance due to parameters
(between-member variance net of seed noise, over the total), so a reader sees
which one dominates.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.config import ConfigError, get_key, has_key, make_config, merge, set_key
from sim.paths import config_dir

ENSEMBLE_DIR = config_dir() / "ensembles"
#: Columns of an ensemble table that are not parameters.
BOOKKEEPING = ("member", "trial", "distance", "max_required_implausibility", "default")


def ensemble_path(name: str | Path) -> Path:
    """``configs/ensembles/<name>.csv`` for a bare name, else the path itself."""
    p = Path(name)
    if p.suffix == ".csv" or p.exists():
        return p
    return ENSEMBLE_DIR / f"{name}.csv"


def load(name: str | Path, base: dict[str, Any]) -> pd.DataFrame:
    """The ensemble's parameter table (members x dotted keys), each member validated against ``base``.

    Columns that are neither bookkeeping nor config keys (e.g. the calibration's
    per-target fits) are dropped; a table with no parameter column, or a member
    whose values the config refuses, fails in one line naming the file.
    """
    path = ensemble_path(name)
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in ENSEMBLE_DIR.glob("*.csv"))) or "none"
        raise ConfigError(f"invalid config: ensemble = {str(name)!r}: no such ensemble (committed: {known}; or a path to a .csv)")
    table = pd.read_csv(path)
    keys = [c for c in table.columns if c not in BOOKKEEPING and "." in c and has_key(base, c)]
    if not keys or table.empty:
        raise ConfigError(f"invalid config: ensemble = {str(path)!r}: no members or no parameter column (dotted config keys)")
    params = table[keys].reset_index(drop=True)
    for i in range(len(params)):
        try:
            make_config(apply(base, params.iloc[i]))
        except ConfigError as err:
            raise ConfigError(f"{str(err).splitlines()[0]} (member {i} of ensemble {path.name})") from None
    return params


def apply(config: dict[str, Any], member: pd.Series) -> dict[str, Any]:
    """``config`` with a member's parameter values (integers stay integers)."""
    out = merge(config, {})
    for key, value in member.items():
        old = get_key(out, key)
        set_key(out, key, int(round(value)) if isinstance(old, int) and not isinstance(old, bool) else float(value))
    return out


def summarise(values: pd.DataFrame, ratios: dict[str, tuple[str, str]], resamples: int = 2000) -> pd.DataFrame:
    """Two-level summary of per-(member, replication) answers: one row per (policy, quantity).

    ``values`` has columns policy, member, replication, metric, value.  Differences:
    the ensemble mean, the stochastic t interval (pooled within-member variance)
    and the members' 2.5-97.5% range.  Ratios (``ratios``: name -> (numerator,
    denominator)): the ratio of ensemble means, a bootstrap interval resampling
    replications within members, and the range of the members' ratios of means.
    """
    out = []
    for policy, g in values.groupby("policy", sort=False):
        cube = {m: w.pivot(index="member", columns="replication", values="value").to_numpy(float)
                for m, w in g.groupby("metric", sort=False)}
        for metric, v in cube.items():
            out.append((policy, metric, *_difference(v), "ensemble mean; t within members; range of member means"))
        for name, (num, den) in ratios.items():
            if num in cube and den in cube:
                out.append((policy, name, *_ratio(cube[num], cube[den], resamples),
                            "ratio of means; bootstrap within members; range of member ratios"))
    return pd.DataFrame(out, columns=["policy", "metric", "estimate", "ci_low", "ci_high", "param_low", "param_high",
                                      "param_share", "method"])


def _difference(v: np.ndarray) -> tuple[float, ...]:
    members, reps = v.shape
    means = v.mean(axis=1)
    est = float(means.mean())
    lo, hi = np.percentile(means, [2.5, 97.5]) if members > 1 else (np.nan, np.nan)
    if reps < 2:
        return est, np.nan, np.nan, float(lo), float(hi), np.nan
    within = float(v.var(axis=1, ddof=1).mean())
    half = stats.t.ppf(0.975, members * (reps - 1)) * np.sqrt(within / (members * reps))
    between = max(float(means.var(ddof=1)) - within / reps, 0.0) if members > 1 else 0.0
    share = between / (between + within) if between + within > 0 else np.nan
    return est, est - half, est + half, float(lo), float(hi), share


def _ratio(num: np.ndarray, den: np.ndarray, resamples: int) -> tuple[float, ...]:
    members, reps = num.shape
    if den.mean() == 0:
        return (np.nan,) * 6
    est = float(num.mean() / den.mean())
    d = den.mean(axis=1)
    per = np.where(d != 0, num.mean(axis=1) / np.where(d != 0, d, 1.0), np.nan)
    lo, hi = np.nanpercentile(per, [2.5, 97.5]) if members > 1 else (np.nan, np.nan)
    if reps < 2:
        return est, np.nan, np.nan, float(lo), float(hi), np.nan
    idx = np.random.default_rng(0).integers(0, reps, (resamples, members, reps))  # within each member
    rows = np.arange(members)[None, :, None]
    dn = den[rows, idx].mean(axis=(1, 2))
    r = np.where(dn != 0, num[rows, idx].mean(axis=(1, 2)) / np.where(dn != 0, dn, 1.0), np.nan)
    clo, chi = np.nanpercentile(r, [2.5, 97.5])
    return est, float(clo), float(chi), float(lo), float(hi), np.nan
