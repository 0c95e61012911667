"""Shared helpers: every run a test makes is checked against the model's invariants every day."""

from __future__ import annotations

import functools
from typing import Any

import pandas as pd
import pytest

from sim import MarketModel
from sim.checks import check_invariants
from sim.config import merge

#: A small market that still has every mechanism at work (a few seconds per year): 4000 consumers in a
#: denser world than the default (more sellers, brands and SPs per user), so every population has agents.
#: It is proportional (no pinned counts) and starts from initialisation (no burn-in); the going-concern
#: tests use a burn-in.
#: The mechanism tests' market keeps the values the calibrated parameters had before the calibration
#: (and no calendar demand): a test of a mechanism's direction should not move when a calibration does.
#: tests/test_calibrated_default.py tests the calibrated default itself.
REFERENCE_PARAMETERS: dict[str, Any] = {
    "choice": {"intercept": -5.3},
    "consumers": {"budget_mean": 8.0, "visit_prob": 0.35, "follows_init": 0.3, "growth": 0.0,
                  "trust": {"gain": 0.08}, "adoption": {"enabled": False}},
    "merchants": {"price_median": 45.0},
    "platform": {"take_rate": 0.05, "festival_lift": 0.0, "quality_control": {"inspect_prob": 0.01}},
}
SMALL: dict[str, Any] = merge(REFERENCE_PARAMETERS, {
    "burn_in": 0,
    "consumers": {"n": 4000},
    "hosts": {"real_n": 1.125e7},  # 150 hosts at the consumers' ratio (167 with the finer head)
    "merchants": {"real_n": 2.25e7},  # 300
    "brands": {"real_n": 2.25e5},  # 3
    "providers": {"real_n": 3.75e5},  # 5 (6 with one of every tier)
})


def simulate(days: int = 60, **overrides: Any) -> tuple[MarketModel, pd.DataFrame]:
    """Build a small market, step it ``days`` times checking invariants daily; return model and metrics."""
    model = MarketModel(**merge(SMALL, {"days": days, **overrides}))
    check_invariants(model)
    for _ in range(days):
        model.step()
        check_invariants(model)
    return model, model.datacollector.get_model_vars_dataframe()


@functools.lru_cache(maxsize=None)
def _cached(days: int, seed: int) -> tuple[MarketModel, pd.DataFrame]:
    return simulate(days, seed=seed)


@pytest.fixture(scope="session")
def small_run() -> tuple[MarketModel, pd.DataFrame]:
    """One 120-day small market shared by read-only tests."""
    return _cached(120, 7)
