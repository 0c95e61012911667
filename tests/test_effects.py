"""Directions of effect the model must reproduce, across paired seeds (common random numbers)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.config import merge

from conftest import simulate

SEEDS = (1, 2, 3, 4)
DAYS = 180  # trust responds over months: consumers buy a few times a quarter
N = {"n": 10000}  # large enough that a 90-day repurchase rate is not dominated by sampling noise
#: The core market (consumers, hosts, white-label merchants, platform): brands, SPs and upgrades, whose
#: path-dependent success makes a small market lumpy, are tested in test_brands_providers.py.
#: 150 hosts and 300 merchants at 10,000 consumers.
CORE = {"brands": {"real_n": 0.0}, "providers": {"real_n": 0.0}, "upgrade": {"enabled": False},
        "hosts": {"real_n": 4.5e6}, "merchants": {"real_n": 9.0e6}}


def _outcomes(**overrides):
    """Per seed: mean platform trust and repurchase rate over the last 60 days, total GMV."""
    rows = []
    cons = {**N, **overrides.pop("consumers", {})}
    for seed in SEEDS:
        _, m = simulate(days=DAYS, seed=seed, **merge(CORE, {**overrides, "consumers": cons}))
        rows.append((m["mean_platform_trust"].iloc[-60:].mean(), m["repurchase_rate"].iloc[-60:].mean(),
                     m["gmv"].sum()))
    return np.array(rows)




def _compare(worse: dict, better: dict, columns: tuple[int, ...]) -> None:
    w, b = _outcomes(**worse), _outcomes(**better)
    for col in columns:
        assert (b[:, col] > w[:, col]).all(), (col, w[:, col], b[:, col])


def test_more_fraud_lowers_trust_and_repurchase():
    _compare({"merchants": {"fraud_share": 0.25}}, {"merchants": {"fraud_share": 0.0}}, (0, 1))


def test_guarantees_raise_trust_and_repurchase():
    off = {"return_shipping": False, "counterfeit_10x": False, "no_reason_7d": False}
    _compare({"platform": {"guarantees": off}}, {}, (0, 1))


def test_quality_control_raises_trust_and_repurchase():
    fraudy = {"merchants": {"fraud_share": 0.15}}
    _compare({**fraudy, "platform": {"quality_control": {"enabled": False}}},
             {**fraudy, "platform": {"quality_control": {"inspect_prob": 0.05}}}, (0, 1))


def test_more_traffic_supply_raises_gmv():
    _compare({"platform": {"feed_load": 1.0}}, {"platform": {"feed_load": 3.0}}, (2,))


@pytest.mark.parametrize(("market", "sign"), [
    ({"merchants": {"fraud_share": 0.0, "inflation_mean": 0.0}}, 1),  # honest claims: trust rises, so do arrivals and viewing
    ({"merchants": {"fraud_share": 0.4}, "platform": {"quality_control": {"enabled": False}}}, -1),  # trust falls
])
def test_arrivals_and_viewing_follow_platform_trust(market, sign):
    """Arrivals and viewing rise with platform trust: the elasticities amplify whichever way trust moves."""
    flat = {"consumers": {**N, "arrival_trust_elasticity": 0.0, "view_trust_elasticity": 0.0}}
    elastic = {"consumers": {**N, "arrival_trust_elasticity": 4.0, "view_trust_elasticity": 2.0}}
    _, a = simulate(days=DAYS, seed=1, **merge(CORE, {**market, **flat}))
    _, b = simulate(days=DAYS, seed=1, **merge(CORE, {**market, **elastic}))
    moved = a["mean_platform_trust"].iloc[-60:].mean() - a["mean_platform_trust"].iloc[0]
    assert np.sign(moved) == sign
    assert sign * (b["new_consumers"].sum() - a["new_consumers"].sum()) > 0
    assert sign * (b["public_visits"].iloc[-60:].sum() - a["public_visits"].iloc[-60:].sum()) > 0


# ------------------------------------------------------------------ levers whose direction was untested
def _paired(a: dict, b: dict, metric: str, days: int = 100, seeds: tuple[int, ...] = (1, 2), last: int = 60,
            how: str = "mean") -> tuple[np.ndarray, np.ndarray]:
    """``metric`` over the last ``last`` days (mean or sum) of arms ``a`` and ``b``, per paired seed, in the
    core market at 6,000 consumers."""
    out = []
    for arm in (a, b):
        vals = []
        for seed in seeds:
            _, m = simulate(days=days, seed=seed, **merge(CORE, {**arm, "consumers": {"n": 6000, **arm.get("consumers", {})}}))
            tail = m[metric].iloc[-last:]
            vals.append(tail.mean() if how == "mean" else tail.sum())
        out.append(np.array(vals))
    return out[0], out[1]


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
    blind, sharp = _paired(merge(fraudy, {"platform": {"quality_control": {"fraud_detect_prob": 0.0}}}),
                           merge(fraudy, {"platform": {"quality_control": {"fraud_detect_prob": 1.0,
                                                                             "inspect_prob": 0.05}}}),
                           "frauds_banned", how="sum", last=100)
    assert (blind == 0).all() and (sharp > 0).all(), (blind, sharp)
    lax, strict = _paired(merge(fraudy, {"platform": {"quality_control": {"fraud_detect_prob": 0.0}}}),
                          merge(fraudy, {"platform": {"quality_control": {"fraud_detect_prob": 1.0,
                                                                            "inspect_prob": 0.05}}}),
                          "cheated_rate")
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
