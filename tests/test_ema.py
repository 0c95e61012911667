"""The EMA Workbench adapter (sim.ema): experiments run through EMA's own evaluator."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from conftest import SMALL
from sim.config import merge

pytest.importorskip("ema_workbench")

TINY = merge(SMALL, {"consumers": {"n": 2000}, "days": 20, "burn_in": 10})


def test_an_ema_experiment_runs_through_the_adapter_with_a_paired_policy_outcome():
    from ema_workbench import SequentialEvaluator, perform_experiments

    from sim.ema import make_model

    model = make_model(base=TINY)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # EMA's own notices (optional evaluators)
        with SequentialEvaluator(model) as evaluator:
            experiments, outcomes = perform_experiments(model, scenarios=2, policies=2, evaluator=evaluator)
    assert len(experiments) == 4 and {"funds__cash", "choice__intercept"} <= set(experiments.columns)
    assert all(np.isfinite(outcomes[k]).all() for k in ("gmv_total", "d_gmv_total", "d_sp_client_gmv_total"))


def test_a_policy_equal_to_the_baseline_has_no_effect_and_typos_fail_early():
    from sim.config import ConfigError
    from sim.ema import make_model, simulate

    res = simulate(TINY, **{"funds.cash": 0.0, "funds.traffic": 0.0, "funds.eco": 0.0, "choice.intercept": -5.3})
    assert res["d_gmv_total"] == 0.0 and res["gmv_total"] > 0  # the same market, the same draws
    with pytest.raises(ConfigError):
        make_model(base=TINY, levers={"funds.cashh": (0.0, 1.0)})


def test_replications_over_seeds_are_averaged():
    from ema_workbench import SequentialEvaluator, perform_experiments

    from sim.ema import make_model

    model = make_model(base={**TINY, "days": 8, "burn_in": 4}, seeds=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with SequentialEvaluator(model) as evaluator:
            experiments, outcomes = perform_experiments(model, scenarios=1, policies=1, evaluator=evaluator)
    assert outcomes["gmv_total"].shape == (1,) and np.isfinite(outcomes["gmv_total"]).all()
