"""Gather a Hydra multirun folder into one tidy table.

``python -m sim.collect <sweep dir>`` reads every job folder under the sweep
(``.hydra/overrides.yaml``, ``status.json``, ``summary.json``) and writes
``results.parquet`` and ``results.csv`` in the sweep folder: one row per run
with its overrides (one column per key), the seed, the status and the summary
metrics.  A job that never finished is listed with status ``missing``.

``FailedJobs`` is the Hydra callback (``hydra.callbacks`` in ``configs/config.yaml``) that makes
``python -m sim -m ...`` exit 1, after every job has run, when a job failed.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from hydra.experimental.callback import Callback

from sim.output import write_results


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
    results = write_results(root, rows)
    return results


def _stamps(root: Path) -> dict[Path, int]:
    """Every job's status.json under a sweep folder, with its modification time (ns)."""
    return {p: p.stat().st_mtime_ns for p in root.glob("**/status.json")}


def _natural(path: Path) -> list[Any]:
    """Sort key putting job 2 before job 10."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", str(path))]


class FailedJobs(Callback):
    """Hydra callback: after a multirun, one line per failed job (its folder and error), then exit 1.

    A job that raises records ``status.json`` with status failed and returns, so that the other jobs
    go on (``sim.__main__._task``); Hydra then sees only successes. Jobs may run in other processes
    (the joblib launcher), so the status files, read in the launching process once all jobs have
    returned, say which failed.
    """

    def __init__(self) -> None:
        self._before: dict[Path, int] = {}

    def on_multirun_start(self, config: Any, **kwargs: Any) -> None:
        # a reused sweep folder may hold status files of an earlier multirun: only new or rewritten ones count
        self._before = _stamps(Path(config.hydra.sweep.dir))

    def on_multirun_end(self, config: Any, **kwargs: Any) -> None:
        root = Path(config.hydra.sweep.dir)
        lines = []
        for path, stamp in sorted(_stamps(root).items(), key=lambda item: _natural(item[0])):
            if self._before.get(path) == stamp:
                continue
            status = json.loads(path.read_text(encoding="utf-8"))
            if status.get("status") != "ok":
                job = path.parent
                lines.append(f"job {job.relative_to(root)} failed ({job.resolve()}): {status.get('error', '')}")
        if lines:
            for line in lines:
                print(line, file=sys.stderr)
            raise SystemExit(1)  # a BaseException: Hydra passes it on (it turns a callback's Exception into a warning)


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
    from sim.parallel import run_command

    sys.exit(run_command(main))
