"""Each actor's rules on tiny, hand-built populations."""

from __future__ import annotations

import numpy as np
import pytest

from sim import MarketModel
from sim import platform as plat
from sim import trust
from sim.agents.consumers import Consumers
from sim.agents.follows import FollowGraph
from sim.agents.hosts import HostAgent, Hosts
from sim.agents.sellers import Kind, SellerAgent, Sellers
from sim.choice import budget_gate, buy_probability
from sim.config import ChoiceConfig, ConsumersConfig, HostsConfig, PlatformConfig, TrustConfig, make_config
from sim.rng import Streams

from conftest import simulate


# ------------------------------------------------------------------ consumers
def test_consumer_traits_and_repurchase_rate():
    c = Consumers(ConsumersConfig(n=1000), Streams(0))
    assert c.capacity == 1000 and c.active.sum() == 1000
    assert c.price_sens.mean() == pytest.approx(1.4, rel=0.05)
    c.record_orders(np.array([1, 2, 3]), np.array([1, 2, 1]), day=10)
    c.record_orders(np.array([1]), np.array([1]), day=50)
    # buyers in the last 90 days: 1, 2, 3; repeaters: 1 (two days) and 2 (two orders one day)
    assert c.repurchase_rate(day=60) == pytest.approx(2 / 3)
    assert c.repurchase_rate(day=130) == 0.0  # window 41..130: consumer 1 bought once (day 50)
    c2 = Consumers(ConsumersConfig(n=10), Streams(0))
    assert c2.repurchase_rate(day=5) == 0.0


def test_arrivals_recycle_churned_slots_then_grow_without_a_wall():
    c = Consumers(ConsumersConfig(n=1000, base_churn=0.0, cheated_churn=1.0), Streams(0))
    cheated = np.zeros(c.n, np.int64)
    cheated[100:300] = 1
    gone, expected = c.churn(np.random.default_rng(0), cheated, day=1)
    assert gone.size == 200 and expected == pytest.approx(200)
    c.orders[gone] = 7
    new = c.arrive(np.random.default_rng(1), 250, day=2)
    assert np.array_equal(np.sort(new[:200]), np.arange(100, 300))  # churned slots first ...
    assert c.n == 1050 and c.capacity >= 1050 and c.active[: c.n].all()  # ... then the arrays grow
    assert (c.orders[new] == 0).all() and (c.joined[new] == 2).all()  # a fresh consumer in the old slot
    for day in range(3, 40):  # no capacity wall: arrivals keep arriving
        assert c.arrive(np.random.default_rng(day), 100, day).size == 100
    assert c.active[: c.n].sum() == 1050 + 37 * 100


def test_awareness_slots_outgrow_their_reserve_and_checkpoint_only_the_columns_in_use():
    """Slots beyond the reserved columns widen the matrix and keep every bit; growth of the population keeps
    them too; a pickle (a checkpoint, a branch's copy) holds the columns in use, not the reserve."""
    import pickle

    from sim.agents import consumers as cons

    c = Consumers(ConsumersConfig(n=40), Streams(0))
    reserve = c.aware.shape[1]
    slots = [c.new_brand_slot(None, None) for _ in range(8 * reserve + 5)]  # past the reserve
    assert c.aware.shape[1] > reserve and c.slot_bytes == reserve + 1
    who, slot = np.arange(40), np.array(slots)[np.arange(40) * 97 % len(slots)]
    assert c.make_aware(who, slot) == 40 and c.is_aware(who, slot).all()
    c._grow(100)  # the population outgrows its arrays
    assert c.is_aware(who, slot).all() and not c.is_aware(np.arange(60, 100), slot).any()
    state = c.__getstate__()
    assert state["aware"].shape == (c.capacity, c.slot_bytes)
    d = pickle.loads(pickle.dumps(c))
    assert d.aware.shape[1] >= cons._AWARE_RESERVE and d.is_aware(who, slot).all()
    assert np.array_equal(d.aware[:, : d.slot_bytes], c.aware[:, : c.slot_bytes])
    assert d.new_brand_slot(None, None) == len(slots) and not d.is_aware(who, np.full(40, len(slots))).any()


def test_arrivals_know_open_brands_at_their_entry_share():
    c = Consumers(ConsumersConfig(n=20000, segments=[0.5, 0.5]), Streams(0))
    slot = c.new_brand_slot(np.random.default_rng(0), np.array([0.6, 0.1]))
    new = c.arrive(np.random.default_rng(1), 20000, day=1)
    knows = c.is_aware(new, np.full(new.size, slot))
    seg = c.segment[new]
    assert knows[seg == 0].mean() == pytest.approx(0.6, abs=0.02)
    assert knows[seg == 1].mean() == pytest.approx(0.1, abs=0.02)
    assert np.array_equal(c.known[new], knows.astype(int))
    c.forget_brand(slot)  # a brand that left is not known by later arrivals
    later = c.arrive(np.random.default_rng(2), 500, day=2)
    assert c.known[later].sum() == 0


def test_churn_hits_cheated_consumers():
    cfg = ConsumersConfig(n=20000, base_churn=0.0, cheated_churn=0.5)
    c = Consumers(cfg, Streams(0))
    cheated = np.zeros(c.n, dtype=np.int64)
    cheated[:10000] = 1
    gone, expected = c.churn(np.random.default_rng(0), cheated, day=1)
    assert (gone < 10000).all() and gone.size == pytest.approx(5000, rel=0.05)
    assert expected == pytest.approx(5000)
    assert not c.active[gone].any()


def test_budget_gate_buys_in_order_until_money_runs_out():
    consumer = np.array([0, 0, 0, 1, 1, 2])
    price = np.array([10.0, 10.0, 10.0, 50.0, 1.0, 5.0])
    wallet = np.array([25.0, 40.0, 1.0])
    ok = budget_gate(np.random.default_rng(0), consumer, price, wallet)
    assert ok[:3].sum() == 2  # 25 yuan buys two of three 10-yuan items
    assert not ok[5]
    spent = np.bincount(consumer[ok], weights=price[ok], minlength=3)
    assert (spent <= wallet).all()


# ------------------------------------------------------------------ choice and trust
def test_purchase_probability_directions():
    cfg = ChoiceConfig()
    one = np.ones(3)

    def p(trust=0.5, claim=0.5, price=40.0, g=3):
        return buy_probability(cfg, trust * one, cfg.w_quality * claim * one, 0.5 * one, 1.4 * one,
                               np.log(price) * one, g)[0]

    assert p(trust=0.8) > p(trust=0.4)
    assert p(claim=0.8) > p(claim=0.3)
    assert p(price=20) > p(price=80)
    assert p(g=3) > p(g=0)
    assert 0 < p() < 1


def test_trust_losses_weigh_more_than_gains():
    cfg = TrustConfig()
    t = np.array([0.5, 0.5, 0.5])
    no = np.zeros(3, bool)
    gain = trust.update(t, np.array([1, 0, 0]), np.zeros(3), cfg.gain)[0] - 0.5
    keep = trust.loss_log_keep(cfg, no, no)
    loss = 0.5 - trust.update(t, np.zeros(3), keep, cfg.gain)[1]
    assert loss == pytest.approx(cfg.loss_aversion * gain)
    refunded = trust.loss_log_keep(cfg, np.ones(3, bool), no)
    assert 0.5 - trust.update(t, np.zeros(3), refunded, cfg.gain)[2] < loss


# ------------------------------------------------------------------ follows
def test_follow_graph_add_find_remove_and_csr():
    g = FollowGraph()
    assert g.add(np.array([2, 0, 2, 0]), np.array([5, 1, 5, 3]), np.array([0.1, 0.2, 0.3, 0.4])) == 3
    assert g.add(np.array([0]), np.array([1]), np.array([0.9])) == 0  # existing edge kept
    assert np.array_equal(g.find(np.array([0, 2, 1]), np.array([1, 5, 1])) >= 0, [True, True, False])
    assert np.array_equal(g.followers(6), [0, 1, 0, 1, 0, 1])
    m = g.to_csr(3, 6)
    assert m.shape == (3, 6) and m[0, 3] == pytest.approx(0.4) and m[2, 5] == pytest.approx(0.1)
    g.remove_consumers(np.array([0]))
    assert len(g) == 1 and g.consumer[0] == 2
    g.remove_hosts(np.array([False] * 5 + [True]))
    assert len(g) == 0


# ------------------------------------------------------------------ hosts
def _market_with(prices, quality, n_hosts=20):
    sellers = Sellers(8, n_segments=2)
    k = len(prices)
    sellers.add(0, Kind.WHITE_LABEL, 0, {"price": np.array(prices, float), "quality": np.array(quality, float),
                                         "claim": np.array(quality, float), "unit_cost": np.ones(k)})
    hosts = Hosts(n_hosts, slate_size=1)
    hosts.add(np.full(n_hosts, 2, np.int8), np.full(n_hosts, 0.5), np.ones(n_hosts), np.full(n_hosts, 0.2),
              np.full(n_hosts, 1.0), np.ones(n_hosts))
    return sellers, hosts


def test_hosts_prefer_higher_commission_value_and_avoid_refunds():
    sellers, hosts = _market_with([20.0, 80.0], [0.5, 0.5])
    cfg = HostsConfig(slate_size=1, candidates=8, choice_noise=0.0)
    hosts.review(cfg, sellers, np.random.default_rng(0), 0, np.ones(2))
    assert (hosts.slate[: hosts.n, 0] == 1).all()  # same conversion: the dearer item pays more commission
    sellers.ew_orders[:2] = [10.0, 10.0]
    sellers.ew_refunds[:2] = [0.0, 9.0]  # the dear seller's goods come back
    hosts.next_review[:] = 0
    hosts.review(cfg, sellers, np.random.default_rng(0), 1, np.ones(2))
    assert (hosts.slate[: hosts.n, 0] == 0).all()


def test_hosts_drop_departed_sellers_and_schedule_only_with_goods():
    sellers, hosts = _market_with([20.0, 80.0], [0.5, 0.5])
    hosts.review(HostsConfig(slate_size=1, candidates=8, choice_noise=0.0), sellers, np.random.default_rng(0), 0,
                 np.ones(2))
    sellers.exit(np.array([1]), 3)
    hosts.drop_sellers(np.array([1]), 3)
    assert (hosts.slate[: hosts.n] == -1).all()
    assert hosts.schedule(np.random.default_rng(0)).size == 0  # nothing to sell, no broadcast
    assert (hosts.next_review[: hosts.n] == 4).all()


# ------------------------------------------------------------------ sellers and platform
def test_guarantees_settle_refunds_and_compensation():
    cfg = PlatformConfig()
    price = np.full(4000, 50.0)
    cheated = np.r_[np.ones(2000, bool), np.zeros(2000, bool)]
    fake = np.r_[np.ones(1000, bool), np.zeros(3000, bool)]
    st = plat.settle(cfg, np.random.default_rng(0), price, cheated, fake)
    assert st.refunded[:2000].all() and st.compensated[:1000].all() and not st.compensated[1000:].any()
    assert st.compensation[:1000].sum() == pytest.approx(10 * 50 * 1000)
    assert st.refunded[2000:].mean() == pytest.approx(cfg.guarantees.no_reason_return_prob, abs=0.01)
    off = make_config(platform={"guarantees": {"return_shipping": False, "counterfeit_10x": False,
                                               "no_reason_7d": False}}).platform
    st0 = plat.settle(off, np.random.default_rng(0), price, cheated, fake)
    assert st0.refunded[:2000].mean() == pytest.approx(off.guarantees.base_refund_prob, abs=0.03)
    assert not st0.refunded[2000:].any() and st0.compensation.sum() == 0 and st0.shipping_comp.sum() == 0
    assert plat.active_guarantees(cfg) == 3 and plat.active_guarantees(off) == 0


def test_quality_control_bans_frauds_and_demotes_exaggerators():
    sellers = Sellers(4, n_segments=1)
    sellers.add(0, Kind.WHITE_LABEL, 0, {"price": np.full(3, 10.0), "quality": np.array([0.1, 0.5, 0.5]),
                                         "claim": np.array([0.8, 0.9, 0.55]), "fraud": np.array([True, False, False])})
    cfg = make_config(platform={"quality_control": {"inspect_prob": 1.0, "fraud_detect_prob": 1.0}}).platform
    banned, demoted = plat.inspect(cfg, sellers, np.random.default_rng(0), day=5)
    assert list(banned) == [0] and list(demoted) == [1]
    assert sellers.claim[1] == pytest.approx(0.5 + (1 - cfg.quality_control.claim_cut) * 0.4)  # claims toned down
    assert sellers.claim[2] == pytest.approx(0.55)  # within the threshold: untouched
    assert plat.demotion_multiplier(cfg, sellers, 10)[1] == cfg.quality_control.demotion_factor
    off = make_config(platform={"quality_control": {"enabled": False}}).platform
    assert plat.inspect(off, sellers, np.random.default_rng(0), 5)[0].size == 0


def test_merchants_exit_after_sustained_losses():
    model, metrics = simulate(days=90, seed=4, merchants={"fixed_cost": 500.0, "exit_patience": 20, "exit_hazard": 0.0})
    S = model.sellers
    assert metrics["sellers_exited"].sum() > 0.9 * model.pops["merchants"].real
    exited = S.exited[: S.n] >= 0
    by_loss = exited & ~S.banned[: S.n]
    # only after `exit_patience` losing days, the entry day counting as the first
    assert ((S.exited - S.entered)[: S.n][by_loss] + 1 >= 20).all()
    assert not S.active[: S.n][exited].any()


def test_frauds_are_banned_and_store_accounts_close_with_their_seller(small_run):
    model, metrics = small_run
    S, H = model.sellers, model.hosts
    assert metrics["frauds_banned"].sum() > 0
    banned = np.flatnonzero(S.banned[: S.n])
    assert S.fraud[banned].all()
    emp = H.employer[: H.n]
    store = emp >= 0
    assert not (H.active[: H.n][store] & ~S.active[emp[store]]).any()


def test_model_builds_from_plain_python_and_exposes_agents():
    m = MarketModel(seed=3, burn_in=0, days=30, consumers={"n": 2000}, hosts={"real_n": 7.5e6}, merchants={"real_n": 1.2e7})
    assert m.cfg.consumers.n == 2000 and m.cfg.days == 30
    m.step()
    m.run_for(4)
    assert m.day == 5 and m.steps == 5
    hosts = m.agents_by_type[HostAgent]
    sellers = m.agents_by_type[SellerAgent]
    assert len(hosts) >= 50 and len(sellers) >= 80
    h = hosts.select(lambda a: not a.is_store).to_list()[0]
    assert h.tier in ("top", "mid", "small") and h.followers >= 0 and h.income >= 0
    df = m.datacollector.get_model_vars_dataframe()
    assert len(df) == 5 and {"gmv", "repurchase_rate", "hhi"} <= set(df.columns)
    m2 = MarketModel(m.cfg)
    assert m2.cfg == m.cfg


def test_no_purchase_intent_exceeds_the_buyers_reach(monkeypatch):
    """Budgets are inside the choice: intents form only for goods the wallet can pay; the gate then
    rejects only what several intents of one day cannot all pay, and the share is a daily metric."""
    import sim.model as sm

    seen = []
    gate = sm.budget_gate

    def spy(rng, consumer, price, wallet):
        seen.append(bool((price <= wallet[consumer] + 1e-9).all()))
        return gate(rng, consumer, price, wallet)

    monkeypatch.setattr(sm, "budget_gate", spy)
    _, m = simulate(days=20, seed=2, consumers={"budget_mean": 2.0})
    assert seen and all(seen)
    share = m["budget_rejected_share"]
    assert ((share >= 0) & (share <= 1)).all() and share.max() > 0
