"""Commit a calibration's accepted ensemble and check the model's defaults against its best member.

    python experiments/calibrated_default.py [--from experiments/results/calibration_kuaishou2021] [--name kuaishou2021]
    python experiments/calibrated_default.py --check      # exit 1 if sim.config's defaults differ from it

Writes ``configs/ensembles/<name>.csv`` (atomically): one row per accepted member, best (lowest
distance) first, parameter values rounded to 4 significant figures, with ``member``, ``trial``, ``distance``, ``max_required_implausibility``,
``default`` (true for the member the defaults are set to) and the calibrated parameters.  The
default market is the best member (the closest one whose required targets lie inside their bands): its values are the dataclass defaults in ``sim/config.py``
(source "calibrated to kuaishou2021" in MODEL.md section 8), and ``--check`` (also run by the test
suite) says which defaults differ.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.config import SimConfig, get_key, to_dict  # noqa: E402
from sim.ensemble import ENSEMBLE_DIR  # noqa: E402
from sim.targets import load_targets  # noqa: E402
from sim.output import replace_block, write_csv  # noqa: E402

DOC = ROOT / "docs" / "CALIBRATION.md"
START, END = "<!-- calibration-results:start (experiments/calibrated_default.py --doc) -->", "<!-- calibration-results:end -->"


def build(folder: Path) -> pd.DataFrame:
    """The committed table from a calibration folder's ``ensemble.csv`` and ``calibration.json``."""
    spec = json.loads((folder / "calibration.json").read_text())  # its targets decide the default member
    diag = json.loads((folder / "diagnostics.json").read_text())
    acc = pd.read_csv(folder / "ensemble.csv").sort_values("distance").reset_index(drop=True)
    # the default is the closest member whose mean over the acceptance seeds lies inside every required
    # target's band (so `python -m sim.validate` passes on it), or the closest member if none does
    targets = load_targets(spec["targets"])
    inside = [all(t.passes(row[t.name]) for t in targets.targets if t.required) for _, row in acc.iterrows()]
    if any(inside):
        first = inside.index(True)
        acc = pd.concat([acc.iloc[[first]], acc.drop(index=first)]).reset_index(drop=True)
    keys = [k for k in diag["calibrated"] if k in acc.columns]
    table = acc[["trial", "distance", "max_required_implausibility", *keys]].copy()
    for k in keys:  # 4 significant figures: readable defaults, far inside the targets' tolerances
        table[k] = [float(f"{v:.4g}") for v in table[k]]
    table.insert(0, "member", range(len(table)))
    table.insert(4, "default", [k == 0 for k in range(len(table))])
    return table


def mismatches(table: pd.DataFrame) -> list[str]:
    """Parameters whose ``sim.config`` default differs from the default member's value."""
    defaults = to_dict(SimConfig())
    best = table[table["default"]].iloc[0]
    keys = [c for c in table.columns if "." in c]
    return [f"{k}: default {get_key(defaults, k)!r}, calibrated {best[k]!r}" for k in keys
            if abs(float(get_key(defaults, k)) - float(best[k])) > 1e-9 * max(1.0, abs(float(best[k])))]


def _g(x: float) -> str:
    return f"{x:.3g}" if abs(x) < 1e4 else f"{x:.3e}"


def results_block(folder: Path, table: pd.DataFrame) -> str:
    """Markdown for docs/CALIBRATION.md: cost, acceptance, the fit of every target, the default member."""
    diag = json.loads((folder / "diagnostics.json").read_text())
    fit = pd.read_csv(folder / "fit.csv")
    trials = pd.read_csv(folder / "trials.csv")
    acc = pd.read_csv(folder / "acceptance.csv")
    spec = json.loads((folder / "calibration.json").read_text())
    k = len(spec["parameters"])
    screened = spec["screening"]["trajectories"] * (k + 1) if spec["screening"]["keep"] < k else 0  # else skipped
    runs = screened + len(trials) + len(acc) * spec["replications"]
    lines = [f"Calibration `{folder.relative_to(ROOT)}` (targets `{spec['targets']}`; base: "
             f"{spec['base']['consumers']['n']:,} consumers x {spec['base']['consumers']['scale']:g}, burn-in "
             f"{spec['base']['burn_in']} days): {runs} runs in all (screening "
             f"{screened or 'skipped: every parameter kept'}, search {len(trials)}"
             f"{' warm-started from ' + Path(spec['warm_start']).name if spec.get('warm_start') else ''}, acceptance "
             f"{len(acc)} candidates x {spec['replications']} seeds), {diag.get('wall_time_s_this_session', float('nan')):.0f} s "
             f"wall time in the last session on {diag['workers']} workers. Calibrated (kept by screening): "
             + ", ".join(f"`{k}`" for k in diag["calibrated"]) + f". Accepted **{diag['accepted']}** of "
             f"{diag['acceptance_candidates']} candidates (wanted {diag['ensemble_wanted']}): required targets' "
             f"implausibility <= 3 and RMS implausibility <= {spec['accept']}.", "",
             "| target | band | required | ensemble mean | ensemble range | members passing |", "|---|---|---|---|---|---|"]
    for r in fit.itertuples():
        mean = "-" if pd.isna(r.ensemble_mean) else _g(r.ensemble_mean)
        rng = "-" if pd.isna(r.ensemble_min) else f"{_g(r.ensemble_min)} - {_g(r.ensemble_max)}"
        lines.append(f"| {r.target} ({r.period}) | {_g(r.low)} - {_g(r.high)} | {'yes' if r.required else 'no'} | "
                     f"{mean} | {rng} | {r.members_passing} of {diag['accepted']} |")
    if len(table):
        best = table.iloc[0]
        lines += ["", f"The default market is member 0 (trial {int(best['trial'])}, RMS implausibility "
                      f"{best['distance']:.2f}; the closest member whose required targets lie inside their bands); its values, "
                      "rounded to 4 significant figures, are the defaults: "
                  + ", ".join(f"`{k}` = {best[k]:.4g}" for k in table.columns if "." in k) + "."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--from", dest="folder", default=str(ROOT / "experiments/results/calibration_kuaishou2021"))
    ap.add_argument("--name", default="kuaishou2021")
    ap.add_argument("--check", action="store_true", help="only compare sim.config's defaults with the committed ensemble")
    ap.add_argument("--doc", action="store_true", help="also write the results block of docs/CALIBRATION.md")
    args = ap.parse_args(argv)
    path = ENSEMBLE_DIR / f"{args.name}.csv"
    if args.check:
        bad = mismatches(pd.read_csv(path))
        print("\n".join(bad) if bad else f"sim.config defaults are the default member of {path.name}")
        return 1 if bad else 0
    folder = Path(args.folder).resolve()
    table = build(folder)
    if args.doc:
        replace_block(DOC, START, END, results_block(folder, table))
    if table.empty:
        print(f"{args.folder}: the calibration accepted no member; nothing written", file=sys.stderr)
        return 1
    write_csv(path, table, index=False)
    print(f"{path}: {len(table)} members; default member (trial {int(table['trial'].iloc[0])}):")
    for k in [c for c in table.columns if "." in c]:
        print(f"  {k} = {table[k].iloc[0]:.6g}")
    bad = mismatches(table)
    print("sim.config defaults to change:" if bad else "sim.config defaults already match", *bad, sep="\n  ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
