"""The market model: a Mesa 3 model whose step is one day.

State lives in vectorised books (:mod:`sim.agents`); hosts and sellers are
also registered as thin Mesa agents for inspection.  :meth:`MarketModel.step`
is the day's schedule; each phase is a short method that calls the module
owning the mechanism (traffic, choice, platform, trust, ledger).
"""

from __future__ import annotations

from typing import Any

import copy
import datetime
import numbers
import pickle
from functools import partial
from pathlib import Path

import mesa
import numpy as np

from sim import demand, kernels, memory, resolution

from sim import platform as plat
from sim import trust as trust_rules
from sim.agents import brands, providers, upgrades
from sim.agents.consumers import Consumers
from sim.agents.follows import FollowGraph
from sim.agents.hosts import HostAgent, Hosts, talent_traits
from sim.agents.providers import ProviderAgent, Providers, provider_traits
from sim.agents.sellers import ENTRY_WAVE, INITIAL, ORGANIC, Kind, SellerAgent, Sellers, white_label_traits
from sim.funds import Funds
from sim.choice import budget_gate, logistic, seller_utility
from sim import __version__
from sim.config import ConfigError, SimConfig, get_key, make_config, to_dict
from sim.output import write_atomic
from sim.ledger import Ledger
from sim.metrics import METRICS, daily_metrics
from sim.rng import Streams
from sim.blocks import blocks
from sim.traffic import Allocator, Boost, rule_scores


def _today(name: str, model: MarketModel) -> float:
    """Today's value of one metric (a data-collector reporter; bound with ``partial`` so the model pickles)."""
    return model.today[name]


CHECKPOINT_FORMAT = 1
#: Keys that fix the initial market: a branch (policy arm) must keep them.
FROZEN_AT_BRANCH = ("seed", "burn_in", "consumers.n", "consumers.scale", "consumers.segments", "platform.users",
                    "hosts.real_n", "hosts.n", "hosts.min_per_tier", "hosts.tier_shares", "hosts.slate_size",
                    "merchants.real_n", "merchants.n", "brands.real_n", "brands.n", "providers.real_n", "providers.n",
                    "providers.tier_shares")


class CheckpointError(ConfigError):
    """A checkpoint that cannot be continued (not one, another version or another configuration)."""


def frozen_change(old: dict[str, Any], new: dict[str, Any], keep_seed: bool = True) -> str | None:
    """The first key of :data:`FROZEN_AT_BRANCH` on which two configs differ (None: ``new`` can branch from ``old``)."""
    for key in FROZEN_AT_BRANCH:
        if (keep_seed or key != "seed") and get_key(old, key) != get_key(new, key):
            return key
    return None


def _first_difference(a: Any, b: Any, prefix: str = "") -> str:
    """The first dotted key where two nested configs differ ('' if equal)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return prefix + k
            d = _first_difference(a[k], b[k], f"{prefix}{k}.")
            if d:
                return d
        return ""
    return "" if a == b else prefix.rstrip(".")


class MarketModel(mesa.Model):
    """A livestream e-commerce market.

    ``MarketModel()`` is the default market; ``MarketModel(config)`` takes a
    :class:`~sim.config.SimConfig` (or mapping / OmegaConf node); keyword
    overrides use the config's nested names, e.g.
    ``MarketModel(seed=3, days=30, consumers={"n": 2000})``.
    """

    def __init__(self, config: SimConfig | dict[str, Any] | None = None, /, *, rng: int | None = None,
                 **overrides: Any) -> None:
        if rng is not None:  # Mesa's batch_run passes the seed as ``rng``
            if isinstance(rng, bool) or not isinstance(rng, numbers.Integral):
                raise ConfigError(f"invalid config: rng = {rng!r}: must be an integer seed (or pass seed=)")
            overrides["seed"] = int(rng)
        cfg = make_config(config, **overrides)
        super().__init__(rng=cfg.seed)
        self.cfg = cfg
        self.streams = Streams(cfg.seed)
        #: The simulated day (0 at initialisation); the burn-in is days 1..burn_in and
        #: reported day r (the metrics' index, the day policies are scheduled on) is ``day = burn_in + r``.
        self.day = 0
        self.t0 = cfg.burn_in
        self.running = True
        self.pops = resolution.plan(cfg)
        scale = cfg.consumers.scale
        self.sample = resolution.describe(self.pops, scale, cfg.min_agents)
        resolution.warn(self.sample, cfg.min_agents, stacklevel=3)
        self.n_segments = len(cfg.consumers.segments)
        self.trust_ref = cfg.consumers.trust_init_mean
        #: Smoothed platform-wide share of orders that met expectation (word of mouth).
        self.reputation = cfg.consumers.trust.satisfaction_ref
        self.consumers = Consumers(cfg.consumers, self.streams)
        self._draw_adoption(np.arange(cfg.consumers.n), 0)
        #: Today's share of users who shop in live rooms and whether today is a festival day (sim.demand).
        self.shop_share, self.festival = 1.0, False
        P = self.pops
        self.sellers = Sellers(2 * (P["merchants"].agents + P["brands"].agents) + 64, self.n_segments)
        self.hosts = Hosts(P["hosts"].agents + int(P["merchants"].agents * cfg.merchants.store_share) + 64,
                           cfg.hosts.slate_size)
        self.providers = Providers(2 * P["providers"].agents + 16)
        self.follows = FollowGraph()
        #: Trust in brands, learned from the consumer's own orders: (consumer, brand awareness slot) -> trust.
        self.brand_trust = FollowGraph(rows=True)  # the day's brand-view pass looks edges up by consumer
        self.allocator = Allocator(cfg.platform)
        self.ledger = Ledger(self.n_segments, len(Kind), n_cohorts=ENTRY_WAVE + len(cfg.brands.entry_waves))
        self.funds = Funds(cfg.funds, scale, resolution.market_share(cfg), cfg.platform.views_per_impression)
        #: Traffic grants for the coming day (live-room views): ads, snowball support, the traffic fund.
        self.boosts: list[Boost] = []
        self.traffic_fund_shown = 0  # live-room views the traffic fund delivered (simulated views)
        self.events: dict[str, float] = {}
        self.sp_matching = providers.Matching(0, 0.0, 0.0)
        self.expected_churn = cfg.consumers.base_churn * cfg.consumers.n  # expected churners of the last day
        self.merchant_turnover = 0.0  # merchants that left yesterday (expected closures + exits + bans)
        #: Arrival references (trust, brand presence): re-anchored when the burn-in ends.
        self.arrival_ref = {"trust": self.trust_ref, "presence": 1.0}
        self._init_hosts()
        self.merchant_mass = float(P["merchants"].masses(scale)[0])
        self.brand_mass = float(P["brands"].masses(scale)[0]) if P["brands"].agents else 1.0
        init = self.streams.get("init.merchants")
        ids = self._add_merchants(init, P["merchants"].agents, INITIAL)
        self._give_ages(init, ids, self.sellers, self.cfg.merchants.exit_patience)
        self._add_brands(self.streams.get("init.brands"), P["brands"].agents, INITIAL, self.brand_mass)
        self._init_follows()
        rng = self.streams.get("init.providers")
        sp = P["providers"]
        ids = self.providers.add(self.day, provider_traits(cfg.providers, rng, sp.stratum_of_each(),
                                                           sp.masses(scale)[sp.stratum_of_each()]))
        self._give_ages(rng, ids, self.providers, cfg.providers.exit_patience)
        for i in ids:
            ProviderAgent(self, i)
        self.hosts.review(cfg.hosts, self.sellers, self.streams.get("host.review", self.day), self.day,
                          plat.demotion_multiplier(cfg.platform, self.sellers, self.day))
        # growth channels act relative to the brand presence the market starts with
        k0 = self.brand_presence()
        self._presence0 = k0  # the viewing channel's reference presence
        self.today: dict[str, float] = dict.fromkeys(METRICS, 0.0)
        self.datacollector = mesa.DataCollector(model_reporters={name: partial(_today, name) for name in METRICS})
        self._burn_in_rows: list[dict[str, float]] = []
        for _ in range(cfg.burn_in):  # outside Mesa's clock: model.steps and model.time count reported days
            self._day()

    # ------------------------------------------------------------------ set-up
    def _init_hosts(self) -> None:
        hosts = self.pops["hosts"]
        tier = hosts.stratum_of_each()
        t = talent_traits(self.cfg.hosts, self.streams.get("init.hosts"), tier)
        self.add_hosts(**t, mass=hosts.masses(self.cfg.consumers.scale)[tier])

    @staticmethod
    def _give_ages(rng: np.random.Generator, ids: np.ndarray, book: Any, patience: int) -> None:
        """Initial agents have been in business for a while: random ages and loss streaks, so no cohort exits together."""
        book.entered[ids] -= rng.integers(0, 3 * 365, ids.size)
        book.loss_days[ids] = rng.integers(0, patience, ids.size)

    def add_hosts(self, tier: np.ndarray, persona: np.ndarray, popularity: np.ndarray, commission: np.ndarray,
                  broadcast_prob: np.ndarray, mass: np.ndarray, employer: np.ndarray | None = None) -> np.ndarray:
        """Enter hosts (talent hosts, or store accounts of ``employer``) with their Mesa views."""
        ids = self.hosts.add(tier, persona, popularity, commission, broadcast_prob, mass, employer=employer)
        for i in ids:
            HostAgent(self, i)
        return ids

    def _open_stores(self, owners: np.ndarray, tier: int, persona: float, per_owner: int = 1) -> np.ndarray:
        """Store accounts (self-broadcast channel) for ``owners``: no commission, the owner's goods only.

        A store account stands for its owner's real sellers' accounts: it carries the owner's mass.
        """
        owners = np.repeat(owners, per_owner)
        k, hc = owners.size, self.cfg.hosts
        if k == 0:
            return owners
        return self.add_hosts(np.full(k, tier, np.int8), np.full(k, persona),
                              np.full(k, 0.5 * hc.tier_popularity[tier]), np.zeros(k),
                              np.full(k, hc.tier_broadcast_prob[tier]), self.sellers.mass[owners], employer=owners)

    def _add_merchants(self, rng: np.random.Generator, k: int, cohort: int) -> np.ndarray:
        """Enter ``k`` white-label merchants; a ``store_share`` of them open a store account."""
        m = self.cfg.merchants
        traits = white_label_traits(m, rng, k, self.n_segments)
        traits["mass"] = np.full(k, self.merchant_mass)
        store = rng.random(k) < m.store_share
        ids = self.sellers.add(self.day, Kind.WHITE_LABEL, cohort, traits)
        for i in ids:
            SellerAgent(self, i)
        self._open_stores(ids[store], tier=2, persona=0.0)
        return ids

    def _add_brands(self, rng: np.random.Generator, k: int, cohort: int, mass: float) -> np.ndarray:
        """Enter ``k`` traditional brands of ``mass``; each opens an awareness slot known to ``aware_share`` of a segment."""
        b = self.cfg.brands
        traits = brands.brand_traits(b, rng, k, self.n_segments, self.cfg.merchants.segment_fit_sd)
        traits["mass"] = np.full(k, mass)
        traits["budget"] = traits["budget"] * mass  # the agent's budget: its real brands' budgets together
        ids = self.sellers.add(self.day, Kind.BRAND, cohort, traits)
        self.sellers.stage_day[ids] = self.day
        C = self.consumers
        for i in ids:  # awareness draws keyed by the brand's stable origin: paired across arms
            rng = self.streams.get("brand.awareness", 0, key=int(self.sellers.origin[i]))
            self.sellers.aware_slot[i] = C.new_brand_slot(rng, b.aware_share)
            SellerAgent(self, i)
        return ids

    def _init_follows(self) -> None:
        """Each initial consumer follows Poisson(follows_init) talent hosts, picked by popularity x mass."""
        c, rng = self.cfg.consumers, self.streams.get("init.follows")
        n = self.consumers.n
        k = rng.poisson(c.follows_init, n)
        who = np.repeat(np.arange(n), k)
        talent = np.flatnonzero(~self.hosts.is_store)  # stores start without followers
        pop = self.hosts.popularity[talent] * self.hosts.mass[talent]
        host = talent[rng.choice(talent.size, size=who.size, p=pop / pop.sum())]
        m = c.host_trust_init_mean
        conc = c.trust_init_conc
        trust = rng.beta(max(m * conc, 1e-9), max((1 - m) * conc, 1e-9), who.size)
        self.follows.add(who, host, trust)

    # ------------------------------------------------------------------ the day
    def step(self) -> None:
        """One reported day (Mesa's step: ``steps`` and ``time`` count reported days, not the burn-in)."""
        self._day()

    def _day(self) -> None:
        """One day: entry, contracts, slates, traffic, choice, delivery, accounting, learning, exits."""
        memory.keep_freed_memory()  # once per process: the day's temporaries reuse freed memory (sim.memory)
        self.day += 1
        d = self.day
        r = d - self.t0  # the reported day
        if r == 1:
            self._end_burn_in()
        self.events = dict.fromkeys(("hosts_poached", "followers_poached", "upgrades", "stores_opened"), 0)
        self.ledger.begin_day()
        self.funds.begin_day()
        self.shop_share, self.festival = demand.today(self.cfg, r)
        self._arrivals(d)
        self._seller_entry(d)
        self._sp_market(d)
        demotion = plat.demotion_multiplier(self.cfg.platform, self.sellers, d)
        self.hosts.review(self.cfg.hosts, self.sellers, self.streams.get("host.review", d), d,
                          demotion * brands.host_willingness(self.cfg.brands, self.sellers),
                          brands.extra_commission(self.cfg.brands, self.sellers))
        live = self.hosts.schedule(self.streams.get("host.schedule", d))
        self._plan_boosts(d, live)
        visits = self._visits(d, live, demotion)
        orders = self._orders(d, visits)
        self._learn(d, visits, orders)
        self._seller_outcomes(d, visits, orders)
        self._providers_and_funds(d, orders)
        self._quality_control(d)
        self.today = daily_metrics(self, visits, orders)
        if r >= 1:  # the burn-in is not reported, but kept for its diagnostics (burn_in_frame)
            self.datacollector.collect(self)
        else:
            self._burn_in_rows.append(self.today)
        self.boosts = []
        self.running = r < self.cfg.days

    @property
    def reported_day(self) -> int:
        """The day as metrics and policies count it (<= 0 during the burn-in)."""
        return self.day - self.t0

    def _end_burn_in(self) -> None:
        """Reported days begin: arrivals respond to trust and brand presence relative to the burned-in market."""
        if self.consumers.active[: self.consumers.n].any():
            self.arrival_ref = self._arrival_state()

    def _arrival_state(self) -> dict[str, float]:
        """What arrivals respond to: mean platform trust of active consumers and the brand-presence factor."""
        C = self.consumers
        return {"trust": float(C.trust[: C.n][C.active[: C.n]].mean()),
                "presence": 1.0 + self.cfg.brands.presence_arrival_strength * self.brand_presence()}

    def _arrivals(self, d: int) -> None:
        """New consumers replace the expected churn and add the net growth trend.

        ``lambda = (expected churners yesterday + g_day * active) * (trust / trust_ref) ** e * presence / presence_ref``
        with ``g_day = (1 + consumers.growth) ** (1/365) - 1``; the trust and
        presence factors are 1 during the burn-in and relative to the burned-in
        market afterwards, so a policy that raises trust or brand presence grows
        the user base and, at ``growth = 0``, the market is otherwise stationary.
        """
        C, cfg = self.consumers, self.cfg
        act = C.active[: C.n]
        n_act = int(act.sum())
        lam = self.expected_churn + resolution.annual_factor(cfg.consumers.growth) * n_act
        if d > self.t0 and n_act:
            ref, now = self.arrival_ref, self._arrival_state()
            lam *= (now["trust"] / ref["trust"]) ** cfg.consumers.arrival_trust_elasticity
            if cfg.brands.presence_arrivals:
                lam *= now["presence"] / ref["presence"]
        rng = self.streams.get("arrivals", d)
        k = int(rng.poisson(max(lam, 0.0)))
        slots = C.arrive(rng, k, d)
        self._draw_adoption(slots, d)
        self.events["new_consumers"] = slots.size
        C.refill_wallets()

    def _draw_adoption(self, slots: np.ndarray, d: int) -> None:
        """Adoption ranks of consumers arriving in ``slots`` on day ``d`` (only when adoption is on)."""
        if self.cfg.consumers.adoption.enabled and slots.size:
            self.consumers.adopt[slots] = self.streams.get("adoption", d).random(slots.size)

    def _seller_entry(self, d: int) -> None:
        """Organic white-label entry, and brand entry waves scheduled for today."""
        rng = self.streams.get("merchant.entry", d)
        # a going concern: new merchants replace yesterday's closures, exits and bans, close a gap to the
        # market's merchant population (the platform's merchants per user x active users) over entry_lag days,
        # and add a net inflow
        m = self.cfg.merchants
        C, S = self.consumers, self.sellers
        target = self.pops["merchants"].agents * C.active[: C.n].sum() / self.cfg.consumers.n
        active = float((S.active[: S.n] & (S.kind[: S.n] != Kind.BRAND)).sum())
        lam = self.merchant_turnover + max(target - active, 0.0) / m.entry_lag + m.entry_rate * self.pops["merchants"].agents
        k = int(rng.poisson(lam))
        if k:
            self._add_merchants(rng, k, ORGANIC)
        entered = k * self.merchant_mass
        for i, (day, real) in enumerate(self.cfg.brands.entry_waves):
            if day != d - self.t0 or real <= 0:
                continue
            agents, mass = self.wave_agents(real)
            if agents:
                self._add_brands(self.streams.get("brand.entry", d, key=i), agents, ENTRY_WAVE + i, mass)
                entered += agents * mass
        self.events["sellers_entered"] = entered

    def wave_agents(self, real: int) -> tuple[int, float]:
        """Brand agents for an entry wave of ``real`` brands entering the whole platform, and their mass.

        The market gets its share of the wave at the brands' ratio; the mass
        absorbs rounding so that the wave's real size is kept exactly.
        """
        scale = self.cfg.consumers.scale
        in_market = real * resolution.market_share(self.cfg)
        agents = max(int(round(in_market / (self.brand_mass * scale))), 1)
        return agents, in_market / (agents * scale)

    def _plan_boosts(self, d: int, live: np.ndarray) -> None:
        """Today's traffic grants: brands' ads, snowball support, the SP traffic fund."""
        S, H, b = self.sellers, self.hosts, self.cfg.brands
        slate = H.slate[live]
        rows, cols = np.nonzero(slate >= 0)
        room, seller = live[rows], slate[rows, cols]
        n = S.n
        brand = S.active[:n] & (S.kind[:n] == Kind.BRAND)
        ads = brand & (S.stage[:n] <= brands.CONTENT) & (S.budget[:n] > 0)
        snow = brand & (S.stage[:n] == brands.SNOWBALL)
        vpi = self.cfg.platform.views_per_impression
        ad_views = brands.ad_budget(b, S.budget[:n], S.mass[:n]) / self.view_price()  # views each brand's ads buy
        for i in np.flatnonzero(ads | snow):
            rooms = room[seller == i]
            if rooms.size == 0:
                continue
            items = np.full(rooms.size, i)
            plan = int(ad_views[i])
            if ads[i] and plan:
                self.boosts.append(Boost(f"ads:{i}", rooms, plan, items=items))
            support = int(b.snowball_boost * vpi * S.mass[i])
            if snow[i] and support >= 1:
                self.boosts.append(Boost(f"snowball:{i}", rooms, support, items=items))
        offer = self.funds.traffic_grant(d - self.t0)
        sp = S.sp[seller]
        client = sp >= 0
        if offer and client.any():
            served = S.sp_share[seller[client]]
            weights = served * (1.0 + self.cfg.providers.traffic_uplift * self.providers.traffic_op[sp[client]])
            self.boosts.append(Boost("fund_traffic", room[client], offer, weights, items=seller[client]))

    def public_view_rate(self, blk: slice | None = None) -> np.ndarray:
        """Expected public-domain impressions today of each consumer in ``blk`` (all slots: None; section 3.3.3)."""
        b = self.cfg.brands
        load = self.cfg.platform.feed_load / (1.0 + b.presence_view_strength * self._presence0
                                              if b.presence_viewing else 1.0)
        lam = self.consumers.view_factor(self.trust_ref, b.presence_view_strength * b.presence_viewing, blk)
        lam *= load
        return lam

    def view_price(self) -> float:
        """Yuan per live-room view bought as ads: the CPM over 1000 feed impressions and their click-through."""
        return self.cfg.brands.ad_cpm / 1000.0 / self.cfg.platform.views_per_impression

    def _visits(self, d: int, live: np.ndarray, demotion: np.ndarray) -> dict[str, np.ndarray]:
        """Private-domain visits to followed live hosts, then allocated public-domain impressions."""
        cfg, C, H, F = self.cfg, self.consumers, self.hosts, self.follows
        # private domain: each follow edge to a live host is a visit with prob ~ trust in the host
        edge = kernels.private_visits(self.streams.get("private", d), F.key, F.trust, H.live[: H.n],
                                      cfg.consumers.visit_prob / cfg.consumers.host_trust_init_mean)
        # public domain: impressions demanded (stochastic rounding of the rate, one draw per consumer)
        demand, rv = np.empty(C.n, np.int64), self.streams.get("viewing", d)
        for blk in blocks(C.n):  # cache blocking (sim.blocks)
            lam = self.public_view_rate(blk)
            x = rv.random(lam.size)
            x += lam
            demand[blk] = np.floor(x, out=x)
        rng = self.streams.get("allocation", d)
        slate = H.slate[live]
        carried = slate >= 0
        traffic_op = np.where(carried, providers.service(self.sellers, self.providers, "traffic_op")[np.maximum(slate, 0)],
                              0.0).max(axis=1, initial=0.0)
        room_mult = np.where(carried, demotion[np.maximum(slate, 0)], 1.0).min(axis=1, initial=1.0)
        room_mult *= 1.0 + cfg.providers.traffic_uplift * traffic_op
        mass = H.mass[live]
        room_mult *= mass  # a room draws the traffic of the real rooms it stands for
        scores = rule_scores(cfg.platform.allocation, H.ew_visits[live] / mass, H.ew_orders[live] / mass,
                             H.ew_organic_gmv[live] / mass, H.ew_satisfied[live] / mass)
        weights = self.allocator.weights(scores, room_mult)
        local = np.full(H.n, -1, np.int64)
        local[live] = np.arange(live.size)
        boosts = []
        for bo in self.boosts:
            pos = local[bo.rooms]
            keep = pos >= 0
            boosts.append(Boost(bo.name, pos[keep], bo.impressions, None if bo.weights is None else bo.weights[keep],
                                None if bo.items is None else bo.items[keep]))
        pub_c, slot, promoted = self.allocator.allocate(rng, demand, weights, boosts)
        fund_boosts = [k for k, bo in enumerate(boosts) if bo.name == "fund_traffic"]  # one a day at most
        for bo, lb in zip(self.boosts, boosts):
            bo.granted = lb.granted
        self._charge_boosts()
        # who watched today: everyone served a public impression, and every private visitor
        seen = demand > 0 if pub_c.size else np.zeros(C.n, bool)
        visitor = F.key[edge] >> 32  # the private visitors (an edge's key is consumer << 32 | host)
        seen[visitor] = True
        self.events["watchers"] = int(np.count_nonzero(seen))
        n_priv = edge.size  # private visits first, then public impressions
        self.events["private_visits"] = n_priv
        consumer = np.empty(n_priv + pub_c.size, np.int64)
        consumer[:n_priv], consumer[n_priv:] = visitor, pub_c
        room, seller = np.empty(consumer.size, np.int64), np.empty(consumer.size, np.int64)
        edges = np.full(room.size, -1, np.int32)  # follow edges are far fewer than 2**31
        edges[:n_priv] = edge
        private = np.zeros(room.size, bool)
        private[:n_priv] = True
        fund = np.zeros(room.size, bool)
        # which of the room's items is on screen when the viewer enters (one uniform per view, in view order)
        n_items, slate, width = H.slate_size().astype(np.float64), H.slate.ravel().astype(np.int64), H.slate.shape[1]
        rs = self.streams.get("slot", d)
        room[:n_priv] = F.key[edge] & 0xFFFFFFFF  # their hosts
        kernels.on_screen(rs, room[:n_priv], n_items, slate, width, seller[:n_priv])
        fund_boost = fund_boosts[0] if fund_boosts else -1
        at = slice(n_priv, None)
        kernels.public_views(rs, slot, live, promoted, self.allocator.source, fund_boost, n_items,
                             slate, width, room[at], seller[at], fund[at])
        return {
            "consumer": consumer,
            "room": room,
            "seller": seller,
            "private": private,
            "edge": edges,
            # views the SP traffic fund granted: shown to whoever the grant reaches, not the seller's audience
            "fund": fund,
        }

    def _charge_boosts(self) -> None:
        """Brands pay for the ad impressions shown; the traffic fund is charged what it delivered."""
        S, b = self.sellers, self.cfg.brands
        self._ads_paid = np.zeros(S.n)
        for bo in self.boosts:
            kind, _, who = bo.name.partition(":")
            if kind == "ads" and bo.granted:
                cost = bo.granted * self.view_price()
                self._ads_paid[int(who)] += cost
                self.ledger.side("ads", cost)
                S.ads[int(who)] += cost
            elif kind == "fund_traffic":
                self.funds.traffic_used(bo.granted)
                self.traffic_fund_shown += bo.granted

    def _orders(self, d: int, v: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Choice, budget, delivery, settlement and booking of the day's orders."""
        cfg, C, S, H, F = self.cfg, self.consumers, self.sellers, self.hosts, self.follows
        c, s, h = v["consumer"], v["seller"], v["room"]
        # trust behind each view: platform trust, mixed with trust in the host for private visits (which come
        # first: _visits) and with the viewer's own trust in a brand bought before (the brand-trust graph)
        n_priv = self.events["private_visits"]  # the first views (_visits)
        host_trust = F.trust[v["edge"][:n_priv]]
        table = seller_utility(cfg.choice, S)  # (seller, segment): a small table, one gather per view
        table += (cfg.providers.conversion_uplift * providers.service(S, self.providers, "room_op"))[:, None]
        kind = S.kind[: S.n]
        bw, BT = cfg.choice.brand_trust_weight, self.brand_trust
        bt = (BT.rows(), BT.key, BT.trust) if bw > 0 else (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
        # a brand's own store room sells below the list price hosts sell at
        discounted = brands.self_broadcasting(cfg.brands, S)
        store_room = (H.employer[: H.n] >= 0) & discounted.any()  # a view in a store room of a discounting brand
        log_price = np.log(S.price[: S.n])  # (seller, sold in its own store): list and store log price
        log_price = np.stack([log_price, log_price + np.log1p(-cfg.brands.self_broadcast_discount)], axis=1).ravel()
        room_term = cfg.choice.w_persona * H.persona[: H.n]
        guarantees = plat.active_guarantees(cfg.platform)
        # the logit over every view, with its brand term and the viewer's own brand trust, in one compiled
        # pass (sim.kernels); then the logistic for the few views whose draw can fall below it
        cand, draw, u, trust, store_sale, branded, sb = kernels.purchase_candidates(
            self.streams.get("choice", d), c, s, h, n_priv, host_trust, cfg.choice.private_host_weight,
            kind != Kind.WHITE_LABEL, kind == Kind.BRAND, S.aware_slot[: S.n], C.aware, C.brand_affinity,
            cfg.choice.w_awareness, *bt, bw, C.trust, C.segment, C.price_sens, table.ravel(), table.shape[1],
            store_room, discounted, room_term, log_price,
            cfg.choice.intercept + cfg.choice.w_guarantee * guarantees
            + (cfg.platform.festival_lift if self.festival else 0.0), cfg.choice.w_trust)
        self._brand_views = branded, sb  # for _learn_awareness, which drops it
        buy = draw < logistic(u)
        if cfg.consumers.adoption.enabled:  # only adopters shop (sim.demand): P(buy) = 0 for the others
            buy &= C.adopt[c[cand]] < self.shop_share
        intent, trust, store_sale = cand[buy], trust[buy], store_sale[buy]
        # prices are whole fen, so wallets and the ledger agree exactly
        price = np.round(S.price[s[intent]] * np.where(store_sale, 1.0 - cfg.brands.self_broadcast_discount,
                                                          1.0), 2)
        # the choice set is what the viewer can afford now: no intent for goods the wallet cannot pay (the
        # consumer saves up until the item is in reach); filtering the drawn intents is the same as
        # setting P(buy) = 0 for unaffordable views, and touches only the few views that would buy
        affordable = price <= C.wallet[c[intent]] + 1e-9
        intent, price, trust = intent[affordable], price[affordable], trust[affordable]
        room = h[intent].copy()
        store_of = self._store_of() if discounted.any() else None
        diverted = self._divert(d, intent, c, s, h, trust, discounted, store_of)
        if diverted.any():  # bought in the brand's own store instead, at its price
            room[diverted] = store_of[s[intent[diverted]]]
            price[diverted] = np.round(S.price[s[intent[diverted]]] * (1.0 - cfg.brands.self_broadcast_discount), 2)
        ok = budget_gate(self.streams.get("budget", d), c[intent], price, C.wallet)
        self.events["intents"], self.events["budget_rejected"] = intent.size, int(intent.size - ok.sum())
        o = {name: v[name][intent[ok]] for name in v}
        o["price"] = price[ok]
        o["room"] = room[ok]
        o["diverted"] = diverted[ok]
        o["edge"] = np.where(o["diverted"], -1, o["edge"])  # bought elsewhere: no lesson about the host
        self.events["diverted"] = int(o["diverted"].sum())
        oc, os_, oh = o["consumer"], o["seller"], o["room"]
        buyers, counts = np.unique(oc, return_counts=True)
        C.record_orders(buyers, counts, d)
        self.events["buyers"] = buyers.size
        # delivery and the expectation gap
        rng = self.streams.get("delivery", d)
        delivered = S.quality[os_] + cfg.merchants.delivery_sd * rng.standard_normal(oc.size)
        o["cheated"] = S.claim[os_] - delivered > C.gap_tol[oc]
        st = plat.settle(cfg.platform, self.streams.get("refund", d), o["price"], o["cheated"], S.fraud[os_])
        o["refunded"], o["compensated"] = st.refunded, st.compensated
        o["compensation"] = st.compensation
        C.settle_orders(oc, o["price"], st.refunded, o["cheated"], st.compensation + st.shipping_comp)
        self.ledger.side("compensation", st.compensation)
        self.ledger.side("shipping_comp", st.shipping_comp)
        o["channel"] = (H.employer[oh] >= 0).astype(np.int64)
        o["sp"] = S.sp[os_]
        commission = H.commission[oh] + np.where(o["channel"] == 0, brands.extra_commission(cfg.brands, S)[os_], 0.0)
        fee = providers.fee_rate(S, self.providers, os_)
        split = self.ledger.post(C.segment[oc], S.kind[os_], o["channel"], S.cohort[os_], o["price"],
                                 commission, cfg.platform.take_rate, fee, st.refunded)
        o.update({f"fen_{k}": val for k, val in split.items()})
        return o

    def _store_of(self) -> np.ndarray:
        """An active store account of each seller (-1 where it has none)."""
        H, S = self.hosts, self.sellers
        emp = H.employer[: H.n]
        stores = np.flatnonzero((emp >= 0) & H.active[: H.n])
        out = np.full(S.n, -1, np.int64)
        out[emp[stores]] = stores
        return out

    def _divert(self, d: int, intent: np.ndarray, c: np.ndarray, s: np.ndarray, h: np.ndarray, trust: np.ndarray,
                discounted: np.ndarray, store_of: np.ndarray | None) -> np.ndarray:
        """Intents in talent hosts' rooms that move to the self-broadcasting brand's store (``brands.divert``).

        ``trust`` is the trust behind each intent (aligned with ``intent``).
        """
        out = np.zeros(intent.size, bool)
        if store_of is None:
            return out
        C, S, H = self.consumers, self.sellers, self.hosts
        ci, si, hi = c[intent], s[intent], h[intent]
        cand = np.flatnonzero(discounted[si] & (H.employer[hi] < 0) & (store_of[si] >= 0))
        cand = cand[C.is_aware(ci[cand], S.aware_slot[si[cand]])]  # one must know the brand to look for its store
        if cand.size:
            out[cand] = brands.divert(self.cfg.brands, self.cfg.choice, self.streams.get("diversion", d),
                                      C.price_sens[ci[cand]], trust[cand], C.trust[ci[cand]],
                                      H.persona[hi[cand]], H.persona[store_of[si[cand]]])
        return out

    def _learn(self, d: int, v: dict[str, np.ndarray], o: dict[str, np.ndarray]) -> None:
        """Trust, awareness, follows and churn respond to the day's outcomes."""
        cfg, C, F, S = self.cfg, self.consumers, self.follows, self.sellers
        tc = cfg.consumers.trust
        n = C.n
        cheated, oc = o["cheated"], o["consumer"]
        log_keep = trust_rules.loss_log_keep(tc, o["refunded"], o["compensated"])
        # platform trust: every order counts (updated only where there were orders)
        self._learn_from_orders(C.trust, oc, cheated, log_keep, tc.gain)
        if cfg.brands.spillover:  # endorsement: a good brand order lifts trust in the whole platform
            good_brand = (S.kind[o["seller"]] == Kind.BRAND) & ~cheated
            trust_rules.endorse(C.trust, oc[good_brand], cfg.brands.spillover_strength)
        self._learn_awareness(d, v, o)
        self.reputation = trust_rules.update_reputation(self.reputation, int((~cheated).sum()), oc.size, tc)
        noise = tc.noise_sd * self.streams.get("trust_noise", d).standard_normal(n) if tc.noise_sd > 0 else None
        for blk in blocks(n):  # forgetting and word of mouth apply in place, block by block (sim.blocks)
            t = C.trust[blk]
            trust_rules.drift(t, C.trust0[blk], tc, self.reputation, out=t)
            if noise is not None:
                t += noise[blk]
            np.clip(t, 0.0, 1.0, out=t)
        # host trust: orders through a followed host's room in the private domain
        e = o["edge"]
        pe = e >= 0
        self._learn_from_orders(F.trust, e[pe], cheated[pe], log_keep[pe], tc.gain)
        # follows: satisfied public-domain buyers may follow the room; cheated followers may leave
        rng = self.streams.get("follow", d)
        u = rng.random((2, oc.size))
        pub_good = ~o["private"] & ~cheated & (u[0] < cfg.consumers.follow_prob)
        unfollow = np.zeros(len(F), bool)
        unfollow[e[pe & cheated & (u[1] < cfg.consumers.unfollow_prob)]] = True
        # follows also lapse without cause (interest fades): without it the follow graph only grows
        if cfg.consumers.follow_decay > 0 and len(F):
            rd = self.streams.get("follow.decay", d)
            lapse = rd.choice(len(F), size=int(rd.binomial(len(F), cfg.consumers.follow_decay)), replace=False)
            unfollow[lapse] = True
        self.events["unfollows"] = int(unfollow.sum())
        # churn; the consumers who leave take their follows and brand experience with them
        cheated_today = np.bincount(oc[cheated], minlength=n)
        gone, self.expected_churn = C.churn(self.streams.get("churn", d), cheated_today, d)
        self.events["churned"] = gone.size
        # the day's follow-graph edits in one pass (sim.agents.follows): lapses, new follows, churn
        self.events["follows"] = F.edit(drop=unfollow, consumer=oc[pub_good], host=o["room"][pub_good],
                                        trust=np.minimum(1.0, C.trust[oc[pub_good]]
                                                         * cfg.consumers.host_trust_init_mean / self.trust_ref),
                                        drop_consumers=gone)
        # brand trust: a branded order starts the buyer's trust in the brand at its platform trust, then teaches
        # it; the day's trust of each (buyer, brand) is computed first, then one pass writes it into the graph
        # and drops the brand trust of buyers who left today, in the background (sim.agents.follows)
        slot = S.aware_slot[o["seller"]]
        b = slot >= 0
        BT = self.brand_trust
        if b.any() or (gone.size and len(BT)):
            pair, inv = np.unique((oc[b].astype(np.int64) << 32) | slot[b], return_inverse=True)
            who, brand = pair >> 32, pair & 0xFFFFFFFF
            at = BT.find(who, brand)
            start = C.trust[who]
            start[at >= 0] = BT.trust[at[at >= 0]]
            BT.edit(consumer=who, host=brand, drop_consumers=gone, replace=True, background=True,
                    trust=self._learned(start, inv, cheated[b], log_keep[b], tc.gain))

    def _learn_awareness(self, d: int, v: dict[str, np.ndarray], o: dict[str, np.ndarray]) -> None:
        """Viewers may learn a brand they saw; buyers learn it."""
        C, S = self.consumers, self.sellers
        shown = self.__dict__.pop("_brand_views", None)  # views of branded sellers and their sellers (_orders)
        if shown is None:
            shown = np.flatnonzero((S.aware_slot[: S.n] >= 0)[v["seller"]])
            shown = shown, v["seller"][shown]
        # one uniform per view of a brand with a slot (white-label sellers hold none), in view order; the
        # buyers know what they bought
        C.learn_from_views(self.streams.get("awareness", d), v["consumer"], *shown, S.aware_slot,
                           self.cfg.brands.awareness_per_view)
        C.make_aware(o["consumer"], S.aware_slot[o["seller"]])

    @staticmethod
    def _learn_from_orders(trust: np.ndarray, who: np.ndarray, cheated: np.ndarray, log_keep: np.ndarray,
                           gain: float) -> None:
        """Apply the day's satisfying and cheating orders of each ``who`` to ``trust`` in place."""
        if who.size == 0:
            return
        ids, inv = np.unique(who, return_inverse=True)
        trust[ids] = MarketModel._learned(trust[ids], inv, cheated, log_keep, gain)

    @staticmethod
    def _learned(start: np.ndarray, group: np.ndarray, cheated: np.ndarray, log_keep: np.ndarray,
                 gain: float) -> np.ndarray:
        """Trust after the day's orders, from ``start`` (one entry per group; orders belong to ``group``)."""
        good = np.bincount(group[~cheated], minlength=start.size)
        keep = np.bincount(group[cheated], weights=log_keep[cheated], minlength=start.size)
        return np.clip(trust_rules.update(start, good, keep, gain), 0.0, 1.0)

    def _seller_outcomes(self, d: int, v: dict[str, np.ndarray], o: dict[str, np.ndarray]) -> None:
        """Running statistics, income, profit and loss-driven exit of sellers and hosts."""
        cfg, S, H = self.cfg, self.sellers, self.hosts
        ns, nh = S.n, H.n
        a_s, a_h = 1.0 / cfg.merchants.profit_memory, 1.0 / cfg.platform.score_memory
        os_, oh = o["seller"], o["room"]
        gmv = o["fen_gmv"] / 100.0
        refunded = o["refunded"]
        kept = ~refunded
        orders = np.bincount(os_, minlength=ns)
        # conversion statistics hosts and the allocator judge by leave out the traffic fund's views: shown to
        # whoever the grant reaches, they would dilute them and punish the very sellers the fund supports
        n_fund = int(np.count_nonzero(v["fund"]))
        funded = n_fund > 0
        organic_o = ~o["fund"] if funded else slice(None)
        ew_views, hv = kernels.organic_views(v["seller"], v["room"], v["fund"], ns, nh)  # the fund's views left out
        # the public impressions as the rooms recorded them (their views less the private visits, plus the
        # fund's): sim.checks compares it with the impressions the allocator was asked to serve
        self.events["views_allocated"] = int(hv.sum()) - self.events["private_visits"] + n_fund
        ew_orders = np.bincount(os_[organic_o], minlength=ns) if funded else orders
        refunds = np.bincount(os_[refunded], minlength=ns)
        unit = S.unit_cost[:ns]
        revenue = np.bincount(os_, weights=o["fen_merchant"], minlength=ns) / 100.0
        cost = unit * (np.bincount(os_[kept], minlength=ns)
                       + cfg.merchants.return_loss_share * refunds)
        comp = np.bincount(os_, weights=o["compensation"], minlength=ns)
        fixed = np.where(S.kind[:ns] == Kind.BRAND, cfg.brands.fixed_cost, cfg.merchants.fixed_cost) * S.mass[:ns]
        profit = np.where(S.active[:ns], revenue - cost - comp - fixed - self._ads_paid[:ns], 0.0)
        profit -= upgrades.invest(cfg.upgrade, S, self.ledger, profit)
        S.budget[:ns] += np.where(S.kind[:ns] == Kind.BRAND, profit, 0.0)  # the entry budget absorbs results
        host_orders = np.bincount(os_[o["channel"] == 0], minlength=ns)
        diverted = np.bincount(os_[o["diverted"]], minlength=ns)
        for col, x in ((S.ew_views, ew_views), (S.ew_orders, ew_orders), (S.ew_refunds, refunds),
                       (S.ew_profit, profit), (S.ew_host_orders, host_orders), (S.ew_diverted, diverted)):
            col[:ns] += a_s * (x - col[:ns])
        S.gmv[:ns] += np.bincount(os_, weights=gmv, minlength=ns)
        own = o["channel"] == 1
        S.gmv_self[:ns] += np.bincount(os_[own], weights=gmv[own], minlength=ns)
        S.orders[:ns] += orders
        S.profit[:ns] += profit
        # hosts: traffic statistics the allocator ranks rooms by, and income
        # what the allocator ranks rooms by leaves the fund's orders out, as their views (MODEL.md 3.3.17)
        room_gmv = np.bincount(oh, weights=gmv, minlength=nh)
        organic_gmv = np.bincount(oh[organic_o], weights=gmv[organic_o], minlength=nh) if funded else room_gmv
        satisfied = ~o["cheated"] & ~o["fund"] if funded else ~o["cheated"]
        hstats = ((H.ew_visits, hv), (H.ew_orders, np.bincount(oh[organic_o], minlength=nh)),
                  (H.ew_gmv, room_gmv), (H.ew_organic_gmv, organic_gmv),
                  (H.ew_satisfied, np.bincount(oh[satisfied], minlength=nh)))
        for col, x in hstats:
            col[:nh] += a_h * (x - col[:nh])
        H.income[:nh] += np.bincount(oh, weights=o["fen_commission"], minlength=nh) / 100.0
        H.gmv[:nh] += np.bincount(oh, weights=gmv, minlength=nh)
        # exit: merchants after sustained losses, brands when the entry budget is spent without traction
        act = S.active[:ns]
        losing = act & (S.ew_profit[:ns] < 0)
        S.loss_days[:ns] = np.where(losing, S.loss_days[:ns] + 1, 0)
        exits = np.flatnonzero(act & (S.loss_days[:ns] >= cfg.merchants.exit_patience)
                               & (S.kind[:ns] != Kind.BRAND))
        # merchants also close for reasons outside the market (owners retire, move on): the turnover that,
        # with entry, keeps the merchant population and its quality distribution stationary
        lineage = act & (S.kind[:ns] != Kind.BRAND)  # white-label merchants and the new brands they became
        quit_ = lineage & (self.streams.get("merchant.exit", d).random(ns) < cfg.merchants.exit_hazard)
        self.merchant_turnover = cfg.merchants.exit_hazard * float(lineage.sum()) + float(
            np.setdiff1d(exits, np.flatnonzero(quit_)).size)
        exits = np.union1d(exits, np.flatnonzero(quit_))
        stopped = brands.exits(cfg.brands, S, d)
        self.events["brands_exited"] = float(S.mass[stopped].sum())
        exits = np.union1d(exits, stopped)
        self._remove_sellers(exits, d, banned=False)
        self.events["sellers_exited"] = float(S.mass[exits].sum())  # in real sellers / scale
        # STEPS, store openings, poaching, upgrades
        segment_orders = np.bincount(os_ * self.n_segments + self.consumers.segment[o["consumer"]],
                                     minlength=S.n * self.n_segments).reshape(S.n, self.n_segments)
        opening = brands.advance_steps(cfg.brands, S, self.providers, self.hosts, d, orders, segment_orders)
        self._open_stores(opening, tier=1, persona=cfg.brands.store_persona, per_owner=cfg.brands.store_hosts)
        self.events["stores_opened"] = opening.size * cfg.brands.store_hosts
        self.events["hosts_poached"], self.events["followers_poached"] = brands.poach(
            cfg.brands, cfg.providers, cfg.hosts, S, self.hosts, self.follows, self.providers,
            self.streams.get("poaching", d), d, self.add_hosts)
        self.events["upgrades"] = float(S.mass[upgrades.upgrade(cfg.upgrade, S, self.consumers, d)].sum())

    def _sp_market(self, d: int) -> None:
        """Contracts end or are made on expected gain; SPs enter on expected value (fund income included)."""
        cfg, S, P = self.cfg, self.sellers, self.providers
        # the initial market's contracts: every seller weighs hiring once its sales statistics exist
        everyone = d == round(cfg.merchants.profit_memory)
        self.sp_matching = providers.match(S, P, cfg.providers, cfg.platform.take_rate, d,
                                           self.streams.get("provider.match", d), self.streams.get("provider.churn", d),
                                           everyone=everyone)
        self.events["sp_matches"] = self.sp_matching.matched
        pop = self.pops["providers"]
        masses = pop.masses(cfg.consumers.scale)
        rng = self.streams.get("provider.entry", d)
        tiers = providers.entrants(cfg.providers, rng, pop.agents, masses, self.sp_matching.unmet,
                                   self.sp_matching.unmet_gmv, self._fund_outlook(d))
        if tiers.size:
            ids = P.add(d, provider_traits(cfg.providers, rng, tiers, masses[tiers]))
            for i in ids:
                ProviderAgent(self, i)
        self.events["sp_entered"] = float(masses[tiers].sum())

    def _fund_outlook(self, d: int) -> float:
        """Fund money one real SP can still expect per day (model yuan)."""
        P = self.providers
        return self.funds.outlook(d - self.t0, float(P.mass[: P.n][P.active[: P.n]].sum()))

    def _providers_and_funds(self, d: int, o: dict[str, np.ndarray]) -> None:
        """SPs earn fees, are paid for verified client growth, invest, receive ecosystem money, and may exit."""
        P, S, cfg = self.providers, self.sellers, self.cfg
        n, ns = P.n, S.n
        sp = o["sp"]
        client = sp >= 0
        share = S.sp_share[o["seller"][client]]
        fees = np.bincount(sp[client], weights=o["fen_sp_fee"][client], minlength=n) / 100.0
        client_gmv = np.bincount(sp[client], weights=o["fen_gmv"][client] * share, minlength=n) / 100.0
        settled = np.where(o["refunded"], 0, o["fen_gmv"]) / 100.0
        S.win_gmv[:ns] += np.bincount(o["seller"], weights=settled, minlength=ns)
        r = d - self.t0
        cash = np.zeros(n)
        if self.funds.cash_window_ends(r):
            cash = self.funds.pay_cash(r, self._verified_growth(r), P.paid_window[:n])
            P.paid_window[:n] = np.maximum(cash, 0.0)
            S.prev_win_gmv[:ns] = S.win_gmv[:ns]
            S.win_gmv[:ns] = 0.0
        self.ledger.side("fund_cash", cash)
        own, _ = providers.settle(cfg.providers, S, P, d, fees, client_gmv, cash, self._fund_outlook(d))
        act = P.active[:n]
        eco = self.funds.invest_eco(r, providers.eco_weights(P))
        self.ledger.side("fund_eco", eco)
        P.eco[:n] += eco
        providers.invest(cfg.providers, P, own + eco)
        self.events["sp_investment"] = float((own + eco).sum())
        self.events["sp_client_gmv"] = float(client_gmv.sum())

    def _verified_growth(self, r: int) -> np.ndarray:
        """Each SP's clients' settled-GMV growth over their previous window, for clients served the whole window."""
        S, P = self.sellers, self.providers
        ns = S.n
        start = self.t0 + r - self.cfg.funds.cash_window + 1  # the window's first simulated day
        sp = S.sp[:ns]
        kept = (sp >= 0) & (S.sp_since[:ns] < start) & S.active[:ns]
        delta = (S.win_gmv[:ns] - S.prev_win_gmv[:ns]) * S.sp_share[:ns]
        return np.bincount(sp[kept], weights=delta[kept], minlength=P.n)

    def _quality_control(self, d: int) -> None:
        banned, demoted = plat.inspect(self.cfg.platform, self.sellers, self.streams.get("inspection", d), d)
        self._remove_sellers(banned, d, banned=True)
        self.merchant_turnover += float((self.sellers.kind[banned] != Kind.BRAND).sum())
        S = self.sellers
        self.events["frauds_banned"] = float(S.mass[banned].sum())
        self.events["demoted"] = float(S.mass[demoted].sum())

    def _remove_sellers(self, ids: np.ndarray, d: int, banned: bool) -> None:
        """Sellers leave: slates drop them, their store accounts close, SP contracts end, brands are forgotten."""
        if ids.size == 0:
            return
        S, H, C = self.sellers, self.hosts, self.consumers
        S.exit(ids, d, banned=banned)
        H.drop_sellers(ids, d)
        closed = np.isin(H.employer[: H.n], ids)
        self.follows.remove_hosts(closed)
        providers.release(S, self.providers, ids)
        slots = S.aware_slot[ids]
        slots = slots[slots >= 0]
        for slot in slots:
            C.forget_brand(int(slot))
        if slots.size and len(self.brand_trust):
            gone = np.zeros(C.n_slots, bool)
            gone[slots] = True
            self.brand_trust.edit(drop_hosts=gone, background=True)

    # ------------------------------------------------------------------ checkpoints and branches
    def save(self, path: str | Path) -> Path:
        """Write the whole state (random streams included) to ``path`` atomically; :meth:`load` continues it."""
        data = {"format": CHECKPOINT_FORMAT, "version": __version__, "config": to_dict(self.cfg), "model": self}

        def dump(p: Path) -> None:  # streamed: the state is never held twice (the pickle's bytes beside it)
            with open(p, "wb") as f:
                pickle.dump(data, f, protocol=pickle.HIGHEST_PROTOCOL)

        return write_atomic(Path(path), dump)

    @classmethod
    def load(cls, path: str | Path, config: SimConfig | dict[str, Any] | None = None) -> MarketModel:
        """A model saved by :meth:`save`; it continues bit-identically to one never interrupted.

        One exception: a checkpoint written before rooms kept their GMV without the traffic fund's
        orders (``Hosts.ew_organic_gmv``) starts it from the room's whole GMV. That is exact under the
        default ``conversion`` allocation rule or without the traffic fund; under the ``gmv`` rule with
        the fund active, the fund's share fades within ``platform.score_memory`` days.

        Raises :class:`CheckpointError` (one line naming the file) for a file that is not a
        livesim checkpoint, one written by another version, or (given ``config``) one of another configuration.
        """
        path = Path(path)
        try:
            with open(path, "rb") as f:  # streamed, as save writes it
                data = pickle.load(f)
            ok = isinstance(data, dict) and data.get("format") == CHECKPOINT_FORMAT and isinstance(data["model"], cls)
        except Exception:  # noqa: BLE001 - any unreadable file is "not a checkpoint"
            ok = False
        if not ok:
            raise CheckpointError(f"invalid checkpoint: {path}: not a livesim checkpoint (format {CHECKPOINT_FORMAT})")
        if data["version"] != __version__:
            raise CheckpointError(f"invalid checkpoint: {path}: written by livesim {data['version']}, "
                                  f"this is {__version__}; rerun from the start")
        if config is not None:
            want = to_dict(make_config(config))
            diff = _first_difference(data["config"], want)
            if diff:
                raise CheckpointError(f"invalid checkpoint: {path}: its config differs at {diff}; "
                                      "use another folder or remove the checkpoint")
        return data["model"]

    def branch(self, config: SimConfig | dict[str, Any] | None = None, /, **overrides: Any) -> MarketModel:
        """A copy of this market that continues under another configuration (a policy arm).

        ``config`` is a whole configuration (or None: this one) plus nested
        ``overrides``; the copy shares every state and random stream, so it is
        bit-identical to this model until the changed parameters act.  Keys that
        fixed the initial market (seed, sizes, burn-in) cannot change; scheduled
        days must still lie ahead.
        """
        cfg = make_config(config if config is not None else to_dict(self.cfg), **overrides)
        old, new = to_dict(self.cfg), to_dict(cfg)
        key = frozen_change(old, new)
        if key is not None:
            raise ConfigError(f"invalid config: {key} = {get_key(new, key)!r}: a branch must keep "
                              f"{get_key(old, key)!r} (it fixed the initial market; build a new model instead)")
        r = self.reported_day
        for i, (day, _) in enumerate(cfg.brands.entry_waves):
            if day <= r and [day, _] not in self.cfg.brands.entry_waves:
                raise ConfigError(f"invalid config: brands.entry_waves[{i}][0] = {day}: must be after day {r}, "
                                  "where the branch starts")
        spent = any(f.total > f.remaining for f in (self.funds.cash, self.funds.traffic, self.funds.eco))
        if old["funds"] != new["funds"] and spent:
            raise ConfigError(f"invalid config: funds = {new['funds']}: the funds have started spending by day {r}; "
                              "branch before funds.start_day")
        twin = copy.deepcopy(self)
        twin.cfg = cfg
        twin.consumers.cfg = cfg.consumers
        twin.allocator.cfg = cfg.platform
        if old["funds"] != new["funds"]:
            twin.funds = Funds(cfg.funds, cfg.consumers.scale, resolution.market_share(cfg),
                               cfg.platform.views_per_impression)
        twin.ledger.add_cohorts(ENTRY_WAVE + len(cfg.brands.entry_waves))
        twin.running = r < cfg.days
        return twin

    def burn_in_frame(self):  # noqa: ANN201 - a pandas DataFrame
        """The daily metrics of the burn-in, indexed by reported day (-burn_in+1 .. 0)."""
        import pandas as pd

        frame = pd.DataFrame(self._burn_in_rows, columns=list(METRICS))
        frame.index = np.arange(1 - len(frame), 1)
        frame.index.name = "day"
        return frame

    def metrics_frame(self, dates: bool = False):  # noqa: ANN201 - a pandas DataFrame
        """The data collector's daily metrics, indexed by day (1, 2, ...); ``dates``: with a first ``date`` column."""
        frame = self.datacollector.get_model_vars_dataframe()
        frame.index = frame.index + 1
        frame.index.name = "day"
        if dates:
            frame.insert(0, "date", [self.date_of(int(r)).isoformat() for r in frame.index])
        return frame

    def date_of(self, reported_day: int) -> datetime.date:
        """The calendar date of a reported day (day 1 is ``start_date``; burn-in days are before it)."""
        return demand.date_of(self.cfg, reported_day)

    def brand_presence(self) -> float:
        """Mean over active consumers of log(1 + active brands they know)."""
        C = self.consumers
        act = C.active[: C.n]
        return float(C.log1p_known()[C.known[: C.n][act]].mean()) if act.any() else 0.0
