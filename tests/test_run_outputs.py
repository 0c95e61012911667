"""A run writes its folder: resolved config, daily metrics, summary, figures; atomically."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim import __version__, make_config
from sim.checks import check_invariants
from sim.metrics import METRICS
from sim.output import write_atomic, write_text
from sim.run import run

from conftest import SMALL, merge

FILES = ("config.yaml", "metrics.csv", "summary.json")
FIGURES = ("gmv_by_type_and_channel.png", "trust_and_repurchase.png", "follower_distribution.png",
           "seller_gmv_distribution.png", "brands_by_stage.png", "sp_client_gmv.png")


def _check_folder(out: Path, days: int, seed: int) -> None:
    for name in FILES:
        assert (out / name).is_file(), name
    for name in FIGURES:
        assert (out / "figures" / name).stat().st_size > 1000, name
    metrics = pd.read_csv(out / "metrics.csv", index_col="day")
    assert len(metrics) == days and list(metrics.columns) == ["date", *METRICS]  # the calendar date first
    assert metrics["date"].iloc[0] == make_config(yaml.safe_load((out / "config.yaml").read_text())).start_date
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed"] == seed and summary["version"] == __version__ and summary["days"] == days
    assert summary["gmv_total"] == pytest.approx(metrics["gmv"].sum())
    cfg = yaml.safe_load((out / "config.yaml").read_text())
    assert make_config(cfg).seed == seed  # the resolved config rebuilds the run
    assert not [p for p in out.rglob("*.tmp")]


def test_python_run_writes_a_reproducible_folder(tmp_path):
    model, summary = run(merge(SMALL, {"days": 15, "seed": 4}), tmp_path / "a")
    check_invariants(model)
    _check_folder(tmp_path / "a", 15, 4)
    cfg = yaml.safe_load((tmp_path / "a" / "config.yaml").read_text())
    run(cfg, tmp_path / "b")  # rerun from the written config: identical results
    assert (tmp_path / "a" / "metrics.csv").read_bytes() == (tmp_path / "b" / "metrics.csv").read_bytes()
    assert (tmp_path / "a" / "summary.json").read_bytes() == (tmp_path / "b" / "summary.json").read_bytes()


def test_cli_runs_and_prints_the_folder_last(tmp_path):
    out = tmp_path / "cli"
    res = subprocess.run([sys.executable, "-m", "sim", "days=12", "seed=2", "consumers.n=3000", "hosts.n=80",
                          "merchants.n=150", f"hydra.run.dir={out}"], cwd=tmp_path, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().splitlines()[-1] == str(out.resolve())
    _check_folder(out, 12, 2)
    assert (out / ".hydra" / "overrides.yaml").is_file()


def test_atomic_write_leaves_the_old_file_when_interrupted(tmp_path):
    target = tmp_path / "summary.json"
    write_text(target, "old")

    def boom(path: Path) -> None:
        path.write_text("half-writ")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, boom)
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["summary.json"]


def test_a_folder_holding_another_run_is_refused_and_the_same_run_may_rerun(tmp_path):
    from sim.config import ConfigError
    from sim.run import run

    small = {"consumers": {"n": 2000}, "hosts": {"real_n": 9e6}, "merchants": {"real_n": 1.8e7}, "burn_in": 0,
             "days": 3, "output": {"figures": False}}
    run(small, tmp_path / "a")
    first = (tmp_path / "a" / "metrics.csv").read_bytes()
    run(small, tmp_path / "a")  # the same configuration: the same results, byte for byte
    assert (tmp_path / "a" / "metrics.csv").read_bytes() == first
    with pytest.raises(ConfigError, match="holds another run"):
        run({**small, "seed": 5}, tmp_path / "a")
    assert (tmp_path / "a" / "metrics.csv").read_bytes() == first  # nothing overwritten
