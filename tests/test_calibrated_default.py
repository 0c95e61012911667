"""The default market is the calibrated one (issue 12): its parameters are the committed ensemble's
default member, the ensemble loads, and the default passes its required targets at test size."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import pandas as pd

from sim import ensemble
from sim.config import SimConfig, make_config, to_dict
from sim.model import MarketModel
from sim.targets import evaluate, load_targets
from sim.validate import QUICK

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "experiments"))

from calibrated_default import mismatches  # noqa: E402

ENSEMBLE = ensemble.ENSEMBLE_DIR / "kuaishou2021.csv"


def test_defaults_are_the_default_member_of_the_committed_ensemble():
    table = pd.read_csv(ENSEMBLE)
    assert int(table["default"].sum()) == 1 and bool(table["default"].iloc[0])
    assert mismatches(table) == []
    assert SimConfig().consumers.adoption.enabled  # the calibrated market has the calendar's demand


def test_the_ensemble_has_at_least_20_valid_members():
    params = ensemble.load("kuaishou2021", to_dict(SimConfig()))
    assert len(params) >= 20
    assert "platform.take_rate" in params.columns  # the required take-rate target's parameter was calibrated


def test_the_default_passes_its_required_targets_at_test_size():
    """sim.validate --quick on the committed default: the calibration's resolution, one seed."""
    cfg = make_config(QUICK)
    targets = load_targets("kuaishou2021", cfg)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MarketModel(cfg)
        model.run_for(cfg.days)
    values = evaluate(targets, model)
    failed = {t.name: (values[t.name], t.low, t.high) for t in targets.targets if t.required and not t.passes(values[t.name])}
    assert not failed, failed
