"""Global sensitivity analysis with SALib: Sobol indices (first order and total) or Morris screening.

``python -m sim.sensitivity sensitivity=<name> [key=value ...] [--workers N] [--out DIR]``
reads ``configs/sensitivity/<name>.yaml`` (a sweep design with ``method: sobol`` or
``morris``, parameter ranges, and ``outputs``: summary metrics to explain), runs
it through the sweep runner (so it resumes and isolates failures), and writes
``sensitivity.csv`` (output, parameter, indices with 95% confidence intervals)
and ``figures/sensitivity.png``.  A Sobol design cannot drop runs: failed points
are retried once, and if any still fail the analysis stops and names them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.config import ConfigError, make_config, to_dict
from sim.output import write_csv
from sim.sweep import Design, Evaluate, run_sweep, simulate, unit_problem, validate_design


def analyse(design: Design, results: pd.DataFrame, outputs: list[str]) -> pd.DataFrame:
    """SALib indices for each output from a complete set of results (ordered by design point)."""
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze

    keys = list(design.parameters)
    problem = unit_problem(keys)
    ok = results[results["status"] == "ok"]
    means = ok.groupby("point")[outputs].mean().sort_index()  # average over seeds at each point
    rows = []
    for out in outputs:
        y = means[out].to_numpy(float)
        if design.method == "sobol":
            si = sobol_analyze.analyze(problem, y, calc_second_order=False, conf_level=0.95, seed=0)
            for i, k in enumerate(keys):
                rows.append({"output": out, "parameter": k, "S1": si["S1"][i], "S1_conf": si["S1_conf"][i],
                             "ST": si["ST"][i], "ST_conf": si["ST_conf"][i]})
        else:
            from sim.sweep import sample_points

            x = np.array([[p[k] for k in keys] for p in sample_points(design)], float)
            lo = np.array([design.parameters[k]["low"] for k in keys], float)
            hi = np.array([design.parameters[k]["high"] for k in keys], float)
            si = morris_analyze.analyze(problem, (x - lo) / (hi - lo), y, conf_level=0.95, num_levels=4, seed=0)
            for i, k in enumerate(keys):
                rows.append({"output": out, "parameter": k, "mu_star": si["mu_star"][i],
                             "mu_star_conf": si["mu_star_conf"][i], "sigma": si["sigma"][i]})
    return pd.DataFrame(rows)


def run_sensitivity(design: Design, base: dict[str, Any], outputs: list[str], out: str | Path,
                    evaluate: Evaluate = simulate, workers: int | None = None, progress: bool = True,
                    executor: Any = None) -> pd.DataFrame:
    """Run the design (retrying failures once), analyse it, write sensitivity.csv and the bar chart."""
    out = Path(out)
    results = run_sweep(design, base, out, executor=executor, evaluate=evaluate, progress=progress, workers=workers)
    if (results["status"] != "ok").any():  # Sobol and Morris estimators need every point
        results = run_sweep(design, base, out, executor=executor, evaluate=evaluate, progress=progress,
                            workers=workers)
    bad = results[results["status"] != "ok"]
    if len(bad):
        points = ", ".join(str(p) for p in sorted(set(bad["point"])))
        raise RuntimeError(f"cannot analyse: {len(bad)} run(s) still failed after a retry at design points "
                           f"{points} (see {out}/results.csv); the estimators need every point")
    table = analyse(design, results, outputs)
    write_csv(out / "sensitivity.csv", table, index=False)
    from sim.plots import sensitivity_figure

    sensitivity_figure(table, out / "figures" / "sensitivity.png")
    return table


def load(name: str, overrides: list[str] | None = None) -> tuple[Design, dict[str, Any], list[str]]:
    """Compose ``configs/sensitivity_run.yaml`` with ``sensitivity=name``; validate design and outputs."""
    from sim.__main__ import compose

    data = compose([f"sensitivity={name}", *(overrides or [])], config_name="sensitivity_run")
    spec = data.pop("sensitivity")
    outputs = spec.pop("outputs", None) or []
    base = to_dict(make_config(data))
    design = validate_design(spec, base)
    if design.method not in ("sobol", "morris"):
        raise ConfigError(f"invalid sensitivity design: sensitivity.method: {design.method!r} must be sobol or morris")
    if not outputs:
        raise ConfigError("invalid sensitivity design: sensitivity.outputs: name at least one summary metric")
    return design, base, list(outputs)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sim.sensitivity", description=__doc__.split("\n\n")[0])
    ap.add_argument("overrides", nargs="*", help="sensitivity=<name> and any config key=value")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--out", help="folder (default outputs/sensitivity/<name>)")
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_intermixed_args(argv)  # key=value overrides may come before or after options
    name = next((o.split("=", 1)[1] for o in args.overrides if o.startswith("sensitivity=")), "demo")
    try:
        design, base, outputs = load(name, [o for o in args.overrides if not o.startswith("sensitivity=")])
    except ConfigError as err:
        print(str(err).splitlines()[0], file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else Path("outputs") / "sensitivity" / design.name
    try:
        table = run_sensitivity(design, base, outputs, out, workers=args.workers, progress=not args.no_progress)
    except ConfigError as err:  # e.g. --out holds another design
        print(str(err).splitlines()[0], file=sys.stderr)
        return 2
    except RuntimeError as err:
        print(err, file=sys.stderr)
        return 1
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(out.resolve())
    return 0


if __name__ == "__main__":
    from sim.parallel import run_command

    sys.exit(run_command(main))
