"""The per-agent reference model: the fast engine's core daily rules, one agent and one view at a time.

:class:`ReferenceModel` takes the same configuration as :class:`sim.model.MarketModel` and runs
the phases of MODEL.md 1.3 in the same order, but every rule is a loop over agent objects
(``mesa.Agent`` consumers, hosts and sellers, :mod:`sim.reference.agents`) or over the day's views
and orders.  It supports the market without traditional brands, service providers, funds and
upgrades; :func:`check_supported` refuses configurations where they are on.  Its random draws
come from one numpy Generator seeded by ``(seed, REFERENCE_KEY)``: they do not match the fast
engine's draws (so the two engines' runs of one seed are independent), only their distributions
must agree, which ``tests/test_docking.py`` checks (MODEL.md 4.6).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from itertools import accumulate
from typing import Any

import mesa
import numpy as np

from sim import demand, resolution
from sim.config import SimConfig, make_config
from sim.reference.agents import INITIAL, ORGANIC, ConsumerAgent, HostAgent, Order, SellerAgent, Visit

#: Mixed into the run seed, so a reference run never shares draws with a fast-engine run of the same seed.
REFERENCE_KEY = 13

#: The market the reference supports: no brands, SPs, funds or upgrades (merge into any configuration).
REFERENCE_MARKET: dict[str, Any] = {
    "brands": {"real_n": 0.0, "entry_waves": []},
    "providers": {"real_n": 0.0},
    "funds": {"cash": 0.0, "traffic": 0.0, "eco": 0.0},
    "upgrade": {"enabled": False},
}

#: The fast engine's daily metrics (sim.metrics) the reference computes, with the same names and units.
SUPPORTED_METRICS = (
    "gmv", "orders", "buyers", "active_consumers", "dau", "new_consumers", "churned_consumers",
    "mean_platform_trust", "refund_rate", "budget_rejected_share", "cheated_rate", "repurchase_rate",
    "gmv_white_label", "gmv_host_channel", "gmv_self_broadcast", "gmv_incumbent", "gmv_entrant",
    "merchant_revenue", "host_commissions", "platform_take", "refunds", "compensation", "shipping_comp",
    "views_supplied", "views_allocated", "private_visits", "public_visits", "frauds_banned",
    "sellers_demoted", "sellers_entered", "sellers_exited", "active_sellers", "active_sellers_agents",
    "live_hosts", "follows", "hhi",
)
FEN_FIELDS = ("gmv", "merchant", "commission", "take", "sp_fee", "refund")


def check_supported(cfg: SimConfig) -> None:
    """Raise ``ValueError`` naming the first mechanism the reference does not implement that ``cfg`` switches on."""
    b, p, f = cfg.brands, cfg.providers, cfg.funds
    problems = [
        (b.real_n > 0 or b.n is not None, f"brands.real_n = {b.real_n}: traditional brands (set it to 0)"),
        (any(w > 0 for _, w in b.entry_waves), f"brands.entry_waves = {b.entry_waves}: brand entry (set it to [])"),
        (p.real_n > 0 or p.n is not None, f"providers.real_n = {p.real_n}: service providers (set it to 0)"),
        (f.cash > 0 or f.traffic > 0 or f.eco > 0, "funds.cash/traffic/eco: the SP funds (set all three to 0)"),
        (cfg.upgrade.enabled, "upgrade.enabled = True: quality investment and upgrades (set it to false)"),
    ]
    for on, what in problems:
        if on:
            raise ValueError(f"the per-agent reference does not implement {what}; see docs/MODEL.md 4.6")


class ReferenceModel(mesa.Model):
    """A per-agent Mesa model of the core daily rules; ``step()`` is one reported day.

    ``ReferenceModel(config, **overrides)`` builds the configuration with
    :func:`sim.config.make_config`, exactly as :class:`sim.model.MarketModel` does, and refuses
    unsupported mechanisms (:func:`check_supported`).  The burn-in runs inside the constructor.
    """

    def __init__(self, config: SimConfig | dict[str, Any] | None = None, /, **overrides: Any) -> None:
        cfg = make_config(config, **overrides)
        check_supported(cfg)
        super().__init__(rng=cfg.seed)  # Mesa's own generator is not used by any rule
        self.cfg = cfg
        self.rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([cfg.seed, REFERENCE_KEY])))
        self.day = 0
        self.t0 = cfg.burn_in
        self.running = True
        self.shop_share, self.festival = 1.0, False  # set each day (MODEL.md 3.3.35)
        self._uniforms: list[float] = []
        scale = cfg.consumers.scale
        self.pops = resolution.plan(cfg)  # how many hosts and merchants, and their masses (MODEL.md 4.1)
        self.merchant_mass = float(self.pops["merchants"].masses(scale)[0])
        g = cfg.platform.guarantees
        self.n_guarantees = int(g.return_shipping) + int(g.counterfeit_10x) + int(g.no_reason_7d)
        self.reputation = cfg.consumers.trust.satisfaction_ref
        self.expected_churn = cfg.consumers.base_churn * cfg.consumers.n
        self.merchant_turnover = 0.0
        self.arrival_trust_ref = cfg.consumers.trust_init_mean
        self.ledger_total = dict.fromkeys(FEN_FIELDS, 0)
        self.day_stats: dict[str, float] = {}
        self.today: dict[str, float] = dict.fromkeys(SUPPORTED_METRICS, 0.0)
        # MODEL.md 3.1: consumers, talent hosts, merchants (with their ages), follows, slates
        self.slots: list[ConsumerAgent] = [ConsumerAgent(self, i, 0) for i in range(cfg.consumers.n)]
        self.hosts: list[HostAgent] = []
        self.sellers: list[SellerAgent] = []
        self._init_hosts()
        for s in self._add_merchants(self.pops["merchants"].agents, INITIAL):
            s.entered -= int(self.rng.integers(0, 3 * 365))  # in business for a while: no cohort exits together
            s.loss_days = int(self.rng.integers(0, cfg.merchants.exit_patience))
        self._init_follows()
        self._review_slates()
        self.datacollector = mesa.DataCollector(
            model_reporters={name: (lambda m, k=name: m.today[k]) for name in SUPPORTED_METRICS})
        self._burn_in_rows: list[dict[str, float]] = []
        for _ in range(cfg.burn_in):
            self._day()

    def uniform(self) -> float:
        """One U[0, 1) draw of the run's generator, served from a block (a scalar numpy call costs more than a rule)."""
        if not self._uniforms:
            self._uniforms = self.rng.random(4096).tolist()
        return self._uniforms.pop()

    # ------------------------------------------------------------------ set-up (MODEL.md 3.1)
    def _init_hosts(self) -> None:
        """Talent hosts of each tier from the resolution plan (tiers are not drawn), MODEL.md 3.1 step 4."""
        hc, plan = self.cfg.hosts, self.pops["hosts"]
        masses = plan.masses(self.cfg.consumers.scale)
        for tier, stratum in enumerate(plan.strata):
            for _ in range(stratum.agents):
                persona = self.rng.beta(2.0 * hc.persona_mean + 1e-9, 2.0 * (1.0 - hc.persona_mean) + 1e-9)
                self._add_host(tier, float(masses[tier]), persona, hc.tier_popularity[tier] * (0.5 + persona))

    def _add_host(self, tier: int, mass: float, persona: float, popularity: float,
                  employer: SellerAgent | None = None) -> HostAgent:
        host = HostAgent(self, len(self.hosts), tier, mass, persona, popularity, employer)
        self.hosts.append(host)
        return host

    def _add_merchants(self, k: int, cohort: int) -> list[SellerAgent]:
        """``k`` white-label merchants; a ``store_share`` of them open a store account (MODEL.md 3.3.18-3.3.19)."""
        out = []
        for _ in range(k):
            s = SellerAgent(self, len(self.sellers), cohort, self.merchant_mass, self.day)
            self.sellers.append(s)
            if self.uniform() < self.cfg.merchants.store_share:  # tier small, persona 0, the seller's mass
                self._add_host(2, s.mass, 0.0, 0.5 * self.cfg.hosts.tier_popularity[2], employer=s)
            out.append(s)
        return out

    def _init_follows(self) -> None:
        """Each consumer follows Poisson(follows_init) talent hosts picked by popularity x mass (MODEL.md 3.1 step 7)."""
        c = self.cfg.consumers
        talent = [h for h in self.hosts if not h.is_store]
        cum = list(accumulate(h.popularity * h.mass for h in talent))
        m, k = c.host_trust_init_mean, c.trust_init_conc
        for consumer in self.slots:
            for _ in range(self.rng.poisson(c.follows_init)):
                h = talent[min(bisect_right(cum, self.uniform() * cum[-1]), len(talent) - 1)]
                trust = self.rng.beta(max(m * k, 1e-9), max((1 - m) * k, 1e-9))
                consumer.follows.setdefault(h.index, trust)  # a duplicate pair is dropped

    # ------------------------------------------------------------------ the day (MODEL.md 1.3)
    def step(self) -> None:
        """One reported day."""
        self._day()

    def _day(self) -> None:
        cfg = self.cfg
        self.day += 1
        d, r = self.day, self.day - self.t0
        if r == 1 and self.active_consumers():  # MODEL.md 3.3.1: arrivals respond to trust relative to here
            self.arrival_trust_ref = self.mean_trust()
        self.day_stats = dict.fromkeys(("intents", "budget_rejected", "churned", "new_consumers", "entered",
                                        "exited", "banned", "demoted", "compensation", "shipping"), 0)
        self.ledger_today = dict.fromkeys(FEN_FIELDS, 0)
        # MODEL.md 3.3.35: today's share of users who shop, and whether today is a festival day
        self.shop_share, self.festival = demand.today(cfg, r)
        self.gmv_by = dict.fromkeys(("host", "self_broadcast", "incumbent", "entrant"), 0)
        for a in (*self.sellers, *self.hosts):
            a.new_day()
        # phase 2: arrivals and wallets
        self._arrivals(d)
        for c in self.active_consumers():
            c.refill_wallet()
        # phase 3: merchant entry
        self._merchant_entry()
        # phases 6-7: slate reviews by due talent hosts, then the broadcast schedule
        self._review_slates()
        for h in self.hosts:
            h.schedule()
        # phase 9: private-domain visits, then public-domain demand and its allocation
        for c in self.active_consumers():
            c.visit_followed(self.hosts)
        self._allocate_public_views(d)
        self.views = [(c, v) for c in self.active_consumers() for v in c.visits]
        for c, v in self.views:
            v.seller.views_today += 1
            v.room.visits_today += 1
        # phase 10: each consumer shops (choice, budget gate, delivery, settlement, ledger)
        for c in self.active_consumers():
            if c.visits:
                c.step()
        self.orders: list[Order] = [o for c in self.active_consumers() for o in c.orders]
        # phase 11: reputation from the day's orders (MODEL.md 3.3.13), then each consumer learns and may churn
        if self.orders:
            satisfied = sum(not o.cheated for o in self.orders)
            self.reputation += (satisfied / len(self.orders) - self.reputation) / cfg.consumers.trust.reputation_memory
        self.expected_churn = 0.0
        buyers = {id(o.consumer) for o in self.orders}
        watchers = {id(c) for c, _ in self.views}
        for c in self.active_consumers():
            c.learn()
        # phase 12: sellers' and rooms' running statistics and profit, then exits
        for a in (*self.sellers, *self.hosts):
            a.step()
        self._exits(d)
        # phase 14: quality control
        self._quality_control(d)
        self._metrics(len(buyers), len(watchers))
        for c in self.slots:
            c.end_day()
        if r >= 1:
            self.datacollector.collect(self)
        else:
            self._burn_in_rows.append(dict(self.today))
        self.running = r < cfg.days

    # ------------------------------------------------------------------ consumers
    def active_consumers(self) -> list[ConsumerAgent]:
        """Consumers who have arrived and not churned."""
        return [c for c in self.slots if c.active]

    def mean_trust(self) -> float:
        """Mean platform trust of active consumers."""
        act = self.active_consumers()
        return sum(c.trust for c in act) / len(act) if act else 0.0

    def _arrivals(self, d: int) -> None:
        """MODEL.md 3.3.1: replace yesterday's expected churn plus net growth, scaled by trust after the burn-in."""
        c = self.cfg.consumers
        act = self.active_consumers()
        growth = math.expm1(math.log1p(c.growth) / 365.0)
        lam = self.expected_churn + growth * len(act)
        if d > self.t0 and act:  # no brands: the brand-presence factor is 1
            lam *= (self.mean_trust() / self.arrival_trust_ref) ** c.arrival_trust_elasticity
        k = int(self.rng.poisson(max(lam, 0.0)))
        free = [i for i, x in enumerate(self.slots) if not x.active][:k]  # churned slots, lowest first
        for i in free:
            self.slots[i] = ConsumerAgent(self, i, d)
        for _ in range(k - len(free)):
            self.slots.append(ConsumerAgent(self, len(self.slots), d))
        self.day_stats["new_consumers"] = k

    # ------------------------------------------------------------------ sellers
    def _merchant_entry(self) -> None:
        """MODEL.md 3.3.19 / 4.4: replace yesterday's turnover and close a gap to the market's merchant population."""
        m = self.cfg.merchants
        m0 = self.pops["merchants"].agents
        target = m0 * len(self.active_consumers()) / self.cfg.consumers.n
        active = sum(s.active for s in self.sellers)
        lam = self.merchant_turnover + max(target - active, 0.0) / m.entry_lag + m.entry_rate * m0
        k = int(self.rng.poisson(lam))
        self._add_merchants(k, ORGANIC)
        self.day_stats["entered"] = k * self.merchant_mass

    def _review_slates(self) -> None:
        """MODEL.md 3.3.16: talent hosts due for review re-choose their slates among the active sellers."""
        pool = [s for s in self.sellers if s.active]
        cum = list(accumulate(s.mass for s in pool))
        for h in self.hosts:
            if h.active and not h.is_store and h.next_review <= self.day:
                h.review(self.day, pool, cum)

    def _exits(self, d: int) -> None:
        """MODEL.md 3.3.19: exit after ``exit_patience`` losing days, or at the exit hazard; yesterday's turnover."""
        m = self.cfg.merchants
        lineage = [s for s in self.sellers if s.active]  # every seller here is a white-label merchant
        losers, quitters = [], []
        for s in lineage:
            quits = self.uniform() < m.exit_hazard
            if quits:
                quitters.append(s)
            elif s.loss_days >= m.exit_patience:
                losers.append(s)
        # expected closures plus the loss exits, as the fast engine counts the merchants that left
        self.merchant_turnover = m.exit_hazard * len(lineage) + len(losers)
        for s in (*losers, *quitters):
            self._remove_seller(s, d, banned=False)
        self.day_stats["exited"] = sum(s.mass for s in (*losers, *quitters))

    def _quality_control(self, d: int) -> None:
        """MODEL.md 3.3.20: inspections (more with complaints), fraud bans, demotions with toned-down claims."""
        qc = self.cfg.platform.quality_control
        if not qc.enabled:
            return
        for s in [s for s in self.sellers if s.active]:
            if self.uniform() >= min(1.0, qc.inspect_prob + qc.complaint_inspect * s.refund_rate()):
                continue
            caught = self.uniform() < qc.fraud_detect_prob
            if s.fraud:
                if caught:
                    self._remove_seller(s, d, banned=True)
                    self.merchant_turnover += 1
                    self.day_stats["banned"] += s.mass
            elif s.claim - s.quality > qc.inflation_threshold:
                s.demoted_until = d + qc.demotion_days
                s.claim -= qc.claim_cut * (s.claim - s.quality)
                self.day_stats["demoted"] += s.mass

    def _remove_seller(self, s: SellerAgent, d: int, banned: bool) -> None:
        """A seller leaves: slates drop it (their hosts review tomorrow), its stores close and lose their followers."""
        s.active, s.exited, s.banned = False, d, banned
        for h in self.hosts:
            if s in h.slate:
                h.slate.remove(s)
                if h.is_store:
                    h.active = False
                    for c in self.active_consumers():
                        c.follows.pop(h.index, None)
                else:
                    h.next_review = d + 1
        s.remove()  # out of Mesa's agent set; the model keeps the row for its history

    # ------------------------------------------------------------------ traffic (MODEL.md 3.3.3-3.3.4)
    def _allocate_public_views(self, d: int) -> None:
        """Every view a consumer demands goes to a live room drawn from the allocation rule's weights."""
        p = self.cfg.platform
        live = [h for h in self.hosts if h.live]
        demand = [(c, c.views_demanded()) for c in self.active_consumers()]
        self.supplied = 0
        if not live:  # nothing is on air: the demand is lost
            return
        scores = [h.rank_score(p.allocation) ** p.allocation_power for h in live]
        total = sum(scores)
        weights = []
        for h, s in zip(live, scores):
            share = s / total if total > 0 else 1.0 / len(live)
            # one demoted seller demotes the whole room; a room draws the traffic of the real rooms it stands for
            multiplier = h.mass * min(x.demotion(d) for x in h.slate)
            weights.append(((1.0 - p.exploration) * share + p.exploration / len(live)) * multiplier)
        cum = list(accumulate(weights))
        total, last, uniform = cum[-1], len(live) - 1, self.uniform
        for c, k in demand:
            for _ in range(k):  # one uniform per view picks its room (inverse of the cumulative weights)
                room = live[min(bisect_right(cum, uniform() * total), last)]
                c.visits.append(Visit(room, room.item_on_screen(uniform()), False))
            self.supplied += k

    # ------------------------------------------------------------------ orders (MODEL.md 3.3.8-3.3.10)
    def deliver_and_settle(self, o: Order) -> None:
        """Delivery and the expectation gap, guarantees, and the ledger split of one order."""
        cfg, g = self.cfg, self.cfg.platform.guarantees
        s = o.seller
        # MODEL.md 3.3.8: the order cheats when delivery falls short of the claim by more than the buyer tolerates
        delivered = s.quality + cfg.merchants.delivery_sd * self.rng.standard_normal()
        o.cheated = s.claim - delivered > o.consumer.gap_tol
        # MODEL.md 3.3.9: refunds, "fake one, pay ten", return shipping
        u = self.uniform()
        o.refunded = (o.cheated or u < g.no_reason_return_prob) if g.no_reason_7d else (o.cheated and u < g.base_refund_prob)
        o.compensated = o.cheated and s.fraud and g.counterfeit_10x
        o.refunded = o.refunded or o.compensated
        o.compensation = 10.0 * o.price if o.compensated else 0.0
        o.shipping = g.shipping_comp if (o.refunded and g.return_shipping) else 0.0
        self.day_stats["compensation"] += o.compensation
        self.day_stats["shipping"] += o.shipping
        # MODEL.md 3.3.10: in fen, GMV = merchant + commission + take + SP fee (none here) + refund
        gmv = int(round(100.0 * o.price))
        if o.refunded:
            fen = {"gmv": gmv, "merchant": 0, "commission": 0, "take": 0, "sp_fee": 0, "refund": gmv}
        else:
            commission = int(round(gmv * o.room.commission))
            take = int(round(gmv * cfg.platform.take_rate))
            fen = {"gmv": gmv, "merchant": gmv - commission - take, "commission": commission, "take": take,
                   "sp_fee": 0, "refund": 0}
        assert fen["gmv"] == sum(fen[k] for k in FEN_FIELDS[1:]), "ledger identity broken"
        o.fen = fen
        for k in FEN_FIELDS:
            self.ledger_today[k] += fen[k]
            self.ledger_total[k] += fen[k]
        self.gmv_by["self_broadcast" if o.room.is_store else "host"] += gmv
        self.gmv_by["incumbent" if s.cohort == INITIAL else "entrant"] += gmv
        # the seller's and the room's flows of the day (MODEL.md 3.3.17)
        s.orders_today += 1
        s.refunds_today += o.refunded
        s.kept_today += not o.refunded
        s.fen_merchant_today += fen["merchant"]
        s.fen_gmv_today += gmv
        s.compensation_today += o.compensation
        o.room.orders_today += 1
        o.room.satisfied_today += not o.cheated
        o.room.gmv_today += gmv / 100.0
        o.room.income += fen["commission"] / 100.0

    def kept_share(self, o: Order) -> float:
        """MODEL.md 3.3.11: share of trust a cheating order leaves, relieved by a refund and by compensation."""
        tc = self.cfg.consumers.trust
        relief = min(1.0, tc.refund_relief * o.refunded + tc.compensation_relief * o.compensated)
        return 1.0 - tc.gain * tc.loss_aversion * (1.0 - relief)

    # ------------------------------------------------------------------ metrics (MODEL.md 6)
    def _metrics(self, n_buyers: int, n_watchers: int) -> None:
        """The day's metrics under the fast engine's names and units (sim.metrics)."""
        scale = self.cfg.consumers.scale
        yuan = scale / 100.0
        orders = self.orders
        n = len(orders)
        act = self.active_consumers()
        lo = self.day - 90 + 1  # the 90-day repurchase window, over every slot (churned ones until recycled)
        recent = sum(c.last_buy >= lo for c in self.slots)
        repeat = sum(c.prev_buy >= lo for c in self.slots)
        by_seller: dict[int, int] = {}
        for o in orders:
            by_seller[o.seller.index] = by_seller.get(o.seller.index, 0) + o.fen["gmv"]
        total = sum(by_seller.values())
        hhi = sum((v / total) ** 2 / (self.sellers[i].mass * scale) for i, v in by_seller.items()) if total else 0.0
        live = [h for h in self.hosts if h.live]
        private = sum(v.private for _, v in self.views)
        m = {
            "gmv": self.ledger_today["gmv"] * yuan,
            "orders": n * scale,
            "buyers": n_buyers * scale,
            "active_consumers": len(act) * scale,
            "dau": n_watchers * scale,
            "new_consumers": self.day_stats["new_consumers"] * scale,
            "churned_consumers": self.day_stats["churned"] * scale,
            "mean_platform_trust": self.mean_trust(),
            "refund_rate": sum(o.refunded for o in orders) / n if n else 0.0,
            "budget_rejected_share": (self.day_stats["budget_rejected"] / self.day_stats["intents"]
                                      if self.day_stats["intents"] else 0.0),
            "cheated_rate": sum(o.cheated for o in orders) / n if n else 0.0,
            "repurchase_rate": repeat / recent if recent else 0.0,
            "gmv_white_label": self.ledger_today["gmv"] * yuan,
            "gmv_host_channel": self.gmv_by["host"] * yuan,
            "gmv_self_broadcast": self.gmv_by["self_broadcast"] * yuan,
            "gmv_incumbent": self.gmv_by["incumbent"] * yuan,
            "gmv_entrant": self.gmv_by["entrant"] * yuan,
            "merchant_revenue": self.ledger_today["merchant"] * yuan,
            "host_commissions": self.ledger_today["commission"] * yuan,
            "platform_take": self.ledger_today["take"] * yuan,
            "refunds": self.ledger_today["refund"] * yuan,
            # side flows are booked in whole fen once a day, as sim.ledger.Ledger.side does
            "compensation": round(100.0 * self.day_stats["compensation"]) * yuan,
            "shipping_comp": round(100.0 * self.day_stats["shipping"]) * yuan,
            "views_supplied": self.supplied * scale,
            "views_allocated": (sum(h.visits_today for h in self.hosts) - private) * scale,  # the rooms' tally
            "private_visits": private * scale,
            "public_visits": (len(self.views) - private) * scale,
            "frauds_banned": self.day_stats["banned"] * scale,
            "sellers_demoted": self.day_stats["demoted"] * scale,
            "sellers_entered": self.day_stats["entered"] * scale,
            "sellers_exited": self.day_stats["exited"] * scale,
            "active_sellers": sum(s.mass for s in self.sellers if s.active) * scale,
            "active_sellers_agents": sum(s.active for s in self.sellers),
            "live_hosts": sum(h.mass for h in live) * scale,
            "follows": sum(len(c.follows) for c in act) * scale,
            "hhi": hhi,
        }
        self.today = {k: float(m[k]) for k in SUPPORTED_METRICS}

    def metrics_frame(self):  # noqa: ANN201 - a pandas DataFrame
        """The daily metrics of the reported days, indexed by day (1, 2, ...), like ``MarketModel.metrics_frame``."""
        frame = self.datacollector.get_model_vars_dataframe()
        frame.index = frame.index + 1
        frame.index.name = "day"
        return frame

    def burn_in_frame(self):  # noqa: ANN201 - a pandas DataFrame
        """The daily metrics of the burn-in, indexed by reported day (-burn_in+1 .. 0)."""
        import pandas as pd

        frame = pd.DataFrame(self._burn_in_rows, columns=list(SUPPORTED_METRICS))
        frame.index = np.arange(1 - len(frame), 1)
        frame.index.name = "day"
        return frame
