"""Brands, STEPS, upgrades, service providers and funds: rules and directions of effect."""

from __future__ import annotations

import numpy as np
import pytest

from sim import MarketModel
from sim import trust
from sim.agents import brands
from sim.agents.sellers import ENTRY_WAVE, Kind
from sim.checks import check_invariants
from sim.config import STEPS_STAGES, make_config
from sim.funds import Funds
from sim.config import FundsConfig

from conftest import REFERENCE_PARAMETERS, merge, simulate

#: A market with brands and service providers doing something within a few months.
BRANDY = {"brands": {"real_n": 6.0e5, "stage_orders": [20.0, 40.0, 80.0]}, "providers": {"real_n": 7.5e5}}  # 8 brands, 10 SPs


def _stage_history(model: MarketModel, days: int) -> np.ndarray:
    """Brand stages (days x sellers), stepping with invariant checks."""
    rows = []
    for _ in range(days):
        model.step()
        check_invariants(model)
        rows.append(model.sellers.stage[: model.sellers.n].copy())
    width = max(r.size for r in rows)
    return np.array([np.pad(r, (0, width - r.size), constant_values=-1) for r in rows])


def test_steps_stages_advance_in_order():
    model = MarketModel(seed=2, burn_in=0, consumers={"n": 6000}, hosts={"real_n": 7.5e6}, merchants={"real_n": 1.5e7}, **BRANDY)
    hist = _stage_history(model, 150)
    brand = np.flatnonzero(model.sellers.kind[: model.sellers.n] == Kind.BRAND)
    steps = np.diff(hist[:, brand].astype(int), axis=0)
    assert set(np.unique(steps)) <= {0, 1}  # never back, never skipping a stage
    assert hist[-1, brand].max() == len(STEPS_STAGES) - 1  # someone reached the snowball


def test_without_self_broadcast_brands_skip_it_and_open_no_stores():
    model = MarketModel(seed=2, burn_in=0, consumers={"n": 6000}, hosts={"real_n": 7.5e6}, merchants={"real_n": 1.5e7},
                        brands={**BRANDY["brands"], "self_broadcast": False}, providers={"real_n": 7.5e5})
    hist = _stage_history(model, 150)
    brand = np.flatnonzero(model.sellers.kind[: model.sellers.n] == Kind.BRAND)
    assert not (hist[:, brand] == brands.SELF_BROADCAST).any()
    assert (hist[-1, brand] == brands.SNOWBALL).any()
    H, S = model.hosts, model.sellers
    emp = H.employer[: H.n]
    assert not (S.kind[emp[emp >= 0]] == Kind.BRAND).any()


def _days_to_content(providers: dict) -> float:
    model = MarketModel(seed=5, burn_in=0, consumers={"n": 6000}, hosts={"real_n": 7.5e6}, merchants={"real_n": 1.5e7},
                        brands={"real_n": 4e5, "stage_orders": [60.0, 500.0, 1000.0]}, providers=providers)
    hist = _stage_history(model, 120)
    brand = np.flatnonzero(model.sellers.kind[: model.sellers.n] == Kind.BRAND)
    reached = hist[:, brand] >= brands.CONTENT
    return float(np.where(reached.any(axis=0), reached.argmax(axis=0), 120).mean())


def test_steps_are_faster_with_a_service_provider():
    no_sp = _days_to_content({"real_n": 0.0})
    with_sp = _days_to_content({"real_n": 1e6, "seek_prob": 1.0, "tier_profile": [[0.9] * 3] * 5, "conversion_uplift": 0.0,
                                "traffic_uplift": 0.0})
    assert with_sp < no_sp


def test_entry_waves_arrive_on_their_day_as_their_own_cohort():
    # waves count real brands entering the whole platform; the market (4% of it here) gets its share
    waves = [[10, 375_000], [30, 225_000]]
    model, metrics = simulate(days=40, seed=1, brands={"real_n": 1.5e5, "entry_waves": waves})
    S = model.sellers
    brand = S.kind[: S.n] == Kind.BRAND
    scale = model.cfg.consumers.scale
    for k, (day, real) in enumerate(waves):
        wave = brand & (S.cohort[: S.n] == ENTRY_WAVE + k)
        agents, mass = model.wave_agents(real)
        assert (agents, wave.sum()) == ((5, 3)[k], agents) and (S.entered[: S.n][wave] == day).all()
        assert S.mass[: S.n][wave].sum() * scale == pytest.approx(real * 0.04)  # the real size is kept exactly
    assert metrics["gmv_entrant"].iloc[12:].sum() > 0
    assert model.ledger.total.shape[-1] == ENTRY_WAVE + 2


def test_fund_budgets_are_never_overdrawn_and_pace_evenly():
    f = Funds(FundsConfig(cash=3000.0, traffic=0.0, eco=3000.0, horizon_days=10, start_day=1), scale=1.0,
              share=1.0, views_per_impression=0.05)
    f.cfg.cash_window = 2  # windows close on days 2, 4, ..., 10: five payments of 600
    paid = [f.pay_cash(d, np.array([1e9, 1e9]), np.zeros(2)).sum() if f.cash_window_ends(d) else 0.0
            for d in range(1, 15)]
    assert sum(paid) == pytest.approx(3000.0) and f.cash.remaining >= 0
    assert paid[1] == pytest.approx(600.0) and paid[9] == pytest.approx(600.0) and paid[11] == 0.0  # even, then none
    # a fall in the next window claws back at most the last payment, and the money returns to the fund
    back = f.pay_cash(12, np.array([-1e12, -10.0]), np.array([300.0, 300.0]))
    assert back == pytest.approx([-300.0, -f.cfg.cash_rate * 10.0]) and f.cash.remaining == pytest.approx(-back.sum())
    eco = [f.invest_eco(d, np.array([1.0, 3.0])) for d in range(1, 15)]
    assert sum(e.sum() for e in eco) == pytest.approx(3000.0) and eco[0][1] == pytest.approx(3 * eco[0][0])


def test_funds_in_a_run_close_and_stop_after_the_horizon():
    model, m = simulate(days=60, seed=3, funds={"horizon_days": 30}, providers={"real_n": 6e5, "seek_prob": 0.5})
    F = model.funds
    for fund in (F.cash, F.traffic, F.eco):
        assert 0 <= fund.remaining <= fund.total
    share = model.cfg.consumers.n * model.cfg.consumers.scale / model.cfg.platform.users
    assert m["fund_eco_spent"].iloc[:30].sum() == pytest.approx(model.cfg.funds.eco * share, rel=1e-6)
    assert (m[["fund_cash_spent", "fund_traffic_spent", "fund_eco_spent"]].iloc[30:] == 0).all().all()
    assert m["fund_traffic_spent"].sum() > 0 and m["sp_fees"].sum() > 0


def test_the_traffic_fund_puts_its_views_on_sp_clients_goods(monkeypatch):
    """The fund's grant lands where it is meant to: every fund view shows an SP client's goods, and a
    bigger fund shows them more.  (Whether the extra views raise the clients' GMV depends on the SP
    market's mechanisms; at this size they do not robustly: see the closing note of issue 10.)"""
    from sim.traffic import Allocator

    shown: list[np.ndarray] = []
    allocate = Allocator.allocate

    def spy(self, rng, demand, weights, boosts=()):
        viewers, rooms, items = allocate(self, rng, demand, weights, boosts)
        fund = [k for k, b in enumerate(boosts) if b.name == "fund_traffic"]
        shown.append(items[np.isin(self.source, fund)])
        return viewers, rooms, items

    monkeypatch.setattr(Allocator, "allocate", spy)

    def fund_views(traffic: float) -> tuple[float, bool]:
        shown.clear()
        model, m = simulate(days=30, seed=4, consumers={"n": 10000},
                            providers={"real_n": 7.5e5, "seek_prob": 0.5, "merchant_seek_prob": 0.05},
                            funds={"traffic": traffic, "cash": 0.0, "eco": 0.0})
        items = np.concatenate(shown)
        return float(m["fund_traffic_views"].sum()), bool((model.sellers.had_sp[items]).all())

    small, small_ok = fund_views(1e11)
    big, big_ok = fund_views(1e12)
    assert big > small > 0 and small_ok and big_ok


def test_brand_endorsement_spillover_raises_platform_trust_only_when_on():
    t = np.array([0.5, 0.5, 0.5])
    trust.endorse(t, np.array([0, 0, 2]), 0.1)
    assert t[0] == pytest.approx(1 - 0.5 * 0.9**2) and t[1] == 0.5 and t[2] == pytest.approx(0.55)
    on = {"brands": {"real_n": 7.5e5, "spillover": True, "spillover_strength": 0.2}}
    off = {"brands": {"real_n": 7.5e5, "spillover": False, "spillover_strength": 0.2}}
    _, a = simulate(days=60, seed=6, **on)
    _, b = simulate(days=60, seed=6, **off)
    assert a["mean_platform_trust"].iloc[-1] > b["mean_platform_trust"].iloc[-1]
    assert (a["gmv_brand"].sum() > 0)
    # without brands the switch changes nothing at all
    _, c = simulate(days=30, seed=6, brands={"real_n": 0, "spillover": True, "spillover_strength": 0.2})
    _, d = simulate(days=30, seed=6, brands={"real_n": 0, "spillover": False, "spillover_strength": 0.2})
    assert c.equals(d)


def _poaching(incubation: float) -> tuple[int, int]:
    # store hosts here could earn 150-300 yuan a day on their own: a wage of 100 leaves them tempted
    model, m = simulate(days=90, seed=8, brands={"real_n": 7.5e5, "stage_orders": [5.0, 5.0, 5.0], "poach_prob": 0.05,
                                                  "sp_speed": 0.0, "store_wage": 100.0},
                        providers={"real_n": 1.5e6, "seek_prob": 1.0, "tier_profile": [[0.5] * 3] * 5, "capability_sd": 0.0,
                                   "conversion_uplift": 0.0, "traffic_uplift": 0.0, "incubation_protect": 0.8},
                        funds={"cash": 0.0, "traffic": 0.0, "eco": 0.0})
    return int(m["hosts_poached"].sum()), int(m["followers_poached"].sum())


def test_sp_incubation_lowers_poaching_losses(monkeypatch):
    from sim.agents import providers as prov

    base = prov.provider_traits

    def with_incubation(value):
        def traits(cfg, rng, tier, mass):
            t = base(cfg, rng, tier, mass)
            t["incubation"] = np.full(len(tier), value)
            return t
        return traits

    monkeypatch.setattr(prov, "provider_traits", with_incubation(0.0))
    monkeypatch.setattr("sim.model.provider_traits", with_incubation(0.0))
    none = _poaching(0.0)
    monkeypatch.setattr(prov, "provider_traits", with_incubation(1.0))
    monkeypatch.setattr("sim.model.provider_traits", with_incubation(1.0))
    strong = _poaching(1.0)
    assert none[0] > 0
    assert strong[0] < none[0] and strong[1] < none[1]


#: Upgrade thresholds a small market's merchants can reach in months.
UPGRADE = {"efficiency": 0.005, "quality_threshold": 0.75, "min_orders": 3, "refund_threshold": 0.25,
           "min_investment": 10.0}


def test_upgrades_happen_only_past_the_thresholds():
    up = UPGRADE
    model, m = simulate(days=120, seed=9, upgrade=up)
    S = model.sellers
    new = np.flatnonzero(S.kind[: S.n] == Kind.NEW_BRAND)
    scale = model.cfg.consumers.scale
    assert new.size > 0 and m["upgrades"].sum() == pytest.approx(S.mass[new].sum() * scale)
    assert (S.quality[new] >= 0.75).all() and (S.orders[new] / S.mass[new] >= 3).all() and not S.fraud[new].any()
    assert (S.invested[new] / S.mass[new] >= 10.0).all()
    assert (S.upgraded_on[new] > 0).all() and (S.aware_slot[new] >= 0).all()
    assert m["gmv_new_brand"].sum() > 0
    _, off = simulate(days=120, seed=9, upgrade={**up, "enabled": False})
    assert off["upgrades"].sum() == 0 and off["gmv_new_brand"].sum() == 0


def test_upgrades_need_investment_and_the_subsidy_brings_them_sooner():
    up = UPGRADE
    _, none = simulate(days=120, seed=9, upgrade={**up, "invest_share": 0.0})
    assert none["upgrades"].sum() == 0  # with investment switched off upgrades do not happen
    plain = sum(simulate(days=120, seed=s, upgrade=up)[1]["upgrades"].sum() for s in (9, 10, 11))
    subsidised = sum(simulate(days=120, seed=s, upgrade={**up, "subsidy": 2.0})[1]["upgrades"].sum()
                     for s in (9, 10, 11))
    assert subsidised > plain


def test_a_new_brand_starts_unknown_and_quality_raises_unit_cost():
    up = {**UPGRADE, "cost_per_quality": 0.5}
    model, _ = simulate(days=60, seed=9, upgrade=up)
    S = model.sellers
    wl = np.flatnonzero((S.kind[: S.n] == Kind.WHITE_LABEL) & (S.invested[: S.n] > 0))
    share = model.cfg.merchants.unit_cost_share
    assert (S.unit_cost[wl] > share * S.price[wl]).any()  # investment raised unit cost
    new = np.flatnonzero(S.kind[: S.n] == Kind.NEW_BRAND)
    C = model.consumers
    for i in new:  # only consumers who bought or saw it know a new brand
        knows = C.is_aware(np.arange(C.n), np.full(C.n, S.aware_slot[i]))
        assert knows.mean() < 0.2


def test_price_compensation_keeps_hosts_carrying_self_broadcasting_brands():
    def carried(comp: float) -> int:
        model = MarketModel(seed=3, burn_in=0, consumers={"n": 6000}, hosts={"real_n": 7.5e6}, merchants={"real_n": 1.5e7},
                            brands={"real_n": 5e5, "stage_orders": [5.0, 5.0, 1e9], "competitor_penalty": 0.9,
                                    "price_comp": comp}, providers={"real_n": 0.0})
        total = 0
        for _ in range(60):
            model.step()
            H = model.hosts
            talent = H.employer[: H.n] < 0
            slate = H.slate[: H.n][talent]
            sb = brands.self_broadcasting(model.cfg.brands, model.sellers)
            total += int((slate >= 0).__and__(sb[np.maximum(slate, 0)]).sum())
        return total

    assert carried(1.0) > carried(0.0)


def test_weak_brand_entrants_fail_within_months_and_strong_ones_stay():
    """The stopping rule: a brand without traction stops once its budget is spent or its trial is over."""
    weak = {"real_n": 6.0e5, "quality_mean": 0.3, "price_median": 400.0, "exit_traction": 50.0, "trial_days": 90}
    model, m = simulate(days=180, seed=2, brands=weak)
    S = model.sellers
    brand = S.kind[: S.n] == Kind.BRAND
    assert m["brands_exited"].sum() > 0
    gone = brand & (S.exited[: S.n] >= 0) & ~S.banned[: S.n]
    assert gone.sum() >= brand.sum() // 2  # most weak entrants fail
    assert ((S.exited - S.entered)[: S.n][gone] <= 180).all()  # within the first 180 days
    assert m["brands_exited"].sum() == pytest.approx(S.mass[: S.n][gone].sum() * model.cfg.consumers.scale)
    _, strong = simulate(days=180, seed=2, brands={**weak, "exit_traction": 0.0})
    assert strong["brands_exited"].sum() == 0


def test_ad_spending_falls_as_a_losing_brand_spends_its_budget():
    cfg = make_config().brands
    budget = np.array([cfg.entry_budget, 0.5 * cfg.entry_budget, -1.0, 3 * cfg.entry_budget])
    ads = brands.ad_budget(cfg, budget, np.ones(4))
    assert list(ads) == [cfg.ad_spend, 0.5 * cfg.ad_spend, 0.0, cfg.ad_spend]


def test_brand_trust_is_learned_from_orders_and_a_cheated_order_lowers_it():
    model, _ = simulate(days=30, seed=4, brands={"real_n": 6.0e5})
    BT, S = model.brand_trust, model.sellers
    assert len(BT) > 0 and ((BT.trust >= 0) & (BT.trust <= 1)).all()
    brand = S.kind[: S.n] == Kind.BRAND
    S.quality[: S.n][brand] = 0.0  # every brand now delivers far below its claim: every brand order cheats
    before = dict(zip(BT.key.tolist(), BT.trust.tolist()))
    model.step()
    check_invariants(model)
    after = dict(zip(BT.key.tolist(), BT.trust.tolist()))
    common = [k for k in before if k in after]
    moved = np.array([after[k] - before[k] for k in common])
    assert (moved <= 1e-12).all() and (moved < 0).any()  # cheated brand orders lower trust in that brand only


def test_brand_trust_enters_the_choice():
    """Consumers who trust a brand they bought buy it more: brand trust set high versus low."""
    def brand_gmv(level: float) -> float:
        model, _ = simulate(days=20, seed=4, brands={"real_n": 6.0e5})
        model.brand_trust.trust[:] = level
        start = model.sellers.gmv[: model.sellers.n][model.sellers.kind[: model.sellers.n] == Kind.BRAND].sum()
        for _ in range(10):
            model.step()
        S = model.sellers
        return S.gmv[: S.n][S.kind[: S.n] == Kind.BRAND].sum() - start

    assert brand_gmv(1.0) > brand_gmv(0.0)


def test_compensation_is_paid_only_on_host_channel_orders_of_self_broadcasting_brands(monkeypatch):
    from sim.ledger import Ledger

    seen = []
    post = Ledger.post

    def spy(self, segment, kind, channel, cohort, price, commission_rate, take_rate, fee_rate, refunded):
        seen.append((kind.copy(), channel.copy(), np.asarray(commission_rate).copy()))
        return post(self, segment, kind, channel, cohort, price, commission_rate, take_rate, fee_rate, refunded)

    monkeypatch.setattr(Ledger, "post", spy)
    model, _ = simulate(days=60, seed=3, brands={"real_n": 6.0e5, "stage_orders": [5.0, 5.0, 1e9], "price_comp": 1.0},
                        providers={"real_n": 0.0})
    extra = model.cfg.brands.price_comp * model.cfg.brands.self_broadcast_discount
    kind = np.concatenate([k for k, _, _ in seen])
    channel = np.concatenate([c for _, c, _ in seen])
    rate = np.concatenate([r for _, _, r in seen])
    assert (rate[channel == 1] == 0).all()  # a brand's own store pays no commission, compensation included
    tiers = set(model.cfg.hosts.tier_commission)
    host_brand = (channel == 0) & (kind == Kind.BRAND)
    compensated = np.isin(np.round(rate[host_brand] - extra, 9), np.round(list(tiers), 9))
    assert compensated.any()  # hosts got the extra share on self-broadcasting brands' orders
    wl = (channel == 0) & (kind == Kind.WHITE_LABEL)
    assert np.isin(np.round(rate[wl], 9), np.round(list(tiers), 9)).all()  # and on nothing else


def _diversion(discount: float, seed: int = 3) -> tuple[float, float]:
    """Orders diverted from hosts' rooms to brand stores, and the brands' mean host willingness, after 90 days."""
    model, m = simulate(days=90, seed=seed, brands={"real_n": 6.0e5, "stage_orders": [5.0, 5.0, 1e9],
                                                    "self_broadcast_discount": discount}, providers={"real_n": 0.0})
    sb = brands.self_broadcasting(model.cfg.brands, model.sellers)
    will = brands.host_willingness(model.cfg.brands, model.sellers)[sb]
    return float(m["orders_diverted"].sum()), float(will.mean()) if will.size else 1.0


def test_self_broadcast_diversion_is_an_outcome_of_price_and_it_drives_host_reluctance():
    small, will_small = _diversion(0.02)
    big, will_big = _diversion(0.4)
    assert big > small > 0  # a deeper store discount moves more buyers from hosts' rooms to the store
    assert will_big < will_small <= 1.0  # hosts learn the diversion and carry the brand less
    _, off = simulate(days=60, seed=3, brands={"real_n": 6.0e5, "stage_orders": [5.0, 5.0, 1e9],
                                               "self_broadcast": False}, providers={"real_n": 0.0})
    assert off["orders_diverted"].sum() == 0


def test_store_hosts_leave_when_their_outside_option_beats_their_wage():
    def poached(wage: float) -> int:
        _, m = simulate(days=90, seed=8, brands={"real_n": 7.5e5, "stage_orders": [5.0, 5.0, 5.0], "poach_prob": 0.05,
                                                  "sp_speed": 0.0, "store_wage": wage},
                        providers={"real_n": 0.0}, funds={"cash": 0.0, "traffic": 0.0, "eco": 0.0})
        return int(m["hosts_poached"].sum())

    assert poached(1.0) > poached(1e6) == 0  # a well-paid store host stays


# ---------------------------------------------------------------- the SP market and its funds
#: A market whose SP sector has many agents: SPs pinned at 40 agents for 20,000 real SPs (20x the platform's).
SP_MARKET = merge(REFERENCE_PARAMETERS, {"seed": 0, "burn_in": 150, "consumers": {"n": 20000, "scale": 15000.0},
                                         "providers": {"real_n": 2e4, "n": 40}, "brands": {"real_n": 2e5}})
NO_FUNDS = {"cash": 0.0, "traffic": 0.0, "eco": 0.0}
TEN_X = {"cash": {"cash": 1e9}, "eco": {"eco": 1e10}, "traffic": {"traffic": 1e12}}


@pytest.fixture(scope="module")
def fund_arms() -> dict:
    """Each fund alone at 10x the seed's size against no funds, branched from one burned-in market (183 days)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the pinned SP count is reported as not proportional
        root = MarketModel(days=183, funds=NO_FUNDS, **SP_MARKET)
        out = {}
        for name, fund in {"none": {}, **TEN_X}.items():
            arm = root.branch(funds={**NO_FUNDS, **fund})
            for _ in range(183):
                arm.step()
            check_invariants(arm)
            out[name] = arm.metrics_frame()
    return out


def test_the_cash_fund_raises_sp_investment_and_entry(fund_arms):
    none, cash = fund_arms["none"], fund_arms["cash"]
    assert cash["fund_cash_spent"].sum() > 0
    assert cash["sp_investment"].sum() > 1.1 * none["sp_investment"].sum()
    assert cash["sp_entered"].sum() > none["sp_entered"].sum()


def test_the_eco_fund_grows_capable_sps_and_not_fewer_big_ones(fund_arms):
    none, eco = fund_arms["none"], fund_arms["eco"]
    assert eco["n_sps_capable"].iloc[-1] > none["n_sps_capable"].iloc[-1]
    assert eco["n_sps_over_threshold"].iloc[-1] >= none["n_sps_over_threshold"].iloc[-1]
    assert eco["sp_clients"].iloc[-1] > none["sp_clients"].iloc[-1]  # more capacity and capability serve more sellers


def test_the_traffic_fund_raises_sp_clients_views_and_gmv(fund_arms):
    none, traffic = fund_arms["none"], fund_arms["traffic"]
    assert traffic["fund_traffic_views"].sum() > 0 and none["fund_traffic_views"].sum() == 0
    assert traffic["sp_client_gmv"].sum() > 1.1 * none["sp_client_gmv"].sum()


def test_the_allocators_room_statistics_leave_the_traffic_funds_orders_out(monkeypatch):
    """Under the gmv and trust rules a room is ranked by GMV and satisfied orders per view; the fund's views
    are left out of its views, so its orders must be left out too (else a funded room's score is inflated).
    ``ew_gmv`` stays all of the room's GMV (what a store host weighs against its wage)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the pinned SP count is reported as not proportional
        model = MarketModel(**merge(SP_MARKET, {"days": 40, "platform": {"allocation": "gmv"},
                                                "funds": {**NO_FUNDS, "traffic": 1e12}}))
    seen = {}
    outcomes = MarketModel._seller_outcomes

    def spy(self, d, v, o):
        H = self.hosts
        seen["before"] = {k: getattr(H, k)[: H.n].copy() for k in ("ew_gmv", "ew_organic_gmv", "ew_satisfied")}
        outcomes(self, d, v, o)
        seen["after"] = {k: getattr(H, k)[: seen["before"][k].size].copy() for k in seen["before"]}  # rooms of the day
        seen["orders"] = o

    monkeypatch.setattr(MarketModel, "_seller_outcomes", spy)
    funded = 0
    for _ in range(10):
        model.step()
        o, nh = seen["orders"], seen["before"]["ew_gmv"].size
        a = 1.0 / model.cfg.platform.score_memory
        flow = {k: (seen["after"][k] - (1 - a) * seen["before"][k]) / a for k in seen["before"]}
        gmv, fund = o["fen_gmv"] / 100.0, o["fund"]
        np.testing.assert_allclose(flow["ew_gmv"], np.bincount(o["room"], weights=gmv, minlength=nh), atol=1e-6)
        np.testing.assert_allclose(flow["ew_organic_gmv"],
                                   np.bincount(o["room"][~fund], weights=gmv[~fund], minlength=nh), atol=1e-6)
        np.testing.assert_allclose(flow["ew_satisfied"], np.bincount(o["room"][~fund & ~o["cheated"]], minlength=nh),
                                   atol=1e-6)
        funded += int(fund.sum())
    assert funded > 0  # the fund's views sold something, so the two GMV statistics differ


def _two_sps(capability: tuple[float, float], fee: tuple[float, float], seller_gmv: float):
    """Two SPs and four sellers that all weigh hiring today."""
    from sim.agents import providers as prov
    from sim.agents.sellers import Sellers
    from sim.config import ProvidersConfig

    cfg = ProvidersConfig(match_noise=0.0, client_cost=2.0)
    P = prov.Providers(4)
    P.add(0, {"tier": np.array([2, 2]), "mass": np.array([1.0, 1.0]), "max_clients": np.array([4.0, 4.0]),
              "fee": np.array(fee), **{c: np.array(capability) for c in prov.CAPABILITIES}})
    S = Sellers(8, 1)
    S.add(0, Kind.WHITE_LABEL, 0, {"price": np.full(4, 100.0), "unit_cost": np.full(4, 40.0), "quality": np.full(4, 0.5),
                                   "claim": np.full(4, 0.5), "mass": np.ones(4), "ew_orders": np.full(4, seller_gmv / 100.0)})
    rng = np.random.default_rng(0)
    prov.match(S, P, cfg, 0.05, 1, rng, rng, everyone=True)
    return S, P


def test_sellers_hire_the_more_capable_sp_when_the_uplift_is_worth_the_fee():
    S, P = _two_sps((0.2, 0.8), (0.05, 0.05), seller_gmv=500.0)
    assert P.clients[1] == 4.0 and P.clients[0] == 0.0  # same fee: all go to the capable one
    S, P = _two_sps((0.8, 0.8), (0.05, 0.5), seller_gmv=500.0)
    assert P.clients[1] == 0.0  # a fee above the uplift's worth draws nobody
    S, P = _two_sps((0.2, 0.8), (0.05, 0.05), seller_gmv=1.0)
    assert P.clients[: 2].sum() == 0.0 and (S.sp[:4] < 0).all()  # too small to be worth serving


def test_sp_investment_goes_to_capacity_when_full_and_to_capability_otherwise():
    from sim.agents import providers as prov
    from sim.config import ProvidersConfig

    cfg = ProvidersConfig()
    P = prov.Providers(4)
    caps = {c: np.array([0.3, 0.3]) for c in prov.CAPABILITIES}
    P.add(0, {"tier": np.array([2, 2]), "mass": np.array([1.0, 1.0]), "max_clients": np.array([4.0, 4.0]),
              "fee": np.array([0.05, 0.05]), **caps})
    P.clients[:2] = [4.0, 0.0]  # one full, one empty
    prov.invest(cfg, P, np.array([1e6, 1e6]))
    assert P.max_clients[0] > 4.0 and P.traffic_op[0] == pytest.approx(0.3)
    assert P.max_clients[1] == 4.0 and P.traffic_op[1] > 0.3 and P.capability()[1] > 0.3


def _menswear(belief_orders: float, monkeypatch) -> tuple[float, float, float]:
    """Brands that fit both segments alike but assume an all-male audience (segment 1): the seed's menswear case.

    Returns the brands' mean fit with women and with men after 150 days, and their orders from women.
    """
    base = brands.brand_traits

    def menswear(cfg, rng, k, n_segments, fit_sd):
        t = base(cfg, rng, k, n_segments, fit_sd)
        t["fit"] = np.zeros((k, n_segments))
        t["audience_prior"] = np.tile([0.0, 1.0], (k, 1))
        return t

    monkeypatch.setattr(brands, "brand_traits", menswear)
    model = MarketModel(seed=5, burn_in=0, consumers={"n": 6000}, hosts={"real_n": 7.5e6}, merchants={"real_n": 1.5e7},
                        brands={"real_n": 4e5, "stage_orders": [10.0, 3000.0, 5000.0], "belief_orders": belief_orders,
                                "content_fit_gain": 0.02},
                        providers={"real_n": 0.0}, funds={"cash": 0.0, "traffic": 0.0, "eco": 0.0})
    for _ in range(150):
        model.step()
    S = model.sellers
    b = np.flatnonzero(S.active[: S.n] & (S.kind[: S.n] == Kind.BRAND))
    assert (S.stage[b] >= brands.CONTENT).all()
    return float(S.fit[b, 0].mean()), float(S.fit[b, 1].mean()), float(S.audience_orders[b, 0].sum())


def test_content_search_finds_the_audience_a_brand_did_not_assume(monkeypatch):
    women_fixed, men_fixed, orders_fixed = _menswear(1e12, monkeypatch)  # never updates its guess
    women, men, orders = _menswear(200.0, monkeypatch)  # learns from who actually buys
    assert women_fixed < 1e-6 < men_fixed  # all content effort on men
    assert women > 0.5 * men  # buyers are half women: content for them follows
    assert orders > orders_fixed  # and women's sales take off after retargeting
