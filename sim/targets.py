"""Calibration and validation targets as data: parse a targets file and compute each target from a run.

A targets file (``configs/calibration/<name>.yaml``) lists published figures, each with a
tolerance (``value`` +- ``tolerance``, or a range ``low``..``high``), a calendar ``period`` and a
``stat`` saying how the model computes it (see the file's header).  :func:`load_targets`
validates the file against a run configuration before anything runs (an unknown metric, a
tolerance that is not positive, a period outside the run: one line naming the entry);
:func:`evaluate` computes every target from a finished model (reported days and the kept burn-in,
so 2020 periods can be read from a 2021 run's burn-in).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import yaml

from sim.config import ConfigError, SimConfig
from sim.metrics import METRICS
from sim.paths import config_dir

if TYPE_CHECKING:  # pragma: no cover
    from sim.model import MarketModel

CALIBRATION_DIR = config_dir() / "calibration"
AGGS = ("sum", "mean", "last")
SPECIALS = ("host_top10_share",)
TARGET_KEYS = {"name", "value", "tolerance", "low", "high", "period", "stat", "source", "confidence", "required"}


@dataclass(frozen=True)
class Target:
    """One published figure the model should reproduce."""

    name: str
    low: float
    high: float
    period: str
    stat: dict[str, Any]
    source: str
    confidence: str
    required: bool
    value: float | None = None  # the central value, when the figure is a point with a tolerance

    def passes(self, x: float) -> bool:
        return bool(np.isfinite(x) and self.low <= x <= self.high)

    @property
    def centre(self) -> float:
        return self.value if self.value is not None else 0.5 * (self.low + self.high)


@dataclass
class TargetSet:
    """A parsed targets file."""

    name: str
    description: str
    targets: list[Target] = field(default_factory=list)


def period_days(period: str) -> tuple[datetime.date, datetime.date]:
    """First and last calendar day of ``2021``, ``2021-Q3`` or ``2021-09``."""
    try:
        if len(period) == 4:
            y = int(period)
            return datetime.date(y, 1, 1), datetime.date(y, 12, 31)
        y, rest = period.split("-")
        if rest.upper().startswith("Q"):
            q = int(rest[1:])
            if not 1 <= q <= 4:
                raise ValueError
            first = datetime.date(int(y), 3 * q - 2, 1)
        else:
            m = int(rest)
            first = datetime.date(int(y), m, 1)
            q = None
        months = 3 if q else 1
        nxt = datetime.date(first.year + (first.month + months - 1) // 12, (first.month + months - 1) % 12 + 1, 1)
        return first, nxt - datetime.timedelta(days=1)
    except ValueError:
        raise ValueError(period) from None


def _fail(where: str, value: Any, allowed: str) -> ConfigError:
    return ConfigError(f"invalid targets: {where} = {value!r}; allowed: {allowed}")


def _check_period(where: str, period: Any, cfg: SimConfig | None) -> None:
    if period == "end":
        return
    if not isinstance(period, str):
        raise _fail(where, period, "a year (2021), a quarter (2021-Q3), a month (2021-09) or end")
    try:
        first, last = period_days(period)
    except ValueError:
        raise _fail(where, period, "a year (2021), a quarter (2021-Q3), a month (2021-09) or end") from None
    if cfg is not None:
        start = datetime.date.fromisoformat(cfg.start_date)
        run_first = start - datetime.timedelta(days=cfg.burn_in)
        run_last = start + datetime.timedelta(days=cfg.days - 1)
        if first < run_first or last > run_last:
            raise _fail(where, period, f"a period within the run ({run_first} to {run_last}: burn_in, start_date, days)")


def _check_stat(where: str, stat: Any, cfg: SimConfig | None) -> None:
    if not isinstance(stat, dict):
        raise _fail(where, stat, "a mapping {metric, agg[, per][, relative_to]} or {special}")
    if "special" in stat:
        if stat["special"] not in SPECIALS or len(stat) != 1:
            raise _fail(where + ".special", stat.get("special"), ", ".join(SPECIALS))
        return
    extra = set(stat) - {"metric", "agg", "per", "relative_to"}
    if extra:
        raise _fail(where, sorted(extra)[0], "keys metric, agg, per, relative_to")
    if stat.get("metric") not in METRICS:
        raise _fail(where + ".metric", stat.get("metric"), "a metric of sim.metrics.METRICS")
    if stat.get("agg") not in AGGS:
        raise _fail(where + ".agg", stat.get("agg"), ", ".join(AGGS))
    if "per" in stat:
        per = stat["per"]
        if not isinstance(per, dict) or set(per) != {"metric", "agg"}:
            raise _fail(where + ".per", per, "a mapping {metric, agg}")
        _check_stat(where + ".per", per, cfg)
    if "relative_to" in stat:
        _check_period(where + ".relative_to", stat["relative_to"], cfg)


def parse_targets(data: dict[str, Any], cfg: SimConfig | None = None, where: str = "targets") -> TargetSet:
    """Validate a targets mapping (against ``cfg``'s calendar when given) and return the targets."""
    if not isinstance(data, dict) or not isinstance(data.get("targets"), list) or not data["targets"]:
        raise _fail(where, type(data).__name__, "a mapping with a non-empty list `targets`")
    out, names = [], set()
    for i, t in enumerate(data["targets"]):
        at = f"{where}[{i}]"
        if not isinstance(t, dict):
            raise _fail(at, t, "a mapping")
        at = f"{where}[{t.get('name', i)}]"
        unknown = set(t) - TARGET_KEYS
        if unknown:
            raise _fail(at, sorted(unknown)[0], "keys " + ", ".join(sorted(TARGET_KEYS)))
        name = t.get("name")
        if not isinstance(name, str) or not name or name in names:
            raise _fail(at + ".name", name, "a unique non-empty name")
        names.add(name)
        if "value" in t:
            value, tol = t["value"], t.get("tolerance")
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise _fail(at + ".value", value, "a number")
            if not isinstance(tol, (int, float)) or isinstance(tol, bool) or not tol > 0:
                raise _fail(at + ".tolerance", tol, "a number > 0")
            if "low" in t or "high" in t:
                raise _fail(at, "low/high", "either value with tolerance or low and high, not both")
            low, high, centre = float(value) - tol, float(value) + tol, float(value)
        else:
            low, high = t.get("low"), t.get("high")
            if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (low, high)) or not low < high:
                raise _fail(at + ".low/high", (low, high), "numbers with low < high (or value and tolerance)")
            centre = None
        _check_period(at + ".period", t.get("period"), cfg)
        _check_stat(at + ".stat", t.get("stat"), cfg)
        if (t.get("period") == "end") != ("special" in t["stat"]):
            raise _fail(at + ".period", t.get("period"), "end exactly for a special statistic")
        out.append(Target(name, float(low), float(high), t["period"], t["stat"], str(t.get("source", "")),
                          str(t.get("confidence", "")), bool(t.get("required", False)), centre))
    return TargetSet(str(data.get("name", where)), str(data.get("description", "")), out)


def read_calibration(name_or_path: str | Path) -> tuple[Path, dict[str, Any]]:
    """The path and contents of ``configs/calibration/<name>.yaml`` (or of a path to such a file)."""
    path = Path(name_or_path)
    if not path.suffix:
        path = CALIBRATION_DIR / f"{name_or_path}.yaml"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in CALIBRATION_DIR.glob("*.yaml")))
        raise ConfigError(f"invalid calibration: {str(name_or_path)!r}; allowed: {known}")
    with path.open(encoding="utf-8") as fh:
        return path, yaml.safe_load(fh)


def split_overrides(items: list[str], default: str = "kuaishou2021") -> tuple[str, dict[str, Any]]:
    """A command line's ``calibration=NAME`` and its other ``key=value`` overrides (values read as YAML)."""
    name, over = default, {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"invalid override: {item!r}; allowed: key=value")
        if key == "calibration":
            name = value
        else:
            over[key] = yaml.safe_load(value)
    return name, over


def load_targets(name_or_path: str | Path, cfg: SimConfig | None = None) -> TargetSet:
    """Read ``configs/calibration/<name>.yaml`` (or a path) and validate it against ``cfg``."""
    path, data = read_calibration(name_or_path)
    return parse_targets(data, cfg, where=path.stem)


def dated_frame(model: MarketModel) -> pd.DataFrame:
    """Every simulated day's metrics (the kept burn-in, then the reported days), indexed by calendar date."""
    frames = [f for f in (model.burn_in_frame(), model.metrics_frame()) if len(f)]
    frame = pd.concat(frames)
    frame.index = pd.DatetimeIndex([model.date_of(int(r)) for r in frame.index])
    return frame


def _aggregate(frame: pd.DataFrame, period: str, metric: str, agg: str) -> float:
    first, last = period_days(period)
    rows = frame.loc[pd.Timestamp(first): pd.Timestamp(last), metric]
    if rows.empty:
        return float("nan")
    return float({"sum": rows.sum, "mean": rows.mean, "last": lambda: rows.iloc[-1]}[agg]())


def _expression(frame: pd.DataFrame, period: str, stat: dict[str, Any]) -> float:
    x = _aggregate(frame, period, stat["metric"], stat["agg"])
    if "per" in stat:
        den = _aggregate(frame, period, stat["per"]["metric"], stat["per"]["agg"])
        x = x / den if den else float("nan")
    return x


def host_top10_share(model: MarketModel) -> float:
    """Share of the top 100 real hosts' sales held by the top 10 (smoothed daily GMV per real host, at the end).

    A host row stands for ``mass x scale`` real hosts with the row's per-host GMV, so the real
    ranking repeats each row's value that many times (fractional counts are kept).
    """
    H = model.hosts
    n = H.n
    act = H.active[:n] & (H.mass[:n] > 0)
    per = H.ew_gmv[:n][act] / H.mass[:n][act]
    count = H.mass[:n][act] * model.cfg.consumers.scale
    order = np.argsort(-per, kind="stable")
    per, count = per[order], count[order]
    cum = np.cumsum(count)

    def top(k: float) -> float:
        take = np.clip(k - (cum - count), 0.0, count)  # real hosts of each row within the top k
        return float((take * per).sum())

    total = top(100.0)
    return top(10.0) / total if total > 0 else float("nan")


def evaluate(targets: TargetSet, model: MarketModel) -> dict[str, float]:
    """Each target's model value for a finished run."""
    frame = dated_frame(model)
    out = {}
    for t in targets.targets:
        if "special" in t.stat:
            out[t.name] = {"host_top10_share": host_top10_share}[t.stat["special"]](model)
            continue
        x = _expression(frame, t.period, t.stat)
        if "relative_to" in t.stat:
            base = _expression(frame, t.stat["relative_to"], t.stat)
            x = x / base if base else float("nan")
        out[t.name] = x
    return out
