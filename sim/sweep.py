"""Parameter sweeps that survive failure, resume, and scale out on any ``concurrent.futures`` executor.

``python -m sim.sweep sweep=<name> [key=value ...] [--backend local|dask] [--scheduler ADDR] [--workers N] [--out DIR]``
reads a design from ``configs/sweep/<name>.yaml``::

    method: grid | random | lhs | sobol | morris   # how points are drawn
    samples: 16                             # points (random, lhs); base samples (sobol); trajectories (morris)
    seeds: 3                                # replications per point, spawned from one root SeedSequence
    root_seed: 0
    parameters:                             # dotted config keys
      platform.feed_load: {values: [1.0, 2.0, 3.0]}   # grid: listed values
      funds.cash: {low: 0.0, high: 4.0e8}             # random / lhs / sobol: uniform range
    base: {days: 90, consumers: {n: 5000}}  # overrides for every run
    timeseries: [gmv, mean_platform_trust]  # daily metrics kept in timeseries.parquet
    ensemble: kuaishou2021                  # optional: every point on every member of a calibrated ensemble

With an ensemble (the design's ``ensemble:`` entry, or ``ensemble=<name or path>`` on the command
line; :mod:`sim.ensemble`), every point runs on every member's parameters (the design's base and swept keys override the
member's), ``seeds`` replications each; ``results`` gain a ``member`` column and
``ensemble_summary.csv`` gives, for each point and metric, the ensemble mean, the stochastic interval
and the members' range (:func:`sim.ensemble.summarise`), so a reader sees whether seeds or parameters
dominate.

Every run is keyed by a hash of its resolved configuration (seed included) and
its result is written atomically to ``runs/<id>.json`` as soon as it finishes,
so rerunning the same command after an interruption runs only what is missing
or failed.  A run that raises, returns NaN or kills its worker is recorded with
its status and traceback; the others complete, and the sweep exits non-zero
with one line per failure.  ``results.parquet`` / ``results.csv`` hold one row
per run (id, parameters, seed, status, wall time, summary metrics) and
``timeseries.parquet`` the named daily metrics in long form.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import sys
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from sim import resolution
from sim.config import ConfigError, get_key, has_key, make_config, merge, override_key, set_key, to_dict
from sim.metrics import METRICS
from sim.output import digest, write_atomic, write_json, write_results
from sim.parallel import process_pool, share_cores

METHODS = ("grid", "random", "lhs", "sobol", "morris")

#: A function of (resolved config dict) -> (summary dict, daily metrics frame or None). The default
#: runs the market; tests and sensitivity checks swap in analytic functions.
Evaluate = Callable[[dict[str, Any]], tuple[dict[str, float], pd.DataFrame | None]]


@dataclass
class Design:
    """A validated sweep design."""

    name: str
    method: str
    parameters: dict[str, dict[str, Any]]
    samples: int = 16
    seeds: int = 1
    root_seed: int = 0
    base: dict[str, Any] = field(default_factory=dict)
    timeseries: list[str] = field(default_factory=list)
    ensemble: str | None = None


@dataclass
class RunSpec:
    """One run of a sweep: its id, the swept values, its seed and full configuration."""

    run_id: str
    point: int
    replicate: int
    params: dict[str, Any]
    seed: int
    config: dict[str, Any]
    member: int = -1  # the ensemble member (-1: no ensemble)


def _fail(entry: str, why: str) -> ConfigError:
    return ConfigError(f"invalid sweep design: {entry}: {why}")


def validate_design(data: dict[str, Any], base: dict[str, Any]) -> Design:
    """Check a design against the model's configuration before anything runs; one-line errors."""
    known = {"name", "method", "parameters", "samples", "seeds", "root_seed", "base", "timeseries", "ensemble"}
    for key in data:
        if key not in known:
            raise _fail(f"sweep.{key}", f"unknown entry; allowed: {', '.join(sorted(known))}")
    method = data.get("method", "grid")
    if method not in METHODS:
        raise _fail("sweep.method", f"{method!r} is not one of {', '.join(METHODS)}")
    for key in ("samples", "seeds"):
        v = data.get(key, 1)
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise _fail(f"sweep.{key}", f"{v!r} must be an integer >= 1")
    params = data.get("parameters") or {}
    if not isinstance(params, dict) or not params:
        raise _fail("sweep.parameters", "must name at least one parameter")
    for key, spec in params.items():
        entry = f"sweep.parameters.{key}"
        if not has_key(base, key):
            raise _fail(entry, "unknown parameter (not a key of the model's configuration)")
        if not isinstance(spec, dict) or not ({"values"} <= set(spec) or {"low", "high"} <= set(spec)):
            raise _fail(entry, f"malformed distribution {spec!r}: give values: [...] or low: and high:")
        if "values" in spec:
            if not isinstance(spec["values"], list) or not spec["values"]:
                raise _fail(entry, "empty range: values must be a non-empty list")
            if method != "grid":
                raise _fail(entry, f"method {method} needs a range (low, high), not a list of values")
            ends = spec["values"]
        else:
            lo, hi = spec["low"], spec["high"]
            if not all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in (lo, hi)):
                raise _fail(entry, f"low and high must be finite numbers, got {lo!r} and {hi!r}")
            if not lo < hi:
                raise _fail(entry, f"empty range: low ({lo}) must be below high ({hi})")
            if method == "grid":
                raise _fail(entry, "method grid needs values: [...]")
            ends = [lo, hi]
        for v in ends:  # every end of the range must be a valid value of the parameter
            probe = copy.deepcopy(base)
            set_key(probe, key, v)
            try:
                make_config(probe)
            except ConfigError as err:
                raise _fail(entry, f"value {v!r} is outside what the parameter allows ({err})") from None
    ts = data.get("timeseries") or []
    for m in ts:
        if m not in METRICS:
            raise _fail(f"sweep.timeseries.{m}", "not a daily metric")
    ens = data.get("ensemble")
    if ens is not None:
        from sim import ensemble

        ensemble.load(ens, merge(base, data.get("base") or {}))  # a missing or invalid ensemble fails here
    return Design(name=str(data.get("name", "sweep")), method=method, parameters=params,
                  samples=int(data.get("samples", 16)), seeds=int(data.get("seeds", 1)),
                  root_seed=int(data.get("root_seed", 0)), base=data.get("base") or {}, timeseries=list(ts),
                  ensemble=None if ens is None else str(ens))


def sample_points(design: Design) -> list[dict[str, Any]]:
    """Parameter points of the design (before replication over seeds)."""
    keys = list(design.parameters)
    specs = [design.parameters[k] for k in keys]
    if design.method == "grid":
        grids = np.meshgrid(*[np.arange(len(s["values"])) for s in specs], indexing="ij")
        idx = np.stack([g.ravel() for g in grids], axis=1)
        return [{k: specs[j]["values"][i] for j, (k, i) in enumerate(zip(keys, row))} for row in idx]
    lo = np.array([s["low"] for s in specs], float)
    hi = np.array([s["high"] for s in specs], float)
    rng = np.random.default_rng(design.root_seed)
    if design.method == "random":
        u = rng.random((design.samples, len(keys)))
    elif design.method == "lhs":
        from scipy.stats import qmc

        u = qmc.LatinHypercube(d=len(keys), seed=rng).random(design.samples)
    elif design.method == "sobol":  # Saltelli's scheme: the points SALib's Sobol analysis expects
        from SALib.sample import sobol as sobol_sample

        u = sobol_sample.sample(unit_problem(keys), design.samples, calc_second_order=False, seed=design.root_seed)
    else:  # morris: one-at-a-time trajectories for elementary effects
        from SALib.sample import morris as morris_sample

        u = morris_sample.sample(unit_problem(keys), design.samples, num_levels=4, seed=design.root_seed)
    x = lo + u * (hi - lo)
    out = []
    for row in x:
        point = {}
        for k, s, v in zip(keys, specs, row):
            point[k] = int(round(v)) if isinstance(s["low"], int) and isinstance(s["high"], int) else float(v)
        out.append(point)
    return out


def unit_problem(keys: list[str]) -> dict[str, Any]:
    """A SALib problem on the unit cube (the design scales points to each parameter's range)."""
    return {"num_vars": len(keys), "names": list(keys), "bounds": [[0.0, 1.0]] * len(keys)}


def seeds_for(design: Design) -> list[int]:
    """Replication seeds spawned from one root SeedSequence (reproducible, independent)."""
    children = np.random.SeedSequence(design.root_seed).spawn(design.seeds)
    return [int(c.generate_state(1, dtype=np.uint32)[0]) for c in children]


def run_id(config: dict[str, Any]) -> str:
    """A stable key of a resolved configuration (seed included)."""
    return digest(config, 16)


def plan(design: Design, base: dict[str, Any]) -> list[RunSpec]:
    """Every run of the design: points x (ensemble members x) seeds, each with its resolved, validated
    configuration (a member's parameters first, then the design's base, then the point's)."""
    root = merge(base, design.base)
    if design.ensemble is None:
        members: list[tuple[int, dict[str, Any]]] = [(-1, root)]
    else:
        from sim import ensemble

        table = ensemble.load(design.ensemble, root)
        # the design's base (like a swept key) is the design: it overrides the member's calibrated value
        members = [(m, merge(ensemble.apply(base, table.iloc[m]), design.base)) for m in range(len(table))]
    specs = []
    for p, point in enumerate(sample_points(design)):
        for m, member_root in members:
            for r, seed in enumerate(seeds_for(design)):
                cfg = copy.deepcopy(member_root)
                for k, v in point.items():
                    set_key(cfg, k, v)
                cfg["seed"] = seed
                valid = make_config(cfg)
                resolution.plan(valid)  # the populations it samples, too: refused here, not run by run
                cfg = to_dict(valid)
                specs.append(RunSpec(run_id(cfg), p, r, point, seed, cfg, m))
    return specs


def simulate(config: dict[str, Any]) -> tuple[dict[str, float], pd.DataFrame]:
    """The default evaluation: run the market; summary metrics and the daily metrics."""
    from sim.run import run

    model, summary = run(config)
    metrics = model.metrics_frame()
    return {k: v for k, v in summary.items() if k not in ("seed", "days", "version")}, metrics


def execute(spec: RunSpec, evaluate: Evaluate = simulate, timeseries: tuple[str, ...] = (),
            started: str | None = None) -> dict[str, Any]:
    """Run one spec, never raising: returns a result record with status ok, nan or failed.

    With ``started`` (a folder), a marker file says the run began, so that if its worker dies the
    driver knows which runs were in flight.
    """
    if started is not None:
        Path(started, f"{spec.run_id}.started").touch()
    t0 = time.perf_counter()
    rec: dict[str, Any] = {"run_id": spec.run_id, "point": spec.point, "replicate": spec.replicate,
                           "member": spec.member, "seed": spec.seed, "params": spec.params}
    try:
        summary, metrics = evaluate(spec.config)
        bad = [k for k, v in summary.items() if isinstance(v, float) and not math.isfinite(v)]
        rec["status"] = "nan" if bad else "ok"
        rec["error"] = f"non-finite outputs: {', '.join(bad)}" if bad else ""
        rec["summary"] = summary
        if metrics is not None and timeseries:
            rec["timeseries"] = {m: metrics[m].tolist() for m in timeseries}
    except Exception as exc:  # noqa: BLE001 - a failed run is data, not a crash of the sweep
        rec["status"] = "failed"
        rec["error"] = f"{type(exc).__name__}: {exc}"
        rec["traceback"] = traceback.format_exc()
        rec["summary"] = {}
    rec["wall_s"] = time.perf_counter() - t0
    return rec


def _record_path(out: Path, rid: str) -> Path:
    return out / "runs" / f"{rid}.json"


def load_record(out: Path, rid: str) -> dict[str, Any] | None:
    """A run's stored result, or None when missing or unreadable (e.g. cut by a kill -9 before rename)."""
    p = _record_path(out, rid)
    try:
        return json.loads(p.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def one_kernel_thread() -> Any:
    """A Dask worker plugin: jobs share the worker's cores, so each runs the chunked kernels on one thread
    (as :func:`sim.parallel.process_pool`'s workers do) unless ``LIVESIM_THREADS`` says otherwise."""
    from distributed.diagnostics.plugin import WorkerPlugin

    class OneKernelThread(WorkerPlugin):
        def setup(self, worker: Any) -> None:
            share_cores()

    return OneKernelThread()


def make_executor(backend: str, workers: int | None = None, scheduler: str | None = None) -> Executor:
    """A ``concurrent.futures`` executor: local processes, or a Dask cluster at ``scheduler``."""
    if backend == "local":
        return process_pool(workers)
    if backend == "dask":
        from distributed import Client

        client = Client(scheduler) if scheduler else Client(n_workers=workers or 2, threads_per_worker=1,
                                                              processes=True, dashboard_address=None)
        client.register_plugin(one_kernel_thread(), name="livesim-one-kernel-thread")
        return client.get_executor()
    raise ConfigError(f"invalid config: backend = {backend!r}: must be local or dask")


def run_sweep(design: Design, base: dict[str, Any], out: str | Path, executor: Executor | None = None,
              evaluate: Evaluate = simulate, progress: bool = True, max_attempts: int = 2,
              workers: int | None = None) -> pd.DataFrame:
    """Run every missing or failed run of the design; write and return the results table.

    ``executor`` may be any ``concurrent.futures`` executor (e.g. a Dask client's);
    without one, a local process pool of ``workers`` processes is used and
    rebuilt if a worker dies.
    """
    out = Path(out)
    specs = plan(design, base)
    spec = {"name": design.name, "method": design.method, "parameters": design.parameters, "samples": design.samples,
            "seeds": design.seeds, "root_seed": design.root_seed, "base": design.base, "timeseries": design.timeseries,
            "model_base": base, **({"ensemble": design.ensemble} if design.ensemble is not None else {})}
    held = out / "design.json"
    if held.exists() and json.loads(held.read_text()) != json.loads(json.dumps(spec, sort_keys=True)):
        raise ConfigError(f"invalid output folder: {out} holds another design (its design.json differs); "
                          "choose a new --out")
    write_json(held, spec)
    todo = [s for s in specs if (load_record(out, s.run_id) or {}).get("status") != "ok"]
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(specs), initial=len(specs) - len(todo), desc=f"sweep {design.name}", unit="run")
    failed = 0

    def done(rec: dict[str, Any]) -> None:
        nonlocal failed
        write_json(_record_path(out, rec["run_id"]), rec)
        failed += rec["status"] != "ok"
        if bar is not None:
            bar.update(1)
            bar.set_postfix(failed=failed)

    own = executor is None
    pool = executor if executor is not None else process_pool(workers)
    # local pools leave a marker when a run starts: after a worker dies, only the runs that were in
    # flight are suspects, and they are rerun one at a time so that only the culprit is blamed
    marks = out / "runs" / "started"
    marks.mkdir(parents=True, exist_ok=True)
    for m in marks.glob("*.started"):
        m.unlink()
    started = str(marks) if own else None
    ts = tuple(design.timeseries)

    def lost(spec: RunSpec, exc: BaseException) -> None:
        done({"run_id": spec.run_id, "point": spec.point, "replicate": spec.replicate, "member": spec.member,
              "seed": spec.seed, "params": spec.params, "status": "failed", "summary": {}, "wall_s": float("nan"),
              "error": f"worker lost: {type(exc).__name__}: {exc}".strip()})

    attempts = {s.run_id: 0 for s in todo}
    queue, isolate = list(todo), []
    try:
        while queue or isolate:
            for spec in isolate:  # one at a time
                try:
                    done(pool.submit(execute, spec, evaluate, ts, started).result())
                except BrokenProcessPool as exc:
                    lost(spec, exc)
                    pool.shutdown(wait=False, cancel_futures=True)
                    pool = process_pool(workers)
            isolate = []
            if not queue:
                break
            futures: dict[Future, RunSpec] = {pool.submit(execute, s, evaluate, ts, started): s for s in queue}
            queue, broken = [], False
            pending = set(futures)
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for f in finished:
                    spec = futures[f]
                    try:
                        done(f.result())
                    except BrokenProcessPool:  # a local worker died: was this run in flight?
                        broken = True
                        (isolate if (marks / f"{spec.run_id}.started").exists() else queue).append(spec)
                    except Exception as exc:  # noqa: BLE001 - an external executor lost the task
                        attempts[spec.run_id] += 1
                        if attempts[spec.run_id] >= max_attempts:
                            lost(spec, exc)
                        else:
                            queue.append(spec)
            if broken and own:
                pool.shutdown(wait=False, cancel_futures=True)
                pool = process_pool(workers)
    finally:
        if own:
            pool.shutdown(wait=True, cancel_futures=True)
        if bar is not None:
            bar.close()
    return collect_records(out, specs, design)


def collect_records(out: Path, specs: list[RunSpec], design: Design) -> pd.DataFrame:
    """results.parquet / results.csv and timeseries.parquet from the stored run records."""
    rows, series = [], []
    for s in specs:
        rec = load_record(out, s.run_id) or {"status": "missing", "error": "", "summary": {}, "wall_s": float("nan")}
        row = {"run_id": s.run_id, "point": s.point, "replicate": s.replicate,
               **({"member": s.member} if design.ensemble is not None else {}), **s.params, "seed": s.seed,
               "status": rec["status"], "error": rec.get("error", ""), "wall_s": rec.get("wall_s", float("nan")),
               **rec.get("summary", {})}
        rows.append(row)
        for metric, values in (rec.get("timeseries") or {}).items():
            series.append(pd.DataFrame({"run_id": s.run_id, "day": np.arange(1, len(values) + 1),
                                        "metric": metric, "value": values}))
    results = write_results(out, rows)
    ts = pd.concat(series, ignore_index=True) if series else pd.DataFrame(columns=["run_id", "day", "metric", "value"])
    write_atomic(out / "timeseries.parquet", lambda p: ts.to_parquet(p, index=False))
    if design.ensemble is not None:
        summary = ensemble_summary(results, list(design.parameters))
        write_atomic(out / "ensemble_summary.csv", lambda p: summary.to_csv(p, index=False, float_format="%.10g"))
    return results


def ensemble_summary(results: pd.DataFrame, swept: list[str]) -> pd.DataFrame:
    """Each point's summary metrics over an ensemble: the ensemble mean, the stochastic interval (seeds)
    and the members' 2.5-97.5% range (:func:`sim.ensemble.summarise`; runs that failed count as missing)."""
    from sim import ensemble

    skip = {"run_id", "point", "replicate", "member", "seed", "status", "error", "wall_s", *swept}
    metrics = [c for c in results.columns if c not in skip and pd.api.types.is_numeric_dtype(results[c])]
    ok = results.assign(**{m: results[m].where(results["status"] == "ok") for m in metrics})
    long = ok.melt(id_vars=["point", "member", "replicate"], value_vars=metrics, var_name="metric")
    long = long.rename(columns={"point": "policy", "replicate": "replication"})
    table = ensemble.summarise(long, {}).rename(columns={"policy": "point"})
    points = results.drop_duplicates("point").set_index("point")[swept]
    return points.join(table.set_index("point"), how="right").reset_index()


def config_of(out: str | Path, rid: str) -> dict[str, Any]:
    """The full configuration of one run of a sweep folder (rerun it with ``sim.run.run``)."""
    design = json.loads((Path(out) / "design.json").read_text())
    d = Design(**{k: design[k] for k in ("name", "method", "parameters", "samples", "seeds", "root_seed", "base",
                                           "timeseries")}, ensemble=design.get("ensemble"))
    for s in plan(d, design["model_base"]):
        if s.run_id == rid:
            return s.config
    raise KeyError(f"run {rid} is not part of the sweep in {out}")


def load_design(name: str, overrides: list[str] | None = None) -> tuple[Design, dict[str, Any]]:
    """Compose ``configs/sweep_run.yaml`` with ``sweep=name``; validate the design and the base market.

    ``ensemble=<name or path>`` among the overrides sets the design's ensemble; the other dotted keys set on
    the command line join the design's ``base`` (so they override an ensemble member's value too).
    """
    from sim.__main__ import compose

    ens = [o.split("=", 1)[1] for o in overrides or [] if o.startswith("ensemble=")]
    data = compose([f"sweep={name}", *(o for o in overrides or [] if not o.startswith("ensemble="))],
                   config_name="sweep_run")
    sweep = data.pop("sweep")
    if ens:
        sweep["ensemble"] = ens[-1]
    base = to_dict(make_config(data))
    # a key set on the command line is part of the design, like its base: it overrides an ensemble member's value
    for key in (override_key(o) for o in overrides or [] if "=" in o and not o.startswith("ensemble=")):
        if "." in key and has_key(base, key):
            nested: Any = get_key(base, key)
            for part in reversed(key.split(".")):
                nested = {part: nested}
            sweep["base"] = merge(sweep.get("base") or {}, nested)
    return validate_design(sweep, base), base


def failures(results: pd.DataFrame) -> list[str]:
    """One line per failed run."""
    bad = results[results["status"] != "ok"]
    return [f"run {r.run_id} (point {r.point}, seed {r.seed}): {r.status}: {r.error}" for r in bad.itertuples()]


def main(argv: list[str] | None = None) -> int:
    """Command line entry point (see the module docstring)."""
    ap = argparse.ArgumentParser(prog="python -m sim.sweep", description=__doc__.split("\n\n")[0])
    ap.add_argument("overrides", nargs="*", help="sweep=<name> and any config key=value")
    ap.add_argument("--backend", default="local", choices=("local", "dask"))
    ap.add_argument("--scheduler", help="Dask scheduler address (backend dask); default: a local cluster")
    ap.add_argument("--workers", type=int, default=None, help="worker processes (default: all cores)")
    ap.add_argument("--out", help="sweep folder (default outputs/sweep/<name>)")
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_intermixed_args(argv)  # key=value overrides may come before or after options
    name = next((o.split("=", 1)[1] for o in args.overrides if o.startswith("sweep=")), None)
    if name is None:
        print("invalid config: sweep = None: name a design, e.g. sweep=demo (configs/sweep/)", file=sys.stderr)
        return 2
    try:
        design, base = load_design(name, [o for o in args.overrides if not o.startswith("sweep=")])
        plan(design, base)
    except ConfigError as err:
        print(str(err).splitlines()[0], file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else Path("outputs") / "sweep" / design.name
    executor = make_executor(args.backend, args.workers, args.scheduler) if args.backend == "dask" else None
    try:
        results = run_sweep(design, base, out, executor=executor, progress=not args.no_progress,
                            workers=args.workers)
    except ConfigError as err:
        print(str(err).splitlines()[0], file=sys.stderr)
        return 2
    finally:
        if executor is not None:
            executor.shutdown()
    lines = failures(results)
    for line in lines:
        print(line, file=sys.stderr)
    print(f"{len(results) - len(lines)} of {len(results)} runs ok")
    print(out.resolve())
    return 1 if lines else 0


if __name__ == "__main__":
    from sim.parallel import run_command

    sys.exit(run_command(main))
