"""Calibration targets as data (sim.targets) and the validation report (sim.validate)."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from sim import MarketModel
from sim.config import ConfigError, make_config
from sim.targets import evaluate, host_top10_share, load_targets, parse_targets, period_days
from sim import validate

from conftest import SMALL

#: A small market whose run covers 2020 (burn-in) and 2021 (reported), as the targets need.
DATED = {**SMALL, "burn_in": 400, "days": 365}


def test_periods_are_calendar_ranges():
    assert period_days("2021") == (np.datetime64("2021-01-01").item(), np.datetime64("2021-12-31").item())
    assert period_days("2021-Q4")[0].month == 10 and period_days("2021-Q4")[1].day == 31
    assert period_days("2020-02")[1].day == 29  # a leap year
    with pytest.raises(ValueError):
        period_days("2021-Q5")


def test_the_targets_file_parses_and_every_target_is_computable_from_a_run():
    cfg = make_config(DATED)
    targets = load_targets("kuaishou2021", cfg)
    names = [t.name for t in targets.targets]
    assert {"gmv_2021", "gmv_q4_over_q1", "gmv_per_dau_2021", "take_rate_2021", "repurchase_sep",
            "dau_q1", "host_top10_of_top100"} <= set(names)
    model = MarketModel(cfg)
    model.run_for(cfg.days)
    values = evaluate(targets, model)
    assert set(values) == set(names) and all(np.isfinite(v) for v in values.values())
    frame = model.metrics_frame()
    assert values["gmv_2021"] == pytest.approx(frame["gmv"].sum())
    assert values["take_rate_2021"] == pytest.approx(frame["platform_take"].sum() / frame["gmv"].sum())
    q = frame["gmv"].to_numpy()
    assert values["gmv_q2_over_q1"] == pytest.approx(q[90:181].sum() / q[:90].sum())  # Apr-Jun over Jan-Mar
    assert 0.0 < values["host_top10_of_top100"] <= 1.0 and 0 < frame["dau"].mean() <= frame["active_consumers"].mean()
    dated = model.metrics_frame(dates=True)
    assert dated["date"].iloc[0] == "2021-01-01" and dated["date"].iloc[-1] == "2021-12-31"


def _one(**target) -> dict:
    base = {"name": "t", "value": 1.0, "tolerance": 0.1, "period": "2021", "stat": {"metric": "gmv", "agg": "sum"}}
    return {"targets": [{**base, **target}]}


@pytest.mark.parametrize("change, needle", [
    ({"stat": {"metric": "gmvv", "agg": "sum"}}, "t].stat.metric = 'gmvv'"),
    ({"tolerance": 0.0}, "t].tolerance = 0.0"),
    ({"tolerance": -1.0}, "t].tolerance = -1.0"),
    ({"period": "2023-Q1"}, "t].period = '2023-Q1'"),
    ({"period": "2021-Q7"}, "t].period = '2021-Q7'"),
    ({"stat": {"metric": "gmv", "agg": "median"}}, "t].stat.agg = 'median'"),
    ({"colour": "red"}, "t] = 'colour'"),
])
def test_a_bad_target_fails_before_any_run_naming_the_entry(change, needle):
    cfg = make_config(DATED)
    with pytest.raises(ConfigError) as err:
        parse_targets(_one(**change), cfg)
    msg = str(err.value)
    assert needle in msg and "allowed" in msg and "\n" not in msg


def test_a_period_in_the_burn_in_is_allowed_and_one_before_it_is_not():
    parse_targets(_one(period="2020-Q1"), make_config(DATED))  # the burn-in covers 2020
    with pytest.raises(ConfigError, match="within the run"):
        parse_targets(_one(period="2020-Q1"), make_config({**DATED, "burn_in": 100}))


def test_top_host_share_counts_real_hosts():
    model = MarketModel(**{**SMALL, "days": 5})
    model.run_for(5)
    H = model.hosts
    H.ew_gmv[: H.n] = 0.0
    H.ew_gmv[0] = 1000.0 * H.mass[0]  # one row of real hosts far ahead of the rest
    H.ew_gmv[1] = 1.0 * H.mass[1]
    real0 = H.mass[0] * model.cfg.consumers.scale
    expected = min(10.0, real0) * 1000.0 / (min(100.0, real0) * 1000.0 + max(0.0, 100.0 - real0) * 1.0)
    assert host_top10_share(model) == pytest.approx(expected)


def test_validate_reports_and_exits_by_the_required_targets(tmp_path):
    small = ["consumers.n=4000", "burn_in=60", "days=40", "start_date=2021-01-01"]
    easy = _one(low=0.0, high=1e15, value=None)
    easy["targets"][0].pop("value"), easy["targets"][0].pop("tolerance")
    easy["targets"][0].update(period="2021-01", required=True)
    hard = {"targets": [{**easy["targets"][0], "name": "impossible", "low": -2.0, "high": -1.0}]}
    for name, data, code in (("easy", easy, 0), ("hard", hard, 1)):
        f = tmp_path / f"{name}.yaml"
        f.write_text(yaml.safe_dump(data))
        out = tmp_path / name / "VALIDATION.md"
        assert validate.main([f"calibration={f}", *small, "--seeds", "2", "--out", str(out)]) == code
        text = out.read_text()
        assert ("pass" if code == 0 else "**fail**") in text and (out.parent / "figures").is_dir()
        resolved = yaml.safe_load(validate.config_path(out).read_text())
        assert resolved["seeds"] == 2 and resolved["config"]["consumers"]["n"] == 4000
        assert not list(out.parent.rglob("*.tmp*"))  # figures and report written atomically
    assert validate.main(["calibration=nonexistent", *small, "--out", str(tmp_path / "x.md")]) == 2


def test_adoption_experiment_gives_brands_their_own_broadcasts_and_splits_the_gain_by_channel():
    """Zhang et al.'s pattern as a virtual experiment: brands of a hosts-only market open their own rooms."""
    base = make_config({**SMALL, "burn_in": 150, "brands": {"real_n": 6.0e5, "stage_orders": [20.0, 40.0, 80.0]}})
    from sim.config import to_dict

    arms = validate.adoption_arms(to_dict(base), seed=1, days=30)
    assert [a["brands"]["self_broadcast"] for a in arms.values()] == [False, True]
    assert all(a["days"] == 30 and a["seed"] == 1 for a in arms.values())
    e = validate.adoption_effect(to_dict(base), seed=1, days=30)
    assert e["gmv_treated_baseline"] > 0  # the brands sold through talent hosts before adopting
    assert e["d_gmv_treated_self_broadcast"] > 0  # and sell through their own rooms only when they adopt
    assert e["d_gmv_treated_host_channel"] + e["d_gmv_treated_self_broadcast"] == pytest.approx(e["d_gmv_treated"])
    p = validate.adoption_pattern([e, e])
    assert p["uplift"] == pytest.approx(e["d_gmv_treated"] / e["gmv_treated_baseline"])
    assert p["other_share"] == pytest.approx(e["d_gmv_treated_host_channel"] / e["d_gmv_treated"])
    assert p["replications"] == 2 and p["days"] == 30


@pytest.mark.parametrize("uplift, other, passes", [(1.0, 0.3, True), (1.0, -0.3, False), (0.2, 0.3, False),
                                                   (3.0, 0.5, False)])
def test_adoption_pattern_passes_on_the_published_band_and_sign(uplift, other, passes):
    gain = uplift * 100.0
    e = {"gmv_treated_baseline": 100.0, "gmv_treated": 100.0 + gain, "d_gmv_treated": gain,
         "d_gmv_treated_host_channel": other * gain, "d_gmv_treated_self_broadcast": (1 - other) * gain, "days": 90.0}
    p = validate.adoption_pattern([e])
    assert bool(p["pass"]) is passes and p["uplift"] == pytest.approx(uplift) and p["other_share"] == pytest.approx(other)
    row, notes = validate._adoption_rows(p)
    assert ("| pass |" in row) is passes and any("the other channel loses" in n for n in notes) is (other < 0)


@pytest.mark.parametrize("best, median, share, verdict", [(2e7, 3e6, 0.005, "pass"), (5e6, 3e6, 0.005, "fail"),
                                                          (2e7, 2e7, 0.005, "fail"), (2e7, 3e6, 0.33, "not resolved")])
def test_brand_cases_are_decided_only_where_the_best_agent_is_a_few_brands(best, median, share, verdict):
    p = {"best": best, "median": median, "best_share": share, "best_stands_for": share * 10_000}
    assert validate.brand_case_verdict([p, p]) == verdict
    row, notes = validate._brand_cases([p], consumers=100_000)
    assert row.endswith(f"| {'**fail**' if verdict == 'fail' else verdict} |") and bool(notes) is (verdict == "not resolved")
    finer = {"consumers": 3_400_000, "brand_agents": 113, "best_stands_for": 88.5, "best": 2e7, "median": 3e6,
             "share_of_brands_above_10m": 0.02, "verdict": "pass"}
    _, cited = validate._brand_cases([p], consumers=100_000, finer=finer)
    assert bool(cited) is (verdict == "not resolved")
    assert all("3,400,000 consumers" in n and "**pass**" in n for n in cited)


def test_the_finer_brand_cases_are_cited_only_for_the_market_they_ran(tmp_path):
    import json

    from sim.config import to_dict

    base = to_dict(make_config(seed=3))
    record = {"consumers": 3_400_000, "config": to_dict(make_config(seed=0, consumers={"n": 3_400_000, "scale": 3e8 / 3.4e6}))}
    path = tmp_path / "brand_cases.json"
    path.write_text(json.dumps(record))
    assert validate.finer_brand_cases(base, path) == record  # another resolution and seed, the same market
    assert validate.finer_brand_cases(to_dict(make_config(seed=3, choice={"intercept": -4.0})), path) is None
    path.write_text(json.dumps({"consumers": 3_400_000}))  # a record that does not say which market it ran
    assert validate.finer_brand_cases(base, path) is None
    assert validate.finer_brand_cases(base, tmp_path / "missing.json") is None
