"""sim.calibrate: recovers known parameters on a synthetic problem, resumes, and refuses bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

import sim.calibrate
from sim.calibrate import Calibration, calibrate, distance, load_calibration, run_point, screen, select
from sim.config import ConfigError, merge, to_dict, make_config
from sim.targets import parse_targets

from conftest import SMALL

BASE = merge(SMALL, {"consumers": {"n": 2000}, "days": 90, "burn_in": 0, "start_date": "2021-01-01"})
TRUTH = {"platform.take_rate": 0.02, "choice.intercept": -5.0}


def _synthetic(tmp_path) -> str:
    """A targets file whose 'published' figures are the model's own at TRUTH."""
    stats = [("gmv_q1", {"metric": "gmv", "agg": "sum"}, 0.1),
             ("take_q1", {"metric": "platform_take", "agg": "sum", "per": {"metric": "gmv", "agg": "sum"}}, 0.1)]
    draft = {"targets": [{"name": n, "value": 1.0, "tolerance": 0.5, "period": "2021-Q1", "stat": s} for n, s, _ in stats]}
    targets = parse_targets(draft, make_config(BASE))
    truth = run_point(to_dict(make_config(BASE)), TRUTH, 1, targets)  # the search's seed: common random numbers
    data = {"name": "synthetic", "targets": [
        {"name": n, "value": truth[n], "tolerance": rel * abs(truth[n]), "period": "2021-Q1", "stat": s, "required": True}
        for n, s, rel in stats],
        "calibration": {"base": BASE, "parameters": [{"key": "platform.take_rate", "low": 0.005, "high": 0.04},
                                                     {"key": "choice.intercept", "low": -6.0, "high": -4.0}],
                        "screening": {"trajectories": 0, "keep": 2}, "trials": 20, "replications": 2, "ensemble": 3,
                        "accept": 1.0, "seed": 1}}
    path = tmp_path / "synthetic.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_calibration_recovers_known_parameters_and_resumes(tmp_path):
    cal = load_calibration(_synthetic(tmp_path))
    out = tmp_path / "out"
    diag = calibrate(cal, out)
    ens = pd.read_csv(out / "ensemble.csv")
    assert diag["accepted"] == len(ens) >= 1
    assert (ens["platform.take_rate"] - TRUTH["platform.take_rate"]).abs().max() < 0.004
    assert (ens["choice.intercept"] - TRUTH["choice.intercept"]).abs().max() < 0.4
    assert (ens["distance"] <= cal.accept).all() and (ens["max_required_implausibility"] <= 3.0).all()
    for name in ("trials.csv", "fit.csv", "diagnostics.json", "acceptance.csv", "calibration.json"):
        assert (out / name).exists()
    # a second call finds every trial and acceptance run done: nothing is re-run, the answer is the same
    again = calibrate(cal, out)
    assert again["trials"] == diag["trials"] == 20
    assert pd.read_csv(out / "ensemble.csv").equals(ens)
    other = load_calibration(_synthetic(tmp_path), {"trials": 25})
    with pytest.raises(ConfigError, match="holds another calibration"):
        calibrate(other, out)


def test_distance_is_zero_on_target_and_counts_missing_targets():
    targets = parse_targets({"targets": [{"name": "a", "value": 10.0, "tolerance": 2.0, "period": "2021",
                                          "stat": {"metric": "gmv", "agg": "sum"}}]})
    assert distance(targets, {"a": 10.0}) == 0.0 and distance(targets, {"a": 14.0}) == pytest.approx(2.0)
    assert distance(targets, {}) == 10.0


@pytest.mark.parametrize("over, needle", [
    ({"trials": 0}, "calibration.trials = 0"),
    ({"parameters": [{"key": "choice.nope", "low": 0, "high": 1}]}, "parameters[0].key = 'choice.nope'"),
    ({"parameters": [{"key": "platform.take_rate", "low": 0.5, "high": 1.5}]}, "parameters[0] = 'platform.take_rate in"),
    ({"parameters": [{"key": "choice.intercept", "low": 1.0, "high": -1.0}]}, "parameters[0].low/high"),
    ({"colour": 1}, "calibration = 'colour'"),
    ({"base": {"consumers": {"n": 3}}}, "consumers.n = 3"),  # too few consumers for the populations
])
def test_bad_calibration_input_fails_in_one_line_naming_the_entry(over, needle):
    with pytest.raises(ConfigError) as err:
        load_calibration("kuaishou2021", over)
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_selection_keeps_every_required_targets_mover_before_the_overall_ranking():
    """A parameter that moves only one required target is kept though its overall rank is last."""
    table = pd.DataFrame({
        "parameter": ["growth", "intercept", "budget", "price", "take_rate"],
        "mu_star": [8.8, 1.0, 0.5, 0.49, 0.18],  # on the distance (the pilot's ranking)
        "mu_star:gmv": [9.0, 4.0, 5.0, 0.2, 0.0],  # budget within SHARE of the top: kept for gmv too
        "mu_star:take": [0.02, 0.01, 0.03, 0.0, 8.0],
        "mu_star:dead": [0.01, 0.02, 0.0, 0.01, 0.0],  # no parameter moves it: it keeps none
        "mu_star:optional": [0.0, 0.0, 0.0, 9.0, 0.0],  # not required: no claim of its own
    })
    kept = select(table, ["gmv", "take", "dead"], keep=4)
    assert kept == {"growth": "gmv", "intercept": "overall", "budget": "gmv", "price": "", "take_rate": "take"}
    # the required targets' movers alone exceed keep: all are kept, nothing is filled from the ranking
    assert select(table, ["gmv", "take"], keep=1) == {"growth": "gmv", "intercept": "", "budget": "gmv",
                                                      "price": "", "take_rate": "take"}
    assert sim.calibrate.unmoved(table, ["gmv", "take", "dead"]) == ["dead"]


def _fake_run(base, params, seed, targets):
    """A run without the model: 'big' (optional) swamps the distance, 'take' (required) moves with take_rate only."""
    p = params
    return {"big": 50.0 * (p["a"] + 2 * p["b"] + 3 * p["c"]), "take": 0.011 + 0.001 * p["take_rate"], "dead": 1.0}


def test_screening_writes_per_target_columns_warns_resumes_and_refuses_an_old_file(tmp_path, monkeypatch, capsys):
    stat = {"metric": "gmv", "agg": "sum"}
    targets = parse_targets({"targets": [
        {"name": "big", "value": 0.0, "tolerance": 1.0, "period": "2021", "stat": stat},
        {"name": "take", "low": 0.008, "high": 0.014, "period": "2021", "stat": stat, "required": True},
        {"name": "dead", "value": 1.0, "tolerance": 0.5, "period": "2021", "stat": stat, "required": True}]})
    cal = Calibration(targets, {k: (0.0, 1.0) for k in ("a", "b", "c", "take_rate")}, base={},
                      screening={"trajectories": 4, "keep": 2})
    monkeypatch.setattr(sim.calibrate, "run_point", _fake_run)
    keys, summary = screen(cal, tmp_path, None)
    table = pd.read_csv(tmp_path / "screening.csv")
    assert list(table["parameter"]) == ["c", "b", "a", "take_rate"]  # overall rank: take_rate last
    assert {f"mu_star:{n}" for n in ("big", "take", "dead")} <= set(table.columns)
    # mu* is in half-widths per parameter range: take moves 0.001 over take_rate's range, its half-width is 0.003
    mu = table.set_index("parameter")
    assert mu.loc["take_rate", "mu_star:take"] == pytest.approx(1 / 3) and mu.loc["c", "mu_star:big"] == pytest.approx(150)
    assert keys == ["c", "take_rate"] and summary["kept_for"] == {"c": "overall", "take_rate": "take"}
    assert summary["required_targets_unmoved"] == ["dead"]
    assert "required target dead" in capsys.readouterr().err
    # resumed: no run, the same answer
    monkeypatch.setattr(sim.calibrate, "run_point", lambda *a: pytest.fail("screening re-ran"))
    assert screen(cal, tmp_path, None) == (keys, summary)
    # a screening.csv of the old format (no per-target columns) is refused in one line naming it
    table[["parameter", "mu_star", "mu_star_conf", "sigma"]].to_csv(tmp_path / "screening.csv", index=False)
    with pytest.raises(ConfigError) as err:
        screen(cal, tmp_path, None)
    assert str(tmp_path / "screening.csv") in str(err.value) and "\n" not in str(err.value)


def test_a_warm_start_begins_with_the_previous_ensemble_clipped_to_the_new_ranges(tmp_path, monkeypatch):
    stat = {"metric": "gmv", "agg": "sum"}
    targets = parse_targets({"targets": [{"name": "take", "low": 0.008, "high": 0.014, "period": "2021", "stat": stat}]})
    cal = Calibration(targets, {k: (0.0, 1.0) for k in ("a", "b", "c", "take_rate")}, base={"c": 0.7}, trials=4)
    prior = tmp_path / "stage1"
    prior.mkdir()
    pd.DataFrame({"a": [0.2, 0.4], "b": [0.5, 1.7], "take_rate": [0.3, 0.9], "distance": [1.0, 1.1]}).to_csv(
        prior / "ensemble.csv", index=False)
    monkeypatch.setattr(sim.calibrate, "run_point", _fake_run)
    (tmp_path / "stage2").mkdir()
    trials = sim.calibrate.search(cal, ["a", "b", "c", "take_rate"], tmp_path / "stage2", None, 1, warm_start=prior)
    first = trials.sort_values("trial").head(2)
    assert first["a"].tolist() == [0.2, 0.4] and first["b"].tolist() == [0.5, 1.0]  # 1.7 clipped to the range
    assert first["c"].tolist() == [0.7, 0.7]  # not calibrated before: its base value
    assert len(trials) == 4
