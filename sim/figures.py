"""Figures from sweep results.

``python -m sim.figures <sweep dir or results.parquet> --curve X Y`` draws metric Y against parameter X
(mean over seeds with a 95% band); ``--heatmap X Y Z`` draws the mean of Z on the (X, Y) grid.
Figures go to ``figures/`` beside the results; the last line printed is the figure's path.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from sim.plots import heatmap, response_curve


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sim.figures", description=__doc__.split("\n\n")[0])
    ap.add_argument("results", help="a sweep folder or its results.parquet")
    ap.add_argument("--curve", nargs=2, metavar=("X", "Y"))
    ap.add_argument("--heatmap", nargs=3, metavar=("X", "Y", "Z"))
    args = ap.parse_args(argv)
    path = Path(args.results)
    path = path / "results.parquet" if path.is_dir() else path
    if not path.is_file():
        print(f"invalid input: {path} is not a results.parquet", file=sys.stderr)
        return 2
    results = pd.read_parquet(path)
    wanted = (args.curve or []) + (args.heatmap or [])
    missing = [c for c in wanted if c not in results.columns]
    if not wanted or missing:
        print(f"invalid input: columns {missing or 'none given'} (available: {', '.join(results.columns)})", file=sys.stderr)
        return 2
    folder = path.parent / "figures"
    if args.curve:
        out = response_curve(results, *args.curve, folder / f"curve_{args.curve[1]}_by_{args.curve[0]}.png")
    else:
        x, y, z = args.heatmap
        out = heatmap(results, x, y, z, folder / f"heatmap_{z}_by_{x}_{y}.png")
    print(out.resolve())
    return 0


if __name__ == "__main__":
    from sim.parallel import run_command

    sys.exit(run_command(main))
