"""sim.calibrate: recovers known parameters on a synthetic problem, resumes, and refuses bad input."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from sim.calibrate import calibrate, distance, load_calibration, run_point
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
])
def test_bad_calibration_input_fails_in_one_line_naming_the_entry(over, needle):
    with pytest.raises(ConfigError) as err:
        load_calibration("kuaishou2021", over)
    assert needle in str(err.value) and "\n" not in str(err.value)
