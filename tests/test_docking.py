"""Docking: the fast engine and the per-agent reference give the same distributions (MODEL.md 4.6).

Both engines run one small market: SMALL's densities (``conftest.SMALL``) at ``N`` = 1,000
consumers with brands, service providers, funds and upgrades off and no burn-in
(:data:`MARKET`), for ``DAYS`` = 45 days, over ``SEEDS`` = 8 seeds each (0..7).  The reference
draws from its own generator, seeded by ``(seed, REFERENCE_KEY)``, so its runs are independent
of the fast engine's runs of the same seed.  A run's value of a metric is its mean over the last
``LAST`` = 30 days (days 16-45).

**The docking test and its false-alarm rate.**  For each of the ``len(DOCKED)`` = 14 metrics in
:data:`DOCKED`, the 8 fast-engine values and the 8 reference values are compared with an exact
two-sided Mann-Whitney U test at ``ALPHA_METRIC = FAMILY_ALPHA / len(DOCKED)``.  If the two
engines draw their per-seed values from one distribution (the null hypothesis of docking), each
exact test rejects with probability at most ``ALPHA_METRIC`` and, by Bonferroni, the whole test
fails with probability at most ``FAMILY_ALPHA`` = 1%, whatever the dependence between metrics.
The seeds are fixed, so the outcome is deterministic.  (With 8 against 8 runs the smallest
two-sided p-value is 2/12870 = 1.6e-4: the test rejects only when the two engines' values nearly
separate, i.e. it catches gross disagreement; MODEL.md 4.6 records a higher-powered check made
when the reference was written.)

**Mechanisms move both engines the same way.**  Each effect in :data:`EFFECTS` switches a
mechanism in both engines on seeds 0..3 and pairs each run with the run of the same seed without
the switch (same seed, same initial market: the switches act only after initialisation, so
pairing removes the between-market variance in both engines): guarantees off, and quality control
off in a market with 25% fraud rings (at the default 3% its effect is smaller than the noise of a
1,000-consumer market), adoption of live shopping at 30% of users, and a festival lift all year.  For each effect in :data:`EFFECTS` the test asserts
that, in each engine, every one of the 4 paired differences (switched - baseline) has the expected
sign.  These are tests of power, not false-alarm tests (with no effect, 4 equal signs in one engine
happen with probability 1/16): the switches were chosen for effects large enough that every pair
shows them.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from conftest import SMALL
from sim import MarketModel
from sim.config import merge
from sim.reference import REFERENCE_MARKET, SUPPORTED_METRICS, ReferenceModel

N, DAYS, LAST = 1000, 45, 30
SEEDS = range(8)
SWITCH_SEEDS = range(4)
FAMILY_ALPHA = 0.01
#: Metrics compared across engines (sim.metrics names; the reference computes them all).
DOCKED = ("gmv", "orders", "buyers", "views_supplied", "private_visits", "live_hosts", "mean_platform_trust",
          "refund_rate", "cheated_rate", "repurchase_rate", "active_consumers", "follows", "active_sellers",
          "host_commissions")
ALPHA_METRIC = FAMILY_ALPHA / len(DOCKED)
MARKET: dict[str, Any] = merge(merge(SMALL, REFERENCE_MARKET), {"burn_in": 0, "days": DAYS, "consumers": {"n": N}})
_NO_GUARANTEES = {"return_shipping": False, "counterfeit_10x": False, "no_reason_7d": False}
_FRAUD_HEAVY = {"merchants": {"fraud_share": 0.25}}  # so that quality control's bans matter at this size
#: Markets with a mechanism switched (overrides of :data:`MARKET`); "" is the baseline.
SWITCHES: dict[str, dict[str, Any]] = {
    "": {},
    "guarantees_off": {"platform": {"guarantees": _NO_GUARANTEES}},
    "fraud_heavy": _FRAUD_HEAVY,
    "fraud_heavy_qc_off": merge(_FRAUD_HEAVY, {"platform": {"quality_control": {"enabled": False}}}),
    "low_adoption": {"consumers": {"adoption": {"enabled": True, "share": 0.3}}},  # MODEL.md 3.3.35
    "festival_all_year": {"platform": {"festivals": [["01-01", "12-31"]], "festival_lift": 0.5}},
}
#: (baseline, switched, metric, expected sign of switched - baseline)
EFFECTS = (
    ("", "guarantees_off", "refund_rate", -1),  # only 30% of cheated buyers get their money back
    ("", "guarantees_off", "gmv", -1),  # three guarantees fewer in the utility
    ("fraud_heavy", "fraud_heavy_qc_off", "cheated_rate", +1),  # fraud rings are no longer banned
    ("", "low_adoption", "gmv", -1),  # only 30% of users shop
    ("", "festival_all_year", "gmv", +1),  # every purchase more likely
)


@functools.lru_cache(maxsize=None)
def _run(engine: str, seed: int, switch: str = "") -> pd.Series:
    """Mean of every metric over the last ``LAST`` days of one run (cached: runs are shared by the tests)."""
    cfg = merge(MARKET, SWITCHES[switch])
    cls = MarketModel if engine == "fast" else ReferenceModel
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # small populations: the resolution warning is expected
        model = cls(seed=seed, **cfg)
    for _ in range(DAYS):
        model.step()
    return model.metrics_frame().iloc[-LAST:].mean()


def _values(engine: str, metric: str, seeds: range, switch: str = "") -> np.ndarray:
    """A metric's per-run means over ``seeds``."""
    return np.array([_run(engine, s, switch)[metric] for s in seeds])


def test_docked_metrics_are_computed_by_both_engines():
    assert set(DOCKED) <= set(SUPPORTED_METRICS)
    assert set(SUPPORTED_METRICS) <= set(_run("fast", 0).index)


@pytest.mark.parametrize("metric", DOCKED)
def test_engines_dock(metric):
    """Exact two-sided Mann-Whitney over 8 seeds per engine, alpha = 1% / 14 per metric (1% family-wise)."""
    fast, ref = _values("fast", metric, SEEDS), _values("reference", metric, SEEDS)
    p = stats.mannwhitneyu(fast, ref, alternative="two-sided", method="exact").pvalue
    assert p > ALPHA_METRIC, (f"{metric} does not dock: fast {fast.mean():.4g} +/- {fast.std(ddof=1):.2g}, "
                              f"reference {ref.mean():.4g} +/- {ref.std(ddof=1):.2g}, p = {p:.2g}")


@pytest.mark.parametrize(("base", "switch", "metric", "sign"), EFFECTS, ids=[f"{b}-{m}" for _, b, m, _ in EFFECTS])
def test_switching_a_mechanism_moves_both_engines_the_same_way(base, switch, metric, sign):
    """In both engines, every paired run (same seed, same initial market) moves ``metric`` in the direction ``sign``."""
    for engine in ("fast", "reference"):
        before, after = _values(engine, metric, SWITCH_SEEDS, base), _values(engine, metric, SWITCH_SEEDS, switch)
        assert (np.sign(after - before) == sign).all(), (
            f"{engine}: {base or 'baseline'} -> {switch}: {metric} {before.mean():.4g} -> {after.mean():.4g}, "
            f"paired differences {after - before}")


def test_reference_ledger_closes_and_views_are_served():
    """GMV = merchant revenue + host commissions + platform take + SP fees + refunds; views allocated = supplied."""
    model = ReferenceModel(seed=0, **merge(MARKET, {"days": 10}))
    for _ in range(10):
        model.step()
        t = model.today
        assert t["gmv"] == pytest.approx(t["merchant_revenue"] + t["host_commissions"] + t["platform_take"]
                                         + t["refunds"], rel=1e-9, abs=1e-6)
        assert t["views_allocated"] == t["views_supplied"]
        assert t["gmv_host_channel"] + t["gmv_self_broadcast"] == pytest.approx(t["gmv"])
    assert sum(model.ledger_total[k] for k in ("merchant", "commission", "take", "sp_fee", "refund")) == \
        model.ledger_total["gmv"]
    assert model.running is False


def test_reference_is_deterministic():
    a = ReferenceModel(seed=3, **merge(MARKET, {"days": 5}))
    b = ReferenceModel(seed=3, **merge(MARKET, {"days": 5}))
    for _ in range(5):
        a.step()
        b.step()
    pd.testing.assert_frame_equal(a.metrics_frame(), b.metrics_frame())


@pytest.mark.parametrize("override", [
    {"brands": {"real_n": 1e4}},
    {"brands": {"entry_waves": [[10, 1000]]}},
    {"providers": {"real_n": 1000.0}},
    {"funds": {"cash": 1e8}},
    {"upgrade": {"enabled": True}},
])
def test_reference_refuses_mechanisms_it_does_not_implement(override):
    with pytest.raises(ValueError, match="does not implement"):
        ReferenceModel(**merge(MARKET, override))
