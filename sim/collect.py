"""Gather a Hydra multirun folder into one tidy table.

``python -m sim.collect <sweep dir>`` reads every job folder under the sweep
(``.hydra/overrides.yaml``, ``status.json``, ``summary.json``) and writes
``results.parquet`` and ``results.csv`` in the sweep folder: one row per run
with its overrides (one column per key), the seed, the status and the summary
metrics.  A job that never finished is listed with status ``missing``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import yaml

from sim.output import write_atomic


def _value(text: str) -> object:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def collect(sweep_dir: str | Path) -> pd.DataFrame:
    """One row per job of a Hydra multirun folder; also written as results.parquet / results.csv."""
    root = Path(sweep_dir)
    jobs = sorted(root.glob("**/.hydra/overrides.yaml"))
    if not jobs:  # e.g. a sim.sweep folder: its results table must not be overwritten by an empty one
        raise ValueError(f"{root} is not a Hydra multirun folder (no job holds .hydra/overrides.yaml); "
                         "sim.sweep folders already hold their results.parquet")
    rows = []
    for over in jobs:
        job = over.parent.parent
        overrides = yaml.safe_load(over.read_text()) or []
        row: dict[str, object] = {"job": str(job.relative_to(root))}
        for o in overrides:
            key, _, val = o.lstrip("+~").partition("=")
            row[key] = _value(val)
        config = yaml.safe_load((job / ".hydra" / "config.yaml").read_text()) if (job / ".hydra" / "config.yaml").exists() else {}
        row.setdefault("seed", config.get("seed"))
        status = json.loads((job / "status.json").read_text()) if (job / "status.json").exists() else {}
        row["status"] = status.get("status", "missing")
        row["error"] = status.get("error", "")
        if (job / "summary.json").exists():
            summary = json.loads((job / "summary.json").read_text())
            row.update({k: v for k, v in summary.items() if k not in row})
        rows.append(row)
    results = pd.DataFrame(rows)
    write_atomic(root / "results.parquet", lambda p: results.to_parquet(p, index=False))
    write_atomic(root / "results.csv", lambda p: results.to_csv(p, index=False, float_format="%.10g"))
    return results


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not Path(args[0]).is_dir():
        print("usage: python -m sim.collect <hydra multirun folder>", file=sys.stderr)
        return 2
    try:
        results = collect(args[0])
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"{len(results)} runs, {int((results['status'] == 'ok').sum()) if len(results) else 0} ok")
    print(Path(args[0]).resolve() / "results.parquet")
    return 0


if __name__ == "__main__":
    sys.exit(main())
