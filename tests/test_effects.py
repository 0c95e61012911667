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

