"""Sweeps: Hydra multirun and the runner agree; failures are isolated; resume; Dask; Sobol; bad designs."""

from __future__ import annotations

import functools
import json
import math
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.config import ConfigError, SimConfig, to_dict
from sim.sensitivity import run_sensitivity
from sim.sweep import config_of, load_design, make_executor, plan, run_sweep, validate_design

TINY = {"days": 12, "burn_in": 10, "consumers": {"n": 2000}, "hosts": {"real_n": 9e6}, "merchants": {"real_n": 1.8e7}, "brands": {"real_n": 3e5},
        "providers": {"real_n": 4.5e5}}
BASE = to_dict(SimConfig())


def _design(params: dict, method: str = "grid", seeds: int = 1, **kw):
    return validate_design({"name": "t", "method": method, "seeds": seeds, "parameters": params, "base": TINY, **kw},
                           BASE)


# hooks standing in for the model (module level, so worker processes can import them)
def flaky(cfg):
    x = cfg["platform"]["feed_load"]
    if x == 1.5:
        raise ValueError("injected failure")
    if x == 2.5:
        return {"y": float("nan")}, None
    if x == 3.5:
        os.kill(os.getpid(), signal.SIGKILL)
    return {"y": x * 2.0}, None


def counting(markers, cfg):
    marker = Path(markers) / f"{cfg['platform']['feed_load']}-{cfg['seed']}"
    marker.write_text("ran")
    return {"y": cfg["platform"]["feed_load"]}, None


def ishigami(cfg):
    x1 = cfg["platform"]["feed_load"] - math.pi
    x2 = cfg["consumers"]["budget_mean"] - 1.0 - math.pi
    x3 = cfg["consumers"]["trust"]["noise_sd"] - math.pi
    return {"y": math.sin(x1) + 7 * math.sin(x2) ** 2 + 0.1 * x3**4 * math.sin(x1)}, None


def test_runner_and_hydra_multirun_agree(tmp_path):
    design = _design({"platform.feed_load": {"values": [1.0, 2.5]}})
    results = run_sweep(design, BASE, tmp_path / "sweep", workers=2, progress=False)
    assert (results["status"] == "ok").all()
    seed = int(results["seed"].iloc[0])
    args = [sys.executable, "-m", "sim", "-m", "platform.feed_load=1.0,2.5", f"seed={seed}", "days=12",
            "consumers.n=2000", "hosts.real_n=9e6", "merchants.real_n=1.8e7", "brands.real_n=3e5",
            "providers.real_n=4.5e5", "burn_in=10",
            "output.figures=false", f"hydra.sweep.dir={tmp_path / 'multirun'}"]
    res = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    res = subprocess.run([sys.executable, "-m", "sim.collect", str(tmp_path / "multirun")], capture_output=True,
                         text=True)
    assert res.returncode == 0, res.stderr
    hydra = pd.read_parquet(tmp_path / "multirun" / "results.parquet")
    assert (hydra["status"] == "ok").all() and len(hydra) == 2
    for value in (1.0, 2.5):
        a = results.loc[results["platform.feed_load"] == value, "gmv_total"].item()
        b = hydra.loc[hydra["platform.feed_load"] == value, "gmv_total"].item()
        assert a == b


def test_a_failed_multirun_job_makes_the_command_exit_1_after_all_jobs_ran(tmp_path):
    """The joblib launcher runs the jobs in other processes; sim.collect.FailedJobs reads their status.json."""
    sweep = tmp_path / "multirun"
    # job 1 passes validation but cannot write its folder: config.yaml is taken by a directory
    (sweep / "1" / "config.yaml").mkdir(parents=True)
    args = [sys.executable, "-m", "sim", "-m", "seed=0,1", "days=5", "consumers.n=2000", "hosts.real_n=9e6",
            "merchants.real_n=1.8e7", "brands.real_n=3e5", "providers.real_n=4.5e5", "burn_in=0",
            "output.figures=false", "hydra.launcher.n_jobs=2", f"hydra.sweep.dir={sweep}"]
    res = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True)
    assert res.returncode == 1, res.stderr
    assert "joblib" in yaml.safe_load((sweep / "multirun.yaml").read_text())["hydra"]["launcher"]["_target_"]
    report = [ln for ln in res.stderr.splitlines() if ln.startswith("job ")]
    assert len(report) == 1, res.stderr
    assert report[0].startswith(f"job 1 failed ({sweep.resolve() / '1'}): IsADirectoryError: ")
    assert report[0].endswith("config.yaml'")
    assert json.loads((sweep / "0" / "status.json").read_text())["status"] == "ok"  # the other job went on
    assert (sweep / "0" / "summary.json").exists()


def test_failures_are_recorded_and_the_rest_complete(tmp_path):
    design = _design({"platform.feed_load": {"values": [1.0, 1.5, 2.0, 2.5, 3.0, 3.5]}})
    results = run_sweep(design, BASE, tmp_path, evaluate=flaky, workers=2, progress=False)
    status = dict(zip(results["platform.feed_load"], results["status"]))
    assert status == {1.0: "ok", 1.5: "failed", 2.0: "ok", 2.5: "nan", 3.0: "ok", 3.5: "failed"}
    err = dict(zip(results["platform.feed_load"], results["error"]))
    assert "injected failure" in err[1.5] and "worker" in err[3.5] and "non-finite" in err[2.5]
    assert results.loc[results["status"] == "ok", "y"].tolist() == [2.0, 4.0, 6.0]
    import json

    rec = json.loads(next((tmp_path / "runs").glob("*.json")).read_text())
    assert "run_id" in rec
    failed = [json.loads(p.read_text()) for p in (tmp_path / "runs").glob("*.json")]
    assert any("Traceback" in r.get("traceback", "") for r in failed)


def mapping_summary(cfg):
    """A run whose summary holds mappings, one of them empty (as ``small_populations`` is when none is small)."""
    return {"y": cfg["platform"]["feed_load"], "small_populations": {}, "populations": {"hosts": 3}}, None


def test_mapping_valued_summaries_are_written_as_json(tmp_path):
    """Parquet cannot store an empty struct: mapping-valued summary entries are kept as JSON text."""
    design = _design({"platform.feed_load": {"values": [1.0, 2.0]}})
    results = run_sweep(design, BASE, tmp_path, evaluate=mapping_summary, workers=1, progress=False)
    assert results["status"].tolist() == ["ok", "ok"]
    stored = pd.read_parquet(tmp_path / "results.parquet")
    assert stored["small_populations"].tolist() == ["{}", "{}"]
    assert [json.loads(x) for x in stored["populations"]] == [{"hosts": 3}, {"hosts": 3}]


def test_resume_runs_exactly_the_missing_runs(tmp_path):
    markers = tmp_path / "markers"
    markers.mkdir()
    counter = functools.partial(counting, str(markers))
    design = _design({"platform.feed_load": {"values": [1.0, 2.0, 3.0]}}, seeds=2)
    out = tmp_path / "sweep"
    run_sweep(design, BASE, out, evaluate=counter, workers=2, progress=False)
    assert len(list(markers.iterdir())) == 6
    for m in markers.iterdir():
        m.unlink()
    # an interrupted sweep: two records never written, one torn temporary file left behind
    records = sorted((out / "runs").glob("*.json"))
    lost = records[:2]
    for p in lost:
        p.unlink()
    (out / "runs" / ".junk.json.tmp").write_text("{half")
    results = run_sweep(design, BASE, out, evaluate=counter, workers=2, progress=False)
    assert len(list(markers.iterdir())) == 2  # exactly the missing ones
    assert (results["status"] == "ok").all() and len(results) == 6
    pd.read_csv(out / "results.csv")
    pd.read_parquet(out / "timeseries.parquet")


def test_a_single_run_is_reproducible_from_its_row(tmp_path):
    from sim.run import run

    design = _design({"platform.feed_load": {"low": 1.0, "high": 3.0}}, method="random", samples=2, seeds=2)
    results = run_sweep(design, BASE, tmp_path, workers=2, progress=False)
    row = results.iloc[3]
    cfg = config_of(tmp_path, row["run_id"])
    assert cfg["seed"] == row["seed"] and cfg["platform"]["feed_load"] == row["platform.feed_load"]
    _, summary = run(cfg)
    assert summary["gmv_total"] == row["gmv_total"]


def _kernel_threads() -> int:
    from sim import kernels

    return kernels.THREADS


def test_dask_local_cluster_matches_local(tmp_path):
    distributed = pytest.importorskip("distributed")
    design = _design({"platform.feed_load": {"values": [1.0, 3.0]}}, seeds=2)
    local = run_sweep(design, BASE, tmp_path / "local", workers=2, progress=False)
    executor = make_executor("dask", 2)
    client = executor._client
    try:
        remote = run_sweep(design, BASE, tmp_path / "dask", executor=executor, progress=False)
        # jobs share a worker's cores: the chunked kernels run on one thread there, as in the process pool
        assert set(client.run(_kernel_threads).values()) == {1}
    finally:
        client.close()
        client.cluster.close()
    cols = ["run_id", "seed", "status", "gmv_total", "orders_total", "mean_platform_trust_final"]
    pd.testing.assert_frame_equal(local[cols], remote[cols])


def test_sobol_recovers_the_ishigami_indices(tmp_path):
    design = validate_design({"name": "ishigami", "method": "sobol", "samples": 1024, "parameters": {
        "platform.feed_load": {"low": 0.0, "high": 2 * math.pi},
        "consumers.budget_mean": {"low": 1.0, "high": 1.0 + 2 * math.pi},
        "consumers.trust.noise_sd": {"low": 0.0, "high": 2 * math.pi}}}, BASE)
    table = run_sensitivity(design, BASE, ["y"], tmp_path, evaluate=ishigami, workers=2, progress=False)
    s1, st = table["S1"].to_numpy(), table["ST"].to_numpy()
    assert np.allclose(s1, [0.314, 0.442, 0.0], atol=0.08)
    assert np.allclose(st, [0.558, 0.442, 0.244], atol=0.08)
    assert (tmp_path / "figures" / "sensitivity.png").is_file()


@pytest.mark.parametrize(("params", "method", "entry"), [
    ({"platform.nothing": {"values": [1]}}, "grid", "sweep.parameters.platform.nothing"),
    ({"platform.feed_load": {"values": []}}, "grid", "sweep.parameters.platform.feed_load"),
    ({"platform.feed_load": {"low": 2.0, "high": 1.0}}, "random", "sweep.parameters.platform.feed_load"),
    ({"merchants.fraud_share": {"low": 0.0, "high": 1.5}}, "lhs", "sweep.parameters.merchants.fraud_share"),
    ({"platform.feed_load": {"mean": 1.0}}, "random", "sweep.parameters.platform.feed_load"),
    ({"platform.feed_load": {"values": [1.0]}}, "bogus", "sweep.method"),
])
def test_bad_designs_are_rejected_naming_the_entry(params, method, entry):
    with pytest.raises(ConfigError) as err:
        _design(params, method=method)
    assert entry in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(("arg", "key"), [
    ("sweep.method=bogus", "sweep.method"),
    ("consumers.n=3", "consumers.n"),  # too few consumers to sample the populations: refused, not run by run
])
def test_cli_rejects_a_bad_design_before_running(tmp_path, arg, key):
    res = subprocess.run([sys.executable, "-m", "sim.sweep", "sweep=demo", arg,
                          "--out", str(tmp_path / "s")], cwd=tmp_path, capture_output=True, text=True)
    assert res.returncode == 2 and key in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "s").exists()


def test_sensitivity_cli_refuses_a_folder_of_another_design_in_one_line(tmp_path):
    out = tmp_path / "s"
    out.mkdir()
    (out / "design.json").write_text("{}")
    res = subprocess.run([sys.executable, "-m", "sim.sensitivity", "sensitivity=demo", "--out", str(out),
                          "--no-progress"], cwd=tmp_path, capture_output=True, text=True)
    assert res.returncode == 2 and "holds another design" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr
    assert (out / "design.json").read_text() == "{}"


def test_every_sweep_and_sensitivity_preset_validates():
    from sim.sensitivity import load

    root = Path(__file__).resolve().parent.parent / "configs"
    for p in (root / "sweep").glob("*.yaml"):
        design, base = load_design(p.stem)
        assert plan(design, base)
    for p in (root / "sensitivity").glob("*.yaml"):
        design, base, outputs = load(p.stem)
        assert outputs and design.method in ("sobol", "morris")


def test_figures_from_sweep_results(tmp_path):
    design = _design({"platform.feed_load": {"values": [1.0, 2.0]}, "funds.cash": {"values": [0.0, 1e8]}})
    run_sweep(design, BASE, tmp_path, evaluate=counting_free, workers=1, progress=False)
    for args in (["--curve", "platform.feed_load", "y"], ["--heatmap", "platform.feed_load", "funds.cash", "y"]):
        res = subprocess.run([sys.executable, "-m", "sim.figures", str(tmp_path), *args], capture_output=True, text=True)
        assert res.returncode == 0, res.stderr
        assert Path(res.stdout.strip().splitlines()[-1]).is_file()


def counting_free(cfg):
    return {"y": cfg["platform"]["feed_load"] * (1 + cfg["funds"]["cash"] / 1e8)}, None


def test_a_sweep_folder_holding_another_design_is_refused_and_collect_leaves_it_intact(tmp_path, capsys):
    from sim.collect import main as collect_main

    out = tmp_path / "sweep"
    run_sweep(_design({"platform.feed_load": {"values": [1.0]}}), BASE, out, evaluate=ishigami, workers=1,
              progress=False)
    before = (out / "results.csv").read_bytes()
    with pytest.raises(ConfigError, match="holds another design"):
        run_sweep(_design({"platform.feed_load": {"values": [2.0]}}), BASE, out, evaluate=ishigami, workers=1,
                  progress=False)
    assert collect_main([str(out)]) == 2 and "not a Hydra multirun" in capsys.readouterr().err
    assert (out / "results.csv").read_bytes() == before  # untouched


def by_member(cfg):
    noise = np.random.default_rng(cfg["seed"]).normal(0.0, 0.01)
    return {"y": cfg["platform"]["feed_load"] + cfg["choice"]["intercept"] + noise}, None


def test_a_sweep_over_an_ensemble_reports_seed_and_parameter_uncertainty(tmp_path):
    """Every point runs on every member (the swept key overrides the member's); the summary's members'
    range spans the parameter's effect and dominates the seeds' interval."""
    members = pd.DataFrame({"member": [0, 1, 2], "choice.intercept": [-4.0, -3.5, -3.0],
                            "platform.feed_load": [9.0, 9.0, 9.0], "consumers.n": [3000, 3000, 3000]})
    path = tmp_path / "ens.csv"
    members.to_csv(path, index=False)
    design = _design({"platform.feed_load": {"values": [1.0, 2.0]}}, seeds=3, ensemble=str(path))
    specs = plan(design, BASE)
    assert len(specs) == 2 * 3 * 3 and {s.member for s in specs} == {0, 1, 2}
    assert all(s.config["platform"]["feed_load"] == s.params["platform.feed_load"] for s in specs)
    assert all(s.config["consumers"]["n"] == TINY["consumers"]["n"] for s in specs)  # the design's base wins too
    results = run_sweep(design, BASE, tmp_path / "out", evaluate=by_member, workers=1, progress=False)
    assert (results["status"] == "ok").all() and set(results["member"]) == {0, 1, 2}
    summary = pd.read_csv(tmp_path / "out" / "ensemble_summary.csv")
    y = summary[summary["metric"] == "y"].set_index("platform.feed_load")
    assert y.loc[1.0, "estimate"] == pytest.approx(1.0 - 3.5, abs=0.02)
    assert y.loc[2.0, "estimate"] - y.loc[1.0, "estimate"] == pytest.approx(1.0, abs=0.03)
    assert y.loc[1.0, "param_low"] < -3.9 + 1.0 and y.loc[1.0, "param_high"] > -3.1 + 1.0
    assert (y["ci_high"] - y["ci_low"] < 0.1).all() and (y["param_share"] > 0.9).all()
    rid = results["run_id"].iloc[4]
    assert config_of(tmp_path / "out", rid)["choice"]["intercept"] == pytest.approx(
        members["choice.intercept"][results["member"].iloc[4]])


def test_a_missing_ensemble_is_rejected_before_any_run():
    with pytest.raises(ConfigError, match="no such ensemble"):
        _design({"platform.feed_load": {"values": [1.0]}}, ensemble="no_such_ensemble")
    design, _ = load_design("demo", ["ensemble=kuaishou2021"])
    assert design.ensemble == "kuaishou2021"


def test_a_key_set_on_the_command_line_overrides_the_ensemble_members(tmp_path):
    path = tmp_path / "ens.csv"
    pd.DataFrame({"member": [0, 1], "consumers.budget_mean": [6.0, 12.0],
                  "choice.intercept": [-4.0, -3.0]}).to_csv(path, index=False)
    design, base = load_design("demo", [f"ensemble={path}", "consumers.budget_mean=9.0"])
    specs = plan(design, base)
    assert {s.config["consumers"]["budget_mean"] for s in specs} == {9.0}
    assert {s.config["choice"]["intercept"] for s in specs} == {-4.0, -3.0}  # the members' other values stay
    plain, base9 = load_design("demo", ["consumers.budget_mean=9.0"])  # without an ensemble nothing changes
    bare, _ = load_design("demo", [])
    assert [s.run_id for s in plan(plain, base9)] == [s.run_id for s in plan(bare, base9)]
