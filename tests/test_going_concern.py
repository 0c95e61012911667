"""One resolution and a going concern: results that do not depend on the sampling resolution or the start-up.

Resolution invariance, heterogeneous initial ages (no cohort cliffs), a stationary market after the
burn-in, checkpoints and branches that continue bit-identically, and the bad inputs of this design.
"""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim import MarketModel, resolution
from sim.compare import run_replication
from sim.config import ConfigError, make_config, merge, to_dict
from sim.model import CheckpointError
from sim.run import run
from sim.warmup import mser5, trend

from conftest import SMALL

NO_FUNDS = {"funds": {"cash": 0.0, "traffic": 0.0, "eco": 0.0}}
#: No trend by construction: no net growth of users and no calendar demand (the calibrated default has both)
STEADY = {"consumers": {"growth": 0.0, "adoption": {"enabled": False}}, "platform": {"festival_lift": 0.0}}


# ------------------------------------------------------------------ resolution
def test_every_population_follows_the_resolution_and_strata_keep_their_real_size():
    cfg = make_config(consumers={"n": 40_000, "scale": 7_500.0})  # the default platform at 40,000 consumers
    pops = resolution.plan(cfg)
    for name, real in (("hosts", 3e5), ("merchants", 1e6), ("brands", 1e4), ("providers", 1e3)):
        assert pops[name].real == pytest.approx(real)  # the market stands for the whole platform
    assert pops["merchants"].agents == round(1e6 / 7_500)  # the consumers' ratio
    finer = resolution.plan(make_config(consumers={"n": 80_000, "scale": 3_750.0}))
    assert abs(finer["merchants"].agents - 2 * pops["merchants"].agents) <= 1  # twice the agents at twice the resolution
    top = pops["hosts"].strata[0]
    assert top.agents == cfg.hosts.min_per_tier and top.weight < cfg.consumers.scale  # the head is sampled finer
    for p in pops.values():  # weights keep every stratum's real size exactly
        assert sum(s.agents * s.weight for s in p.strata) == pytest.approx(p.real)


def test_pinned_counts_keep_real_sizes_and_are_reported_as_not_proportional():
    m = MarketModel(**merge(SMALL, {"merchants": {"n": 50}}))
    S = m.sellers
    wl = S.kind[: S.n] == 0
    assert wl.sum() == 50
    assert S.mass[: S.n][wl].sum() * m.cfg.consumers.scale == pytest.approx(m.pops["merchants"].real)
    assert m.sample["proportional"] is False and m.sample["pinned"] == ["merchants"]
    assert MarketModel(**SMALL).sample["proportional"] is True


def test_small_populations_are_named_in_a_warning_and_in_the_sample():
    with pytest.warns(resolution.ResolutionWarning, match="brands"):
        m = MarketModel(**SMALL)
    assert m.sample["small_populations"]["brands"] == m.pops["brands"].agents < m.cfg.min_agents


def _resolution_sample(n: int, scale: float, seeds: range) -> pd.DataFrame:
    rows = []
    for seed in seeds:
        m = MarketModel(**merge(SMALL, {"seed": seed, "days": 90, "burn_in": 60, **NO_FUNDS,
                                        "consumers": {"n": n, "scale": scale}}))
        m.run_for(90)
        f = m.metrics_frame()
        rows.append({k: f[k].mean() for k in ("gmv", "mean_platform_trust", "repurchase_rate", "refund_rate",
                                              "active_sellers")})
    return pd.DataFrame(rows)


def test_platform_results_do_not_depend_on_the_resolution():
    """n consumers x scale s and 2n x s/2 stand for the same market: Welch tests over seeds find no difference.

    Five metrics at alpha = 0.002 each: a false alarm in at most 1% of suites (Bonferroni).
    """
    coarse = _resolution_sample(4_000, 3_000.0, range(6))
    fine = _resolution_sample(8_000, 1_500.0, range(100, 106))
    for col in coarse:
        p = stats.ttest_ind(coarse[col], fine[col], equal_var=False).pvalue
        assert p > 0.002, (col, coarse[col].mean(), fine[col].mean(), p)
        # and the difference is small as well as insignificant
        assert abs(coarse[col].mean() - fine[col].mean()) < 0.15 * abs(coarse[col].mean()), col


def test_per_agent_figures_are_in_real_units():
    m = MarketModel(**merge(SMALL, {"merchants": {"n": 100}}))  # pinned: mass != 1
    m.run_for(20)
    from sim.agents.sellers import SellerAgent

    a = m.agents_by_type[SellerAgent].to_list()[0]
    S = m.sellers
    assert a.gmv == pytest.approx(S.gmv[a.index] / S.mass[a.index])
    assert a.weight == pytest.approx(S.mass[a.index] * m.cfg.consumers.scale)
    f = m.metrics_frame()
    act = S.active[: S.n]
    assert f["active_sellers"].iloc[-1] == pytest.approx(S.mass[: S.n][act].sum() * m.cfg.consumers.scale)
    assert f["active_sellers_agents"].iloc[-1] == act.sum()


def test_one_traffic_unit_for_ads_and_the_fund():
    # after a short burn-in, so that SP contracts exist (made on burn-in day 30) for the fund to reach
    m = MarketModel(**merge(SMALL, {"days": 30, "burn_in": 40, "funds": {"start_day": 1, "horizon_days": 30}}))
    m.run_for(30)
    f = m.metrics_frame()
    vpi = m.cfg.platform.views_per_impression
    assert m.view_price() == pytest.approx(m.cfg.brands.ad_cpm / 1000 / vpi)  # ads: yuan per view
    assert f["fund_traffic_views"].sum() == pytest.approx(f["fund_traffic_spent"].sum() * vpi)
    share = f["fund_traffic_views"] / f["views_supplied"]
    assert np.allclose(share, f["fund_traffic_share"]) and share.sum() > 0
    # the fund holds the market's share of the platform's feed impressions, as views, and never overspends
    phi = resolution.market_share(m.cfg)
    fund = m.funds.traffic
    assert fund.total * m.cfg.consumers.scale / vpi == pytest.approx(m.cfg.funds.traffic * phi)
    assert f["fund_traffic_spent"].sum() == pytest.approx((fund.total - fund.remaining) * m.cfg.consumers.scale / vpi)


# ------------------------------------------------------------------ the start-up
def test_initial_sellers_and_sps_have_no_common_exit_day():
    """Random ages and loss streaks: without a burn-in, no day sees a cohort of sellers or SPs leave together."""
    m = MarketModel(**merge(SMALL, {"seed": 3, "days": 150, "merchants": {"fixed_cost": 40.0}}))
    initial = m.sellers.active[: m.sellers.n].sum()
    sp_initial = m.providers.active[: m.providers.n].sum()
    exits, sp_exits = [], []
    for _ in range(150):
        S, P = m.sellers, m.providers
        was, sp_was = S.active[: S.n].copy(), P.active[: P.n].copy()
        m.step()
        exits.append((was & ~S.active[: was.size]).sum() / initial)
        sp_exits.append((sp_was & ~P.active[: sp_was.size]).sum() / sp_initial)
    exits = np.array(exits)
    assert exits.sum() > 0.3  # the costly market does shed sellers ...
    assert exits.max() < 0.1  # ... but never a cohort at once (identical patience gave ~1/3 on day 60)
    assert max(sp_exits) <= 0.5  # with a handful of SPs one exit is a large share; never all together


def test_repurchase_is_meaningful_on_the_first_reported_day():
    m = MarketModel(**merge(SMALL, {"burn_in": 120, "days": 10}))
    m.run_for(10)
    f = m.metrics_frame()
    assert f["repurchase_rate"].iloc[0] > 0.3  # histories are warm (it was 0.005 on day 1 without a burn-in)
    assert len(m.burn_in_frame()) == 120 and list(f.index) == list(range(1, 11))


def test_at_zero_growth_the_reported_year_has_no_trend():
    """After the default burn-in, at consumers.growth=0, no calendar demand and no policy, GMV, active consumers and active
    sellers have no common trend across seeds: the mean relative slope is within 2.5 standard errors of 0
    (single runs of a small market wander with its few big sellers), and the user base is flat."""
    slopes: dict[str, list[float]] = {"gmv": [], "active_consumers": [], "active_sellers": []}
    for seed in range(5):
        m = MarketModel(**merge(merge(SMALL, STEADY), {"seed": seed, "days": 365, "burn_in": make_config().burn_in,
                                                        **NO_FUNDS}))
        m.run_for(365)
        f = m.metrics_frame()
        for k in slopes:
            slopes[k].append(trend(f[k].to_numpy())["slope_per_year"])
    for k, v in slopes.items():
        v = np.asarray(v)
        se = v.std(ddof=1) / np.sqrt(v.size)
        assert abs(v.mean()) < max(2.5 * se, 0.03), (k, v)
    assert np.abs(slopes["active_consumers"]).max() < 0.06, slopes["active_consumers"]  # 4000 consumers: noisy


def test_consumer_growth_sets_the_trend():
    """consumers.growth is the net annual growth of the user base: 20% a year shows as about 20%."""
    growth = []
    for seed in range(4):
        m = MarketModel(**merge(merge(SMALL, STEADY), {"seed": seed, "days": 180, "burn_in": 30, **NO_FUNDS,
                                        "brands": {"presence_arrivals": False},
                                        "consumers": {"growth": 0.2, "arrival_trust_elasticity": 0.0}}))
        m.run_for(180)
        f = m.metrics_frame()
        growth.append(f["active_consumers"].iloc[-1] / f["active_consumers"].iloc[0])
    # arrivals are Poisson: about 0.7% of the population in sd per seed at 4000 consumers
    assert np.mean(growth) == pytest.approx(1.2 ** (179 / 365), abs=0.015)


def test_mser5_finds_the_end_of_a_transient():
    rng = np.random.default_rng(0)
    x = np.r_[np.linspace(10.0, 0.0, 200), np.zeros(800)] + rng.normal(0, 0.5, 1000)
    assert 150 <= mser5(x) <= 260
    assert mser5(rng.normal(0, 1, 1000)) < 100


# ------------------------------------------------------------------ checkpoints and branches
def test_save_load_and_deepcopy_continue_bit_identically(tmp_path):
    cfg = merge(SMALL, {"burn_in": 20, "days": 40})
    straight = MarketModel(**cfg)
    straight.run_for(40)
    first = MarketModel(**cfg)
    first.run_for(15)
    twin = copy.deepcopy(first)
    first.save(tmp_path / "c.pkl")
    loaded = MarketModel.load(tmp_path / "c.pkl", cfg)
    for m in (first, twin, loaded):
        m.run_for(25)
        assert m.metrics_frame().equals(straight.metrics_frame())
        assert np.array_equal(m.consumers.trust, straight.consumers.trust)


def test_arms_branch_from_one_burned_in_market_and_agree_until_the_policy():
    base = to_dict(make_config(merge(SMALL, {"burn_in": 30, "days": 40, **NO_FUNDS})))
    policy = merge(base, {"brands": {"entry_waves": [[20, 300_000]]}})
    arms = run_replication({"baseline": base, "entry": policy}, {"baseline": 20, "entry": 20})
    b, p = arms["baseline"].metrics, arms["entry"].metrics
    assert b.loc[:19].equals(p.loc[:19])  # bit-identical before the policy day
    assert not b.loc[20:].equals(p.loc[20:]) and p["n_brands"].loc[20] > b["n_brands"].loc[20]


def test_a_killed_run_resumes_from_its_checkpoint_bit_identically(tmp_path):
    args = ["consumers.n=4000", "hosts.real_n=1.125e7", "merchants.real_n=2.25e7", "brands.real_n=2.25e5",
            "providers.real_n=3.75e5", "burn_in=10", "days=60", "checkpoint_every=5", "output.figures=false"]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}

    def cli(folder: Path, *extra: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "sim", *args, *extra, f"hydra.run.dir={folder}"],
                                cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    straight = cli(tmp_path / "straight", "checkpoint_every=0")
    assert straight.wait(timeout=300) == 0
    killed = cli(tmp_path / "resumed")
    ckpt = tmp_path / "resumed" / "checkpoint.pkl"
    deadline = time.time() + 240
    while not ckpt.exists() and time.time() < deadline and killed.poll() is None:
        time.sleep(0.05)
    if killed.poll() is None:
        killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert not (tmp_path / "resumed" / "metrics.csv").exists() or ckpt.exists()
    resumed = cli(tmp_path / "resumed")
    assert resumed.wait(timeout=300) == 0, resumed.stderr.read()
    assert (tmp_path / "resumed" / "metrics.csv").read_bytes() == (tmp_path / "straight" / "metrics.csv").read_bytes()
    assert not ckpt.exists()  # removed once the run completed


def test_checkpoints_of_another_config_or_version_are_refused_in_one_line(tmp_path):
    cfg = merge(SMALL, {"burn_in": 0, "days": 5})
    m = MarketModel(**cfg)
    m.save(tmp_path / "c.pkl")
    with pytest.raises(CheckpointError, match=r"c\.pkl: its config differs at seed"):
        MarketModel.load(tmp_path / "c.pkl", merge(cfg, {"seed": 9}))
    (tmp_path / "junk.pkl").write_bytes(b"not a pickle")
    with pytest.raises(CheckpointError, match="junk.pkl: not a livesim checkpoint"):
        MarketModel.load(tmp_path / "junk.pkl")
    import pickle

    data = pickle.loads((tmp_path / "c.pkl").read_bytes())
    data["version"] = "0.0.1"
    (tmp_path / "old.pkl").write_bytes(pickle.dumps(data))
    with pytest.raises(CheckpointError, match="old.pkl: written by livesim 0.0.1"):
        MarketModel.load(tmp_path / "old.pkl")
    with pytest.raises(ConfigError, match="checkpoint_every"):
        run(merge(cfg, {"checkpoint_every": 2}))  # no folder to checkpoint to
    with pytest.raises(ConfigError, match="seed"):
        m.branch(seed=4)  # a branch keeps what fixed the initial market


@pytest.mark.parametrize(("over", "key"), [
    ({"hosts": {"n": 0}}, "hosts.n"),
    ({"consumers": {"growth": -1.5}}, "consumers.growth"),
    ({"burn_in": 5000}, "burn_in"),
    ({"hosts": {"real_n": 0.0}}, "hosts.real_n"),
    ({"brands": {"n": 5, "real_n": 0.0}}, "brands.n"),
    ({"consumers": {"n": 10}, "merchants": {"real_n": 1e6}}, "consumers.n"),
    ({"consumers": {"n": 10**9}}, "consumers.n"),
    ({"brands": {"entry_waves": [[3, 10**9]]}}, "brands.entry_waves[0][1]"),
])
def test_bad_resolution_inputs_fail_in_one_line_naming_the_key(over, key):
    with pytest.raises(ConfigError) as err:
        MarketModel(**merge(SMALL, over))
    msg = str(err.value)
    assert key in msg and "\n" not in msg
