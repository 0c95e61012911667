"""Calibrate the market to published figures: ``python -m sim.calibrate calibration=NAME [key=value ...]``.

    python -m sim.calibrate calibration=kuaishou2021 --workers 2 --out calibration/kuaishou2021
    python -m sim.calibrate calibration=kuaishou2021 trials=40 screening.trajectories=0   # skip screening

The targets file's ``calibration`` section names the parameters (key, low, high), the
resolution of calibration runs (``base``), and the budget. Three stages, each resumable:

1. **Screening** (SALib Morris, ``screening.trajectories`` x (k + 1) runs): the elementary
   effects of each parameter on the distance to the targets and, from the same runs, on each
   target's scaled miss. Every required target keeps the parameters that move it most (its top
   one and any with at least ``SHARE`` of the top's mu*); the overall ranking fills the rest up to
   ``screening.keep`` (see :func:`select`). The others stay at their defaults.
2. **Search** (optuna TPE, ``trials`` runs, all on seed ``seed``: common random numbers, so
   trials differ by their parameters, not their draws): minimises the distance
   ``D = sqrt(mean_t ((x_t - c_t) / h_t)^2)`` over the targets (``c`` the published value or the
   range's middle, ``h`` the half-width of the pass band; a target the run cannot compute counts
   as 10 half-widths). The study lives in a journal file, so an interrupted search resumes.
3. **Acceptance** (history matching): the ``2 x ensemble`` best trials are re-run with
   ``replications`` new seeds; each target's implausibility is ``|mean - c| / sqrt(h^2 + sd^2)``
   with ``sd`` the spread over those seeds. A set is accepted when every required target's
   implausibility is at most 3 and their root mean square over all targets is at most ``accept``. The accepted sets (best first, at most ``ensemble``) are the
   ensemble of plausible markets.

Writes (atomically) ``screening.csv``, ``trials.csv``, ``ensemble.csv`` (parameters, distance and
every target's value), ``fit.csv`` (each target against the ensemble) and ``diagnostics.json``
(runs, wall time, acceptance rate). Runs go through the sweep runner's executors (local processes
or a Dask cluster). Method and its justification: ``docs/CALIBRATION.md``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sim import resolution
from sim.config import ConfigError, get_key, has_key, make_config, merge, set_key, to_dict
from sim.output import write_csv, write_json
from sim.targets import TargetSet, parse_targets, read_calibration, split_overrides

PENALTY = 10.0  # half-widths charged for a target a run cannot compute
CUTOFF = 3.0  # the largest implausibility a required target may have (Pukelsheim's three-sigma rule)
# Screening per required target. A target's mu* is in half-widths of its pass band per parameter range
# (SALib's unscaled elementary effects: the change over a step, divided by the step as a share of the range).
SHARE = 0.5  # a parameter is kept for a required target when its mu* is at least this share of the target's top one
MOVES = 0.1  # mu* below this moves a target by less than a tenth of a half-width over the range: no effect


@dataclass
class Calibration:
    """A parsed calibration: targets, parameters and budget."""

    targets: TargetSet
    parameters: dict[str, tuple[float, float]]
    base: dict[str, Any]
    trials: int = 150
    replications: int = 3
    ensemble: int = 20
    accept: float = 2.0
    seed: int = 0
    screening: dict[str, int] = field(default_factory=lambda: {"trajectories": 4, "keep": 6})


#: The budget settings a calibration file may give, with their defaults (the dataclass's own).
SETTINGS = {name: Calibration.__dataclass_fields__[name].default
            for name in ("trials", "replications", "ensemble", "accept", "seed")}


def _fail(where: str, value: Any, allowed: str) -> ConfigError:
    return ConfigError(f"invalid calibration: {where} = {value!r}; allowed: {allowed}")


def load_calibration(name: str, overrides: dict[str, Any] | None = None) -> Calibration:
    """Read ``configs/calibration/<name>.yaml`` (or a path), apply ``overrides`` and validate everything."""
    path, data = read_calibration(name)
    spec = dict(data.get("calibration") or {})
    for key, value in (overrides or {}).items():  # trials=40, screening.keep=4, base.burn_in=200, ...
        node = spec
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    unknown = set(spec) - {"base", "parameters", "screening", *SETTINGS}
    if unknown:
        raise _fail(f"{path.stem}.calibration", sorted(unknown)[0], "base, parameters, screening, " + ", ".join(SETTINGS))
    base = to_dict(make_config(spec.get("base") or {}))
    cfg = make_config(base)
    resolution.plan(cfg)  # a market too small to sample its populations is refused before any trial
    targets = parse_targets(data, cfg, where=path.stem)
    params: dict[str, tuple[float, float]] = {}
    for i, p in enumerate(spec.get("parameters") or []):
        at = f"{path.stem}.calibration.parameters[{i}]"
        if not isinstance(p, dict) or set(p) != {"key", "low", "high"}:
            raise _fail(at, p, "a mapping {key, low, high}")
        key, low, high = p["key"], p["low"], p["high"]
        if not isinstance(key, str) or not has_key(base, key) or isinstance(get_key(base, key), (list, dict, bool, str)):
            raise _fail(at + ".key", key, "a numeric model parameter (dotted, e.g. choice.intercept)")
        if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (low, high)) or not low < high:
            raise _fail(at + ".low/high", (low, high), "numbers with low < high")
        for bound in (low, high):  # a range must stay within the parameter's allowed values
            trial = merge(base, {})
            set_key(trial, key, int(round(bound)) if isinstance(get_key(base, key), int) else float(bound))
            try:
                make_config(trial)
            except ConfigError as e:
                raise _fail(at, f"{key} in [{low}, {high}]", f"a range inside the parameter's allowed values ({e})") from None
        params[key] = (float(low), float(high))
    if not params:
        raise _fail(f"{path.stem}.calibration.parameters", [], "a non-empty list of {key, low, high}")
    cal = Calibration(targets, params, base, screening={"trajectories": 4, "keep": len(params)})
    for key, default in SETTINGS.items():
        value = spec.get(key, default)
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value >= (0 if key == "seed" else 1e-12)
        if not ok or (key != "accept" and int(value) != value):
            raise _fail(f"{path.stem}.calibration.{key}", value, "a positive number" + ("" if key == "accept" else " (integer)"))
        setattr(cal, key, value if key == "accept" else int(value))
    scr = {**cal.screening, **(spec.get("screening") or {})}
    if set(scr) != {"trajectories", "keep"} or not all(isinstance(v, int) and v >= 0 for v in scr.values()) or scr["keep"] < 1:
        raise _fail(f"{path.stem}.calibration.screening", scr, "{trajectories: int >= 0, keep: int >= 1}")
    cal.screening = scr
    return cal


def scaled_errors(targets: TargetSet, values: dict[str, float]) -> dict[str, float]:
    """Each target's signed miss in half-widths of its pass band (``PENALTY`` when it cannot be computed)."""
    z = {}
    for t in targets.targets:
        x = values.get(t.name, float("nan"))
        z[t.name] = PENALTY if not np.isfinite(x) else (x - t.centre) / (0.5 * (t.high - t.low))
    return z


def distance(targets: TargetSet, values: dict[str, float]) -> float:
    """Root mean square of each target's miss in half-widths of its pass band."""
    return float(math.sqrt(np.mean(np.square(list(scaled_errors(targets, values).values())))))


def run_point(base: dict[str, Any], params: dict[str, float], seed: int, targets: TargetSet) -> dict[str, float]:
    """One run at ``params`` (dotted keys) and ``seed``: every target's value (a worker's unit of work)."""
    import warnings

    from sim.model import MarketModel
    from sim.targets import evaluate

    cfg = merge(base, {})
    for key, value in params.items():
        set_key(cfg, key, int(round(value)) if isinstance(get_key(base, key), int) else float(value))
    cfg["seed"] = int(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the calibration's resolution is chosen, and said in its output
        model = MarketModel(make_config(cfg))
        model.run_for(model.cfg.days)
    return evaluate(targets, model)


def _map(executor: Executor | None, jobs: list[tuple[dict[str, float], int]], cal: Calibration,
         label: str) -> list[dict[str, float]]:
    """Evaluate ``(params, seed)`` jobs in order, printing progress with time left."""
    t0, out = time.perf_counter(), []
    if executor is None:
        futures = None
    else:
        futures = [executor.submit(run_point, cal.base, p, s, cal.targets) for p, s in jobs]
    for i, (p, s) in enumerate(jobs):
        try:
            res = futures[i].result() if futures else run_point(cal.base, p, s, cal.targets)
        except Exception as e:  # noqa: BLE001 - a failed run counts as missing every target
            print(f"{label}: run failed ({type(e).__name__}: {e})", file=sys.stderr)
            res = {}
        out.append(res)
        done = i + 1
        left = (time.perf_counter() - t0) / done * (len(jobs) - done)
        if done == len(jobs) or done % max(1, len(jobs) // 20) == 0:
            print(f"{label}: {done}/{len(jobs)} runs, about {left / 60:.1f} min left", file=sys.stderr, flush=True)
    return out


def select(table: pd.DataFrame, required: list[str], keep: int) -> dict[str, str]:
    """Why each parameter of a screening table is calibrated: ``kept_for`` per parameter.

    For every required target, the parameters whose mu* on it (column ``mu_star:<target>``) is at
    least ``SHARE`` of that target's largest are kept, whatever their overall rank: a required target
    the search cannot move can never pass (the pilot's take rate). Their ``kept_for`` names those
    targets (``;``-separated). The overall ranking (column ``mu_star``, on the distance) then fills
    the set up to ``keep`` (``overall``); the rest get ``""``. When the required targets alone need
    more than ``keep`` parameters, all of them are kept: ``keep`` never starves a required target.
    A target whose largest mu* is below ``MOVES`` keeps nothing (see :func:`unmoved`).
    """
    reasons: dict[str, list[str]] = {p: [] for p in table["parameter"]}
    for name in required:
        mu = table[f"mu_star:{name}"].to_numpy(float)
        top = _top(mu)
        if not top >= MOVES:  # nothing moves it: keeping the noisiest parameter would only cost a dimension
            continue
        for p, m in zip(table["parameter"], mu):
            if m >= SHARE * top:
                reasons[p].append(name)
    kept_for = {p: ";".join(r) for p, r in reasons.items()}
    room = keep - sum(bool(r) for r in kept_for.values())
    for p in table.sort_values("mu_star", ascending=False, kind="stable")["parameter"]:
        if room <= 0:
            break
        if not kept_for[p]:
            kept_for[p], room = "overall", room - 1
    return kept_for


def unmoved(table: pd.DataFrame, required: list[str]) -> list[str]:
    """The required targets that no parameter moves (every mu* on them below ``MOVES``)."""
    return [name for name in required if not _top(table[f"mu_star:{name}"].to_numpy(float)) >= MOVES]


def _top(mu: np.ndarray) -> float:
    """The largest finite value (NaN when there is none), without numpy's all-NaN warning."""
    finite = mu[np.isfinite(mu)]
    return float(finite.max()) if finite.size else float("nan")


def screen(cal: Calibration, out: Path, executor: Executor | None) -> tuple[list[str], dict[str, Any]]:
    """Morris elementary effects on the distance and on each target; the parameters to calibrate and a summary.

    Resumes from ``out/screening.csv``; one written by an older version (no per-target columns) is
    refused, because the search in the same folder was built on its parameter set.
    """
    keys = list(cal.parameters)
    names = [t.name for t in cal.targets.targets]
    required = [t.name for t in cal.targets.targets if t.required]
    path = out / "screening.csv"
    if cal.screening["trajectories"] == 0 or cal.screening["keep"] >= len(keys):
        return keys, {"screened": False}
    if path.exists():
        table = pd.read_csv(path)
        missing = [c for c in ("kept_for", *(f"mu_star:{n}" for n in names)) if c not in table.columns]
        if missing:
            raise ConfigError(f"invalid output folder: {path} lacks the per-target screening column {missing[0]!r} "
                              f"(written by an older sim.calibrate or for other targets); choose a new folder")
        # what was decided is what the search in this folder used: read it, do not re-derive it
        kept_for = dict(zip(table["parameter"], table["kept_for"].fillna("").astype(str)))
    else:
        from SALib.analyze import morris as morris_analyze
        from SALib.sample import morris as morris_sample

        problem = {"num_vars": len(keys), "names": keys, "bounds": [list(cal.parameters[k]) for k in keys]}
        x = morris_sample.sample(problem, cal.screening["trajectories"], num_levels=4, seed=cal.seed)
        res = _map(executor, [(dict(zip(keys, row)), cal.seed) for row in x], cal, "screening")
        y = np.array([distance(cal.targets, r) for r in res])
        si = morris_analyze.analyze(problem, x, y, conf_level=0.95, num_levels=4, seed=cal.seed)
        table = pd.DataFrame({"parameter": keys, "mu_star": si["mu_star"], "mu_star_conf": si["mu_star_conf"],
                              "sigma": si["sigma"]})
        # the same runs screen every target: its scaled miss is the distance's own term for it
        z = pd.DataFrame([scaled_errors(cal.targets, r) for r in res], columns=names)
        for name in names:
            per = morris_analyze.analyze(problem, x, z[name].to_numpy(float), conf_level=0.95, num_levels=4,
                                         seed=cal.seed)
            table[f"mu_star:{name}"] = np.asarray(per["mu_star"], dtype=float)
        kept_for = select(table, required, cal.screening["keep"])
        table["kept_for"] = table["parameter"].map(kept_for)
        table = table.sort_values("mu_star", ascending=False, kind="stable")
        write_csv(path, table, index=False)
    keep = [p for p in table["parameter"] if kept_for[p]]  # in overall rank order
    lost = unmoved(table, required)
    for name in lost:
        print(f"screening: warning: no candidate parameter moves required target {name} "
              f"(every mu* below {MOVES} half-widths); it cannot be calibrated with these parameters",
              file=sys.stderr)
    by_target = sum(1 for p in keep if kept_for[p] != "overall")
    if by_target > cal.screening["keep"]:
        print(f"screening: the required targets need {by_target} parameters, more than screening.keep = "
              f"{cal.screening['keep']}; keeping all {by_target}", file=sys.stderr)
    summary = {"screened": True, "keep": cal.screening["keep"], "kept_for": {p: kept_for[p] for p in keep},
               "required_targets_unmoved": lost}
    return keep, summary


def search(cal: Calibration, keys: list[str], out: Path, executor: Executor | None, batch: int,
           warm_start: Path | None = None) -> pd.DataFrame:
    """Optuna TPE over ``keys``; resumable from ``out/journal.log``. Returns every finished trial.

    ``warm_start``: a previous calibration's folder; its accepted sets (``ensemble.csv``) are the
    first trials of a new study (clipped to this calibration's ranges; parameters it did not
    calibrate at their base values), so a run with wider ranges starts where the last one ended.
    """
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = JournalStorage(JournalFileBackend(str(out / "journal.log")))
    study = optuna.create_study(study_name="calibration", storage=storage, direction="minimize", load_if_exists=True,
                                sampler=optuna.samplers.TPESampler(seed=cal.seed, n_startup_trials=min(20, cal.trials // 2)))
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):  # interrupted: try again
        study.tell(t.number, state=optuna.trial.TrialState.FAIL)
    if warm_start is not None and not study.trials:
        prior = pd.read_csv(Path(warm_start) / "ensemble.csv")
        for _, row in prior.iterrows():  # a parameter the last run did not calibrate starts at its base value
            study.enqueue_trial({k: float(np.clip(row[k] if k in row else get_key(cal.base, k), *cal.parameters[k]))
                                 for k in keys})
    t0 = time.perf_counter()
    while (done := len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)))) < cal.trials:
        asked = [study.ask() for _ in range(min(batch, cal.trials - done))]
        # one seed for every trial (common random numbers): differences between trials are the parameters'
        jobs = [({k: t.suggest_float(k, *cal.parameters[k]) for k in keys}, cal.seed) for t in asked]
        results = _map(executor, jobs, cal, f"search (trial {done + 1}-{done + len(asked)} of {cal.trials})")
        for t, res in zip(asked, results):
            for name, value in res.items():
                t.set_user_attr(name, float(value))
            study.tell(t, distance(cal.targets, res))
    rows = [{"trial": t.number, "distance": t.value, **t.params, **t.user_attrs}
            for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))]
    trials = pd.DataFrame(rows).sort_values("distance")
    write_csv(out / "trials.csv", trials, index=False)
    print(f"search: {len(trials)} trials, best distance {trials['distance'].iloc[0]:.3g} "
          f"({time.perf_counter() - t0:.0f} s this session)", file=sys.stderr)
    return trials


def accept(cal: Calibration, keys: list[str], trials: pd.DataFrame, out: Path,
           executor: Executor | None) -> pd.DataFrame:
    """Re-run the best trials over new seeds; keep the plausible ones (see module doc)."""
    path = out / "acceptance.csv"
    cand = trials.head(2 * cal.ensemble)
    done = pd.read_csv(path) if path.exists() else pd.DataFrame()
    todo = [r for _, r in cand.iterrows() if done.empty or r["trial"] not in set(done["trial"])]
    seeds = [cal.seed + 100_000 + k for k in range(cal.replications)]
    jobs = [({k: float(r[k]) for k in keys}, s) for r in todo for s in seeds]
    results = _map(executor, jobs, cal, "acceptance") if jobs else []
    rows = []
    for i, r in enumerate(todo):
        res = pd.DataFrame(results[i * len(seeds): (i + 1) * len(seeds)])
        mean = {t.name: float(res[t.name].mean()) if t.name in res else float("nan") for t in cal.targets.targets}
        sd = {t.name: float(res[t.name].std(ddof=1)) if t.name in res and len(res) > 1 else 0.0
              for t in cal.targets.targets}
        imp = implausibility(cal.targets, mean, sd)
        rows.append({"trial": int(r["trial"]), **{k: float(r[k]) for k in keys},
                     "distance": float(np.sqrt(np.mean(np.square(list(imp.values()))))),
                     "max_required_implausibility": max((imp[t.name] for t in cal.targets.targets if t.required),
                                                        default=0.0),
                     **mean, **{f"{n}_sd": v for n, v in sd.items()}})
    table = pd.concat([done, pd.DataFrame(rows)], ignore_index=True) if rows else done
    write_csv(path, table, index=False)
    ok = (table["distance"] <= cal.accept) & (table["max_required_implausibility"] <= CUTOFF)
    return table[ok].sort_values("distance").head(cal.ensemble)


def implausibility(targets: TargetSet, mean: dict[str, float], sd: dict[str, float]) -> dict[str, float]:
    """History matching's implausibility of each target: ``|mean - c| / sqrt(h^2 + sd^2)``.

    ``h`` (the pass band's half-width) stands for the published figure's uncertainty and the
    model's structural discrepancy, ``sd`` for the model's stochastic spread over seeds at this
    parameter set (Vernon, Goldstein and Bower 2010); a target the runs cannot compute counts as
    ``PENALTY``.
    """
    out = {}
    for t in targets.targets:
        m, s = mean.get(t.name, float("nan")), sd.get(t.name, 0.0)
        h = 0.5 * (t.high - t.low)
        out[t.name] = PENALTY if not np.isfinite(m) else abs(m - t.centre) / math.sqrt(h * h + (s if np.isfinite(s) else 0) ** 2)
    return out


def calibrate(cal: Calibration, out: str | Path, workers: int = 1, backend: str = "local",
              scheduler: str | None = None, warm_start: str | Path | None = None) -> dict[str, Any]:
    """Screening, search and acceptance; writes the outputs under ``out`` and returns the diagnostics."""
    from sim.sweep import make_executor

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    spec_path = out / "calibration.json"
    spec = {"targets": cal.targets.name, "parameters": {k: list(v) for k, v in cal.parameters.items()},
            "base": cal.base, "trials": cal.trials, "replications": cal.replications, "ensemble": cal.ensemble,
            "accept": cal.accept, "seed": cal.seed, "screening": cal.screening,
            "warm_start": None if warm_start is None else str(warm_start)}
    if spec_path.exists() and json.loads(spec_path.read_text()) != json.loads(json.dumps(spec)):
        raise ConfigError(f"invalid output folder: {out} holds another calibration (its calibration.json differs); "
                          "choose a new folder")
    write_json(spec_path, spec)
    t0 = time.perf_counter()
    executor = make_executor(backend, workers, scheduler) if workers > 1 or backend != "local" else None
    try:
        keys, screening = screen(cal, out, executor)
        trials = search(cal, keys, out, executor, batch=max(workers, 1),
                        warm_start=None if warm_start is None else Path(warm_start))
        ensemble = accept(cal, keys, trials, out, executor)
    finally:
        if executor is not None:
            executor.shutdown()
    write_csv(out / "ensemble.csv", ensemble, index=False)
    fit = []
    for t in cal.targets.targets:
        v = ensemble[t.name].to_numpy(float) if len(ensemble) else np.array([])
        fit.append({"target": t.name, "period": t.period, "low": t.low, "high": t.high, "required": t.required,
                    "ensemble_mean": float(v.mean()) if v.size else None,
                    "ensemble_min": float(v.min()) if v.size else None, "ensemble_max": float(v.max()) if v.size else None,
                    "members_passing": int(sum(t.passes(x) for x in v))})
    write_csv(out / "fit.csv", pd.DataFrame(fit), index=False)
    diag = {"calibrated": keys, "screening": screening, "trials": int(len(trials)), "best_trial_distance": float(trials["distance"].iloc[0]),
            "accepted": int(len(ensemble)), "ensemble_wanted": cal.ensemble,
            "acceptance_candidates": int(min(len(trials), 2 * cal.ensemble)),
            "wall_time_s_this_session": round(time.perf_counter() - t0, 1), "workers": workers, "backend": backend}
    write_json(out / "diagnostics.json", diag)
    return diag


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sim.calibrate", description=__doc__.split("\n")[0])
    ap.add_argument("overrides", nargs="*", help="calibration=NAME and calibration settings key=value "
                                                 "(trials=, replications=, ensemble=, accept=, screening.keep=, base.<key>=)")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--backend", choices=("local", "dask"), default="local")
    ap.add_argument("--scheduler", default=None)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--warm-start", type=Path, default=None,
                    help="a previous calibration's folder: its accepted sets are the search's first trials")
    args = ap.parse_intermixed_args(argv)  # key=value overrides may come before or after options
    try:
        name, over = split_overrides(args.overrides)
        cal = load_calibration(name, over)
        out = args.out or Path("calibration") / Path(name).stem
        # a refused output folder (another calibration, an older screening) is one line too, not a traceback
        if args.warm_start is not None and not (args.warm_start / "ensemble.csv").is_file():
            raise ConfigError(f"invalid option: --warm-start = {str(args.warm_start)!r}: no ensemble.csv there")
        diag = calibrate(cal, out, workers=args.workers, backend=args.backend, scheduler=args.scheduler,
                         warm_start=args.warm_start)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(diag, indent=1))
    print(f"results in {out}")
    return 0


if __name__ == "__main__":
    from sim.parallel import run_command

    sys.exit(run_command(main))
