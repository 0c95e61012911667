"""Every config composes; every class of bad input stops the run with one line naming the key."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sim import ConfigError, SimConfig, make_config
from sim.__main__ import CONFIG_DIR, compose
from sim.config import field_docs, to_dict

GROUPS = sorted(p.name for p in CONFIG_DIR.iterdir()
                if p.is_dir() and p.name not in ("experiment", "sweep", "sensitivity", "calibration", "ensembles"))  # not model groups
EXPERIMENTS = sorted(p.stem for p in (CONFIG_DIR / "experiment").glob("*.yaml"))


def test_yaml_defaults_equal_dataclass_defaults():
    assert to_dict(make_config(compose([]))) == to_dict(SimConfig())
    defaults = to_dict(SimConfig())
    for group in GROUPS:
        data = yaml.safe_load((CONFIG_DIR / group / "default.yaml").read_text())
        assert data == defaults[group], group


@pytest.mark.parametrize("option", [f"{g}={p.stem}" for g in GROUPS for p in sorted((CONFIG_DIR / g).glob("*.yaml"))])
def test_every_group_option_composes_and_validates(option):
    make_config(compose([option]))


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_every_experiment_composes_and_every_arm_validates(name):
    from sim.compare import load_experiment

    exp, base, reps = load_experiment(name)
    assert exp.name == name and exp.policies and reps >= 1
    assert exp.description.strip(), "each experiment explains itself"


def test_required_keys_exist():
    keys = {k for k, *_ in field_docs()}
    for key in ("seed", "days", "consumers.n", "consumers.scale", "hosts.n", "merchants.n", "platform.allocation"):
        assert key in keys


@pytest.mark.parametrize(("overrides", "key"), [
    ({"consumers": {"n": -5}}, "consumers.n"),
    ({"hosts": {"n": 0}}, "hosts.n"),
    ({"merchants": {"n": -1}}, "merchants.n"),
    ({"consumers": {"visit_prob": 1.5}}, "consumers.visit_prob"),
    ({"merchants": {"fraud_share": -0.1}}, "merchants.fraud_share"),
    ({"consumers": {"scale": 0}}, "consumers.scale"),
    ({"consumers": {"budget_mean": float("nan")}}, "consumers.budget_mean"),
    ({"platform": {"take_rate": float("inf")}}, "platform.take_rate"),
    ({"platform": {"allocation": "magic"}}, "platform.allocation"),
    ({"days": "abc"}, "days"),
    ({"days": 2.5}, "days"),
    ({"seed": True}, "seed"),
    ({"platform": {"guarantees": {"no_reason_7d": "yes"}}}, "platform.guarantees.no_reason_7d"),
    ({"hosts": {"tier_shares": [0.5, 0.5]}}, "hosts.tier_shares"),
    ({"consumers": {"segments": [0.7, 0.7]}}, "consumers.segments"),
    ({"foo": 1}, "foo"),
    ({"consumers": {"bar": 2}}, "consumers.bar"),
    ({"platform": {"quality_control": {"oops": 1}}}, "platform.quality_control.oops"),
    ({"brands": {"n": -3}}, "brands.n"),
    ({"providers": {"n": -1}}, "providers.n"),
    ({"funds": {"cash": -1e8}}, "funds.cash"),
    ({"funds": {"traffic": float("nan")}}, "funds.traffic"),
    ({"funds": {"eco": "lots"}}, "funds.eco"),
    ({"brands": {"entry_waves": [[400, 10]]}}, "brands.entry_waves[0][0]"),
    ({"brands": {"entry_waves": [[0, 10]]}}, "brands.entry_waves[0][0]"),
    ({"brands": {"entry_waves": [[90]]}}, "brands.entry_waves[0]"),
    ({"brands": {"entry_waves": [[90, -5]]}}, "brands.entry_waves[0][1]"),
    ({"brands": {"entry_waves": [[90, 2.5]]}}, "brands.entry_waves[0][1]"),
    ({"brands": {"entry_waves": "90,10"}}, "brands.entry_waves"),
    ({"brands": {"aware_share": [0.3]}}, "brands.aware_share"),
    ({"providers": {"tier_fee": [0.1, 0.1]}}, "providers.tier_fee"),
    ({"platform": {"take_rate": 0.9}}, "platform.take_rate"),
    # values that would fail mid-run (a division by zero, a date or counter out of range, a Poisson overflow)
    ({"consumers": {"trust_init_mean": 0.0}}, "consumers.trust_init_mean"),
    ({"consumers": {"host_trust_init_mean": 0.0}}, "consumers.host_trust_init_mean"),
    ({"start_date": "9999-12-31"}, "start_date"),
    ({"start_date": "0001-01-05", "burn_in": 10}, "start_date"),
    ({"start_date": "20210101"}, "start_date"),
    ({"platform": {"quality_control": {"demotion_days": 10**10}}}, "platform.quality_control.demotion_days"),
    ({"merchants": {"entry_lag": 1e-300}}, "merchants.entry_lag"),
    # values that could not fit in memory
    ({"platform": {"feed_load": 1e6}}, "platform.feed_load"),
    ({"consumers": {"follows_init": 1e5}}, "consumers.follows_init"),
    ({"hosts": {"n": 10**12}}, "hosts.n"),
    ({"hosts": {"candidates": 10**9}}, "hosts.candidates"),
    ({"merchants": {"real_n": 1e300}}, "merchants.real_n"),
])
def test_invalid_values_name_the_key(overrides, key):
    with pytest.raises(ConfigError) as err:
        make_config(**overrides)
    msg = str(err.value)
    assert "\n" not in msg and key in msg


def test_numpy_booleans_are_booleans():
    import numpy as np

    cfg = make_config(platform={"guarantees": {"no_reason_7d": np.False_}})
    assert cfg.platform.guarantees.no_reason_7d is False


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True, text=True)


@pytest.mark.parametrize(("arg", "key"), [
    ("consumers.n=-5", "consumers.n"),
    ("consumers.visit_prob=1.5", "consumers.visit_prob"),
    ("consumers.scale=0", "consumers.scale"),
    ("consumers.n=nan", "consumers.n"),
    ("platform.allocation=magic", "platform.allocation"),
    ("days=abc", "days"),
    ("foo=1", "foo"),
    ("+foo=1", "foo"),
    ("+consumers.bar=2", "consumers.bar"),
    ("platform=nope", "platform"),
    ("funds.cash=-1", "funds.cash"),
    ("brands.entry_waves=[[400,10]]", "brands.entry_waves[0][0]"),
    ("brands.entry_waves=[[90]]", "brands.entry_waves[0]"),
    ("experiment=brand_entry", "sim.compare"),
    ("consumers.n=3", "consumers.n"),  # the population plan is checked before the run folder is made
    ("platform.users=1", "hosts.real_n"),  # a market of 3e8 platforms: more agents than a machine holds
])
def test_cli_rejects_bad_input_before_writing_anything(tmp_path, arg, key):
    out = tmp_path / "run"
    res = _cli(arg, f"hydra.run.dir={out}", cwd=tmp_path)
    assert res.returncode != 0
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and key in lines[0] and "Traceback" not in res.stderr
    assert not out.exists() and not (tmp_path / "outputs").exists()


def test_cli_help_lists_the_groups(tmp_path):
    res = _cli("--help", cwd=tmp_path)
    assert res.returncode == 0
    for group in GROUPS:
        assert f"{group}:" in res.stdout


@pytest.mark.parametrize(("args", "job", "message"), [
    (["consumers.n=2000,-5"], "job 1 (consumers.n=-5 days=5)", "consumers.n = -5: must be an integer >= 1"),
    (["consumers=default,nope"], "job 1 (consumers=nope days=5)", "consumers = 'nope': must be one of default"),
    (["seed=range(0,2)", "consumers.visit_prob=0.5,1.5"], "job 1 (seed=0 consumers.visit_prob=1.5 days=5)",
     "consumers.visit_prob = 1.5: must be a number"),
    (["foo=1,2"], "job 0 (foo=1 days=5)", "unknown key foo = '1'"),
    (["consumers.n=2000,3"], "job 1 (consumers.n=3 days=5)", "consumers.n = 3: too few consumers"),
    (["experiment=brand_entry,poaching"], "", "experiment group belongs to python -m sim.compare"),
    (["hydra.launcher.n_jobs=1,2"], "", "Sweeping over Hydra's configuration is not supported"),
    (["seed=interval(0,1)"], "", "does not support sweep type : INTERVAL_SWEEP"),
])
def test_multirun_jobs_are_validated_before_any_starts(args, job, message):
    from sim.__main__ import preflight_multirun

    with pytest.raises(ConfigError) as err:
        preflight_multirun([*args, "days=5"])
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith("invalid config") and job in msg and message in msg


def test_multirun_expands_the_sweep_as_hydra_does(tmp_path, monkeypatch):
    """Cartesian product of the command line's sweeps and the config's hydra.sweeper.params (Hydra's basic sweeper)."""
    import shutil

    import sim.__main__ as cli

    assert cli.preflight_multirun(["seed=range(0,3)", "consumers=default,large", "days=5"]) == 6
    assert cli.preflight_multirun(["days=5"]) == 1
    shutil.copytree(CONFIG_DIR, tmp_path / "configs")
    main = tmp_path / "configs" / "config.yaml"
    data = yaml.safe_load(main.read_text(encoding="utf-8"))
    data["hydra"]["sweeper"] = {"params": {"consumers.n": "2000,3000"}}
    main.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    monkeypatch.setattr(cli, "CONFIG_DIR", tmp_path / "configs")
    assert cli.preflight_multirun(["seed=0,1"]) == 4
    # the command line's sweep of a key replaces the config's, in the config's position
    with pytest.raises(ConfigError, match=r"job 2 \(consumers.n=-3 seed=0\)"):
        cli.preflight_multirun(["consumers.n=2000,-3", "seed=0,1"])


def test_a_bad_multirun_job_stops_the_command_before_anything_is_written(tmp_path):
    res = _cli("-m", "consumers.n=2000,-5", "days=5", "burn_in=0", cwd=tmp_path)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert lines == ["invalid config in multirun job 1 (consumers.n=-5 days=5 burn_in=0): consumers.n = -5: "
                     "must be an integer >= 1 and <= 50000000"], res.stderr
    assert not (tmp_path / "multirun").exists() and not (tmp_path / "outputs").exists()


def test_flags_that_only_show_something_skip_validation(tmp_path):
    res = _cli("--cfg", "job", "consumers.n=-5", cwd=tmp_path)
    assert res.returncode == 0 and "'n': -5" in res.stdout
    assert not (tmp_path / "outputs").exists()


def test_config_dataclasses_document_units():
    for key, default, unit, allowed in field_docs():
        assert allowed, key
    assert all(dataclasses.is_dataclass(t) for t in (SimConfig,))


@pytest.mark.parametrize("module", ["compare", "sweep", "sensitivity", "validate", "calibrate"])
def test_overrides_may_follow_options_on_every_command(module, capsys):
    """`--workers 2 key=value` is read as one command line (issue 14), whatever the order."""
    import importlib

    main = importlib.import_module(f"sim.{module}").main
    name = {"compare": "experiment", "sweep": "sweep", "sensitivity": "sensitivity"}.get(module, "calibration")
    code = main(["--workers", "1", f"{name}=nonexistent"]) if module != "validate" else main(
        ["--seeds", "1", f"{name}=nonexistent"])
    err = capsys.readouterr().err
    assert code == 2 and "nonexistent" in err and "unrecognized arguments" not in err
