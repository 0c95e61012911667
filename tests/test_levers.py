"""Directions of effect of the policy levers that had none, across paired seeds (common random numbers).

A file of its own so that the test runner's per-file distribution puts it beside test_effects.py, not
after it.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.config import merge

from conftest import simulate
from test_effects import CORE


def _arms(a: dict, b: dict, days: int = 100, seeds: tuple[int, ...] = (1, 2)) -> list[list]:
    """The daily metrics of arms ``a`` and ``b``, per paired seed, in the core market at 6,000 consumers."""
    return [[simulate(days=days, seed=seed, **merge(CORE, {**arm, "consumers": {"n": 6000, **arm.get("consumers", {})}}))[1]
             for seed in seeds] for arm in (a, b)]


def _tail(runs: list[list], metric: str, last: int = 60, how: str = "mean") -> tuple[np.ndarray, np.ndarray]:
    """``metric`` over the last ``last`` days (mean or sum) of each arm of ``runs`` (:func:`_arms`), per seed."""
    pick = (lambda t: t.mean()) if how == "mean" else (lambda t: t.sum())
    a, b = (np.array([pick(m[metric].iloc[-last:]) for m in frames]) for frames in runs)
    return a, b


def _paired(a: dict, b: dict, metric: str, days: int = 100, seeds: tuple[int, ...] = (1, 2), last: int = 60,
            how: str = "mean") -> tuple[np.ndarray, np.ndarray]:
    """``metric`` over the last ``last`` days (mean or sum) of arms ``a`` and ``b``, per paired seed."""
    return _tail(_arms(a, b, days, seeds), metric, last, how)


def test_a_higher_take_rate_drives_more_merchants_out():
    """The take comes out of merchant revenue: more loss-making merchants exit (after exit_patience days)."""
    low, high = _paired({"platform": {"take_rate": 0.01}}, {"platform": {"take_rate": 0.3}}, "sellers_exited",
                        days=130, last=70, how="sum")
    assert (high > low).all(), (low, high)


@pytest.mark.parametrize("rule", ["conversion", "gmv", "trust"])
def test_ranking_rules_raise_gmv_over_uniform_traffic(rule):
    """A rule that ranks rooms by what their views yield sends views where they sell: more GMV from the
    same supply than a uniform split of the traffic."""
    flat, ranked = _paired({"platform": {"allocation": "uniform"}}, {"platform": {"allocation": rule}}, "gmv",
                           how="sum")
    assert (ranked > flat).all(), (flat, ranked)


def test_a_sharper_ranking_concentrates_sales():
    """allocation_power sharpens the ranking: sales concentrate (Herfindahl index of GMV by seller)."""
    soft, sharp = _paired({}, {"platform": {"allocation_power": 3.0}}, "hhi")
    assert (sharp > soft).all(), (soft, sharp)


def test_full_exploration_gives_up_the_rankings_gain():
    """exploration = 1 spreads every view uniformly: the views no longer go where they sell, so GMV falls."""
    ranked, explored = _paired({"platform": {"exploration": 0.0}}, {"platform": {"exploration": 1.0}}, "gmv",
                               how="sum")
    assert (explored < ranked).all(), (ranked, explored)


def test_fraud_detection_bans_fraud_rings_and_lowers_cheating():
    fraudy = {"merchants": {"fraud_share": 0.2}}
    runs = _arms(merge(fraudy, {"platform": {"quality_control": {"fraud_detect_prob": 0.0}}}),
                 merge(fraudy, {"platform": {"quality_control": {"fraud_detect_prob": 1.0, "inspect_prob": 0.05}}}))
    blind, sharp = _tail(runs, "frauds_banned", how="sum", last=100)
    assert (blind == 0).all() and (sharp > 0).all(), (blind, sharp)
    lax, strict = _tail(runs, "cheated_rate")
    assert (strict < lax).all(), (lax, strict)


def test_demotion_cuts_the_traffic_of_exaggerating_sellers_and_cheating():
    """Demoted sellers lose traffic (demotion_factor) and tone their claims down (claim_cut): with both at
    work, fewer orders disappoint than when demotion changes nothing."""
    inflating = {"merchants": {"inflation_mean": 0.15, "fraud_share": 0.0},
                 "platform": {"quality_control": {"inspect_prob": 0.05, "inflation_threshold": 0.1}}}
    idle = merge(inflating, {"platform": {"quality_control": {"demotion_factor": 1.0, "claim_cut": 0.0}}})
    acting = merge(inflating, {"platform": {"quality_control": {"demotion_factor": 0.05, "claim_cut": 0.8}}})
    no, yes = _paired(idle, acting, "cheated_rate")
    assert (yes < no).all(), (no, yes)


@pytest.mark.parametrize("guarantee", ["return_shipping", "counterfeit_10x", "no_reason_7d"])
def test_each_guarantee_alone_raises_gmv(guarantee):
    """Each guarantee counts in the purchase utility (w_guarantee) and changes settlement: switching any
    one of them off lowers GMV."""
    off = {"platform": {"guarantees": {guarantee: False}}}
    without, with_ = _paired(off, {}, "gmv", how="sum", last=100)
    assert (with_ > without).all(), (without, with_)
