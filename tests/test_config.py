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
                if p.is_dir() and p.name not in ("experiment", "sweep", "sensitivity", "calibration"))  # not model groups
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
])
def test_invalid_values_name_the_key(overrides, key):
    with pytest.raises(ConfigError) as err:
        make_config(**overrides)
    msg = str(err.value)
    assert "\n" not in msg and key in msg


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
