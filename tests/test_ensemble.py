"""Calibrated ensembles (sim.ensemble): loading, the two-level summary, and ensemble comparisons."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from sim import ensemble
from sim.compare import RATIOS, compare, load_experiment
from sim.config import ConfigError, SimConfig, to_dict

from test_compare import SMALL


def _values(member_means: np.ndarray, noise: float, reps: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [("p", m, r, "d_gmv_total", mu + noise * rng.standard_normal())
            for m, mu in enumerate(member_means) for r in range(reps)]
    return pd.DataFrame(rows, columns=["policy", "member", "replication", "metric", "value"])


def test_parameter_spread_and_seed_noise_are_told_apart():
    means = np.linspace(-10.0, 10.0, 40)  # plausible markets disagree a lot ...
    d = ensemble.summarise(_values(means, noise=1.0, reps=5), {}).set_index("metric").loc["d_gmv_total"]
    assert d.estimate == pytest.approx(0.0, abs=0.3)
    assert d.ci_high - d.ci_low < 1.0  # ... while the seeds leave little open
    assert d.param_low < -9.0 and d.param_high > 9.0
    assert d.param_share > 0.95
    quiet = ensemble.summarise(_values(np.zeros(40), noise=1.0, reps=5), {}).set_index("metric").loc["d_gmv_total"]
    assert quiet.param_share < 0.2  # members that agree: the spread is the seeds'
    assert quiet.param_high - quiet.param_low < 2.5


def test_ratios_are_ratios_of_ensemble_means_with_member_ranges():
    rows = []
    for m, share in enumerate([0.2, 0.5, 0.8]):
        for r in range(4):
            rows += [("p", m, r, "d_gmv_total", 10 * share * (1 + 0.01 * r)), ("p", m, r, "gmv_treated", 10.0)]
    d = ensemble.summarise(pd.DataFrame(rows, columns=["policy", "member", "replication", "metric", "value"]),
                           {"incremental_share": ("d_gmv_total", "gmv_treated")}).set_index("metric")
    row = d.loc["incremental_share"]
    assert row.estimate == pytest.approx(0.5 * 1.015)
    assert row.param_low < 0.25 and row.param_high > 0.75
    assert row.ci_low <= row.estimate <= row.ci_high


def test_loading_keeps_parameter_columns_and_refuses_bad_members(tmp_path):
    base = to_dict(SimConfig())
    path = tmp_path / "e.csv"
    pd.DataFrame({"member": [0, 1], "choice.intercept": [-5.0, -4.5], "platform.take_rate": [0.01, 0.012],
                  "gmv_2021": [1e11, 2e11], "distance": [0.5, 0.7]}).to_csv(path, index=False)
    params = ensemble.load(path, base)
    assert list(params.columns) == ["choice.intercept", "platform.take_rate"]
    assert ensemble.apply(base, params.iloc[1])["platform"]["take_rate"] == 0.012
    pd.DataFrame({"platform.take_rate": [0.01, 1.5]}).to_csv(path, index=False)
    with pytest.raises(ConfigError, match=r"platform.take_rate.*member 1"):
        ensemble.load(path, base)
    with pytest.raises(ConfigError, match="no such ensemble"):
        ensemble.load("no_such_ensemble", base)
    pd.DataFrame({"gmv_2021": [1.0]}).to_csv(path, index=False)
    with pytest.raises(ConfigError, match="no parameter column"):
        ensemble.load(path, base)


def test_an_ensemble_comparison_reports_both_intervals(tmp_path):
    path = tmp_path / "members.csv"
    pd.DataFrame({"member": [0, 1], "consumers.budget_mean": [6.0, 12.0]}).to_csv(path, index=False)
    exp, base, _, members = load_experiment("brand_entry", [*SMALL, "days=60", f"ensemble={path}"],
                                            with_ensemble=True)
    assert len(members) == 2
    comp, dec = compare(exp, base, 2, tmp_path / "out", ensemble=members)
    assert {"param_low", "param_high", "param_share"} <= set(dec.columns)
    assert sorted(comp["member"].unique()) == [0, 1] and sorted(comp["replication"].unique()) == [0, 1]
    # richer consumers (member 1) buy more in both arms: the members' baselines differ
    g = comp[comp["metric"] == "gmv_total"].groupby("member")["baseline"].mean()
    assert g[1] > 1.3 * g[0]
    d = dec.set_index("metric").loc["gmv_treated"]
    assert d.param_low <= d.estimate <= d.param_high
    text = (tmp_path / "out" / "report.md").read_text()
    assert "ensemble range" in text and "2 members" in text
    saved = yaml.safe_load((tmp_path / "out" / "config.yaml").read_text())
    assert [m["consumers.budget_mean"] for m in saved["ensemble"]] == [6.0, 12.0]
    assert set(RATIOS) <= set(dec["metric"])


def test_the_experiment_and_its_arms_override_the_members_calibrated_values(tmp_path):
    """closed_market's binding budgets and guarantees' stronger inspection are the design: a member keeps
    its other calibrated values but not these."""
    from sim.compare import member_arm

    exp, base, _, members = load_experiment("closed_market", ["ensemble=kuaishou2021"], with_ensemble=True)
    assert "consumers.budget_mean" not in members.columns and "choice.intercept" not in members.columns
    cfg = member_arm(base, exp.baseline, members.iloc[1])
    assert cfg["consumers"]["budget_mean"] == 4.0 and cfg["choice"]["intercept"] == -2.0
    assert cfg["consumers"]["visit_prob"] == pytest.approx(members.iloc[1]["consumers.visit_prob"])
    exp, base, _, members = load_experiment("guarantees", ["ensemble=kuaishou2021", "consumers.budget_mean=9"],
                                            with_ensemble=True)
    assert "platform.quality_control.inspect_prob" in members.columns  # the preset sets it in one arm only
    assert "consumers.budget_mean" not in members.columns  # the command line set it
    m = members.iloc[2]
    assert member_arm(base, exp.policies["stronger"], m)["platform"]["quality_control"]["inspect_prob"] == 0.03
    assert member_arm(base, exp.baseline, m)["platform"]["quality_control"]["inspect_prob"] == pytest.approx(
        m["platform.quality_control.inspect_prob"])
    assert member_arm(base, exp.baseline, m)["consumers"]["budget_mean"] == 9
    path = tmp_path / "budget_only.csv"
    pd.DataFrame({"member": [0, 1], "consumers.budget_mean": [6.0, 12.0]}).to_csv(path, index=False)
    with pytest.raises(ConfigError, match="consumers.budget_mean"):  # nothing left for the members to vary
        load_experiment("closed_market", [f"ensemble={path}"], with_ensemble=True)
