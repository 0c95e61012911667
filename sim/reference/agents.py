"""Per-agent consumers, hosts and sellers of the reference model (one Python object each).

Every rule is written for one agent at a time with plain loops; the comment above each names
the ``docs/MODEL.md`` subsection it implements.  The fast engine (:mod:`sim.model`) does the
same in vectorised passes; the two are compared by ``tests/test_docking.py``.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, field
from itertools import accumulate
from typing import TYPE_CHECKING

import mesa

if TYPE_CHECKING:  # pragma: no cover
    from sim.reference.model import ReferenceModel

NEVER = -(10**6)  # the day of something that has not happened (as in sim.agents.consumers)
INITIAL, ORGANIC = 0, 1  # seller cohorts (MODEL.md 3.3.10)


def _log(x: float) -> float:
    """ln x, and -inf for x <= 0 (a zero commission or appeal rules a seller out, as numpy's log does)."""
    return math.log(x) if x > 0 else -math.inf


def logistic(u: float) -> float:
    """1 / (1 + exp(-u)) without overflow."""
    return 0.5 * (1.0 + math.tanh(0.5 * u))


def learn_closed_form(trust: float, good: int, keeps: list[float], gain: float) -> float:
    """Trust after a day's orders (MODEL.md 3.3.11): gains first, then the product of the losses' kept shares."""
    after_good = 1.0 - (1.0 - trust) * (1.0 - gain) ** good
    for k in keeps:
        after_good *= k
    return min(max(after_good, 0.0), 1.0)


@dataclass(slots=True)
class Visit:
    """One live-room view: a private visit over a follow edge or an allocated public view (MODEL.md 3.3.5-3.3.6)."""

    room: HostAgent
    seller: SellerAgent
    private: bool


@dataclass(slots=True)
class Order:
    """One order and what happened to it (MODEL.md 3.3.8-3.3.10)."""

    consumer: ConsumerAgent
    seller: SellerAgent
    room: HostAgent
    private: bool
    price: float  # yuan paid, whole fen
    cheated: bool = False
    refunded: bool = False
    compensated: bool = False
    compensation: float = 0.0
    shipping: float = 0.0
    fen: dict[str, int] = field(default_factory=dict)  # the ledger split of MODEL.md 3.3.10


# ---------------------------------------------------------------------------------------------- consumers
class ConsumerAgent(mesa.Agent):
    """A consumer: traits, platform trust, wallet, purchase history and the rooms it follows."""

    def __init__(self, model: ReferenceModel, slot: int, day: int) -> None:
        super().__init__(model)
        self.slot = slot
        c, rng = model.cfg.consumers, model.rng
        # traits (MODEL.md 3.1 step 2; arrivals draw theirs on arrival, 3.3.1)
        seg = [x / sum(c.segments) for x in c.segments]
        self.segment = min(bisect_right(list(accumulate(seg)), model.uniform()), len(seg) - 1)
        self.price_sens = c.price_sens_mean * rng.lognormal(-0.5 * c.price_sens_sd ** 2, c.price_sens_sd)
        self.gap_tol = max(0.0, rng.normal(c.gap_tol_mean, c.gap_tol_sd))
        self.brand_affinity = max(0.0, rng.normal(c.brand_affinity_mean, c.brand_affinity_sd))  # unused: no brands
        self.views = c.views_mean * rng.lognormal(-0.5 * c.views_sd ** 2, c.views_sd)
        self.budget = c.budget_mean * rng.lognormal(-0.5 * c.budget_sd ** 2, c.budget_sd)
        m, k = c.trust_init_mean, c.trust_init_conc
        self.trust0 = min(max(rng.beta(max(m * k, 1e-9), max((1 - m) * k, 1e-9)), 0.0), 1.0)
        self.trust = self.trust0
        self.wallet = self.budget * rng.uniform(0.0, c.wallet_cap_days)
        # MODEL.md 3.3.35: the adoption rank (drawn only when adoption is on)
        self.adopt = rng.random() if c.adoption.enabled else 0.0
        self.active = True
        self.joined = day
        self.churned_on = NEVER
        self.last_buy = NEVER
        self.prev_buy = NEVER
        self.n_orders = 0
        #: host index -> trust in that host (H_e), one entry per follow edge (MODEL.md 3.3.14)
        self.follows: dict[int, float] = {}
        self.visits: list[Visit] = []
        self.orders: list[Order] = []
        self.edge_of: dict[int, int] = {}  # order position -> host followed, for private orders (host trust)

    # MODEL.md 3.3.2: accrual up to the cap, never taking money away
    def refill_wallet(self) -> None:
        """Today's budget accrues into the wallet up to ``wallet_cap_days`` of budget."""
        cap = self.budget * self.model.cfg.consumers.wallet_cap_days
        self.wallet = max(self.wallet, min(self.wallet + self.budget, cap))

    # MODEL.md 3.3.5: each followed live room is visited with a probability rising with trust in its host
    def visit_followed(self, hosts: list[HostAgent]) -> None:
        """Private-domain visits over follow edges to rooms live today."""
        c, uniform = self.model.cfg.consumers, self.model.uniform
        for h, trust in self.follows.items():
            room = hosts[h]
            if room.live and uniform() < min(1.0, c.visit_prob * trust / c.host_trust_init_mean):
                self.visits.append(Visit(room, room.item_on_screen(uniform()), private=True))

    # MODEL.md 3.3.3: views demanded, stochastic rounding of the rate
    def views_demanded(self) -> int:
        """Public-domain live-room views this consumer asks for today."""
        cfg = self.model.cfg
        lam = cfg.platform.feed_load * self.views * (self.trust / cfg.consumers.trust_init_mean) ** (
            cfg.consumers.view_trust_elasticity)  # no brands: the presence factor g_i / G_0 is 1
        return math.floor(lam + self.model.uniform())

    def step(self) -> None:
        """Shop: a purchase decision on every view of the day, the budget gate, then the orders (MODEL.md 3.3.7-3.3.10)."""
        model, ch, rng = self.model, self.model.cfg.choice, self.model.rng
        w = ch.private_host_weight
        constant = ch.intercept + ch.w_guarantee * model.n_guarantees
        if model.festival:  # MODEL.md 3.3.35: a festival day lifts every purchase
            constant += model.cfg.platform.festival_lift
        shops = self.adopt < model.shop_share  # MODEL.md 3.3.35: only adopters buy
        intents: list[tuple[Visit, float]] = []
        for v in self.visits:
            s = v.seller
            # MODEL.md 3.3.7: the trust a view uses mixes in trust in the host on a private visit
            trust = (1.0 - w) * self.trust + w * self.follows[v.room.index] if v.private else self.trust
            u = (constant + ch.w_trust * trust + ch.w_quality * s.claim + ch.w_segment_fit * s.fit[self.segment]
                 + ch.w_persona * v.room.persona
                 - self.price_sens * math.log(s.price))  # white label only: no SP, brand or awareness terms
            if model.uniform() < logistic(u) and shops:
                price = round(s.price, 2)  # whole fen, so wallets and the ledger agree exactly
                if price <= self.wallet + 1e-9:  # the choice set holds only goods the wallet can pay (3.3.2)
                    intents.append((v, price))
        # MODEL.md 3.3.2: intents in random order; one goes through iff the running total still fits the wallet
        if len(intents) > 1:
            rng.shuffle(intents)
        running, kept = 0.0, []
        for v, price in intents:
            running += price
            if running <= self.wallet + 1e-9:
                kept.append((v, price))
        model.day_stats["intents"] += len(intents)
        model.day_stats["budget_rejected"] += len(intents) - len(kept)
        if not kept:
            return
        # purchase history (MODEL.md 6, repurchase_rate)
        self.prev_buy = model.day if len(kept) >= 2 else self.last_buy
        self.last_buy = model.day
        self.n_orders += len(kept)
        for v, price in kept:
            order = Order(self, v.seller, v.room, v.private, price)
            model.deliver_and_settle(order)
            # MODEL.md 3.3.2: pay, and get refunds and compensation back the same day
            self.wallet += -price + (price if order.refunded else 0.0) + order.compensation + order.shipping
            self.orders.append(order)

    def learn(self) -> None:
        """Platform trust, drift and word of mouth, host trust, unfollow, lapses, follows, churn (MODEL.md 3.3.11-3.3.15)."""
        model, cfg, rng = self.model, self.model.cfg, self.model.rng
        tc, c = cfg.consumers.trust, cfg.consumers
        # MODEL.md 3.3.11: every order teaches platform trust
        if self.orders:
            good = sum(not o.cheated for o in self.orders)
            self.trust = learn_closed_form(self.trust, good, [model.kept_share(o) for o in self.orders if o.cheated],
                                           tc.gain)
        # MODEL.md 3.3.13: forgetting towards one's own start level, and word of mouth
        self.trust += tc.drift * (self.trust0 - self.trust) + tc.word_of_mouth * (model.reputation - tc.satisfaction_ref)
        if tc.noise_sd > 0:
            self.trust += tc.noise_sd * rng.standard_normal()
        self.trust = min(max(self.trust, 0.0), 1.0)
        # MODEL.md 3.3.14: host trust learns only from private orders over its edge, with the same closed form
        for h in {o.room.index for o in self.orders if o.private}:
            mine = [o for o in self.orders if o.private and o.room.index == h]
            self.follows[h] = learn_closed_form(self.follows[h], sum(not o.cheated for o in mine),
                                                [model.kept_share(o) for o in mine if o.cheated], tc.gain)
        # two uniforms per order: follow (a satisfying public order) and unfollow (a cheating private one)
        leave, join = set(), []
        for o in self.orders:
            u_follow, u_unfollow = model.uniform(), model.uniform()
            if o.private and o.cheated and u_unfollow < c.unfollow_prob:
                leave.add(o.room.index)
            if not o.private and not o.cheated and u_follow < c.follow_prob:
                join.append(o.room.index)
        # follows lapse without cause: a Binomial(|F|, decay) subset of all edges is an independent coin per edge
        if c.follow_decay > 0:
            leave.update(h for h in self.follows if model.uniform() < c.follow_decay)
        for h in leave:
            del self.follows[h]
        for h in join:  # new edges start at platform trust scaled to the host-trust level
            self.follows.setdefault(h, min(1.0, self.trust * c.host_trust_init_mean / c.trust_init_mean))
        # MODEL.md 3.3.15: churn, base hazard doubled at low trust, plus a hit per cheated order today
        base = 2.0 * c.base_churn if self.trust < c.churn_trust_threshold else c.base_churn
        p = 1.0 - (1.0 - base) * (1.0 - c.cheated_churn) ** sum(o.cheated for o in self.orders)
        model.expected_churn += p
        if model.uniform() < p:
            self.churn()

    def churn(self) -> None:
        """Leave for good: the follow edges go; the slot waits for an arrival (MODEL.md 3.3.1, 3.3.15)."""
        self.active = False
        self.churned_on = self.model.day
        self.follows.clear()
        self.model.day_stats["churned"] += 1
        self.remove()  # out of Mesa's agent set; the model keeps the slot until an arrival takes it

    def end_day(self) -> None:
        """Forget today's views and orders."""
        self.visits, self.orders = [], []


# ---------------------------------------------------------------------------------------------- sellers
class SellerAgent(mesa.Agent):
    """A white-label merchant: traits, running statistics, profit, exit (MODEL.md 3.3.17, 3.3.19)."""

    def __init__(self, model: ReferenceModel, index: int, cohort: int, mass: float, day: int) -> None:
        super().__init__(model)
        m, rng = model.cfg.merchants, model.rng
        self.index, self.cohort, self.mass = index, cohort, mass
        # traits (MODEL.md 3.3.19)
        self.price = m.price_median * rng.lognormal(0.0, m.price_sd)
        q = rng.beta(m.quality_a, m.quality_b)
        inflation = rng.exponential(m.inflation_mean) if m.inflation_mean > 0 else 0.0
        self.fraud = bool(model.uniform() < m.fraud_share)
        self.claim = q + (m.fraud_inflation if self.fraud else inflation)
        self.quality = m.counterfeit_quality if self.fraud else q
        self.fit = [rng.normal(0.0, m.segment_fit_sd) for _ in model.cfg.consumers.segments]
        self.unit_cost = m.unit_cost_share * self.price
        self.active, self.banned = True, False
        self.entered, self.exited = day, -1
        self.demoted_until = -1
        self.ew_views = self.ew_orders = self.ew_refunds = self.ew_profit = 0.0
        self.loss_days = 0
        self.gmv = self.profit = 0.0
        self.total_orders = 0
        self.new_day()

    def new_day(self) -> None:
        """Reset today's flows."""
        self.views_today = self.orders_today = self.kept_today = self.refunds_today = 0
        self.fen_merchant_today = self.fen_gmv_today = 0
        self.compensation_today = 0.0

    def demotion(self, day: int) -> float:
        """Traffic multiplier today: ``demotion_factor`` while demoted (MODEL.md 3.3.20)."""
        return self.model.cfg.platform.quality_control.demotion_factor if self.demoted_until >= day else 1.0

    def conversion(self) -> float:
        """Smoothed orders per view of one real seller (MODEL.md 3.3.16)."""
        return (self.ew_orders / self.mass + 0.02) / (self.ew_views / self.mass + 1.0)

    def refund_rate(self) -> float:
        """Smoothed refund rate of one real seller (MODEL.md 3.3.16)."""
        return (self.ew_refunds / self.mass + 0.05) / (self.ew_orders / self.mass + 1.0)

    def step(self) -> None:
        """Profit and running statistics of the day (MODEL.md 3.3.17, 3.3.19); exits are decided by the model."""
        cfg = self.model.cfg
        a = 1.0 / cfg.merchants.profit_memory
        profit = 0.0
        if self.active:
            cost = self.unit_cost * (self.kept_today + cfg.merchants.return_loss_share * self.refunds_today)
            profit = (self.fen_merchant_today / 100.0 - cost - self.compensation_today
                      - cfg.merchants.fixed_cost * self.mass)  # no ads, no quality investment here
        self.ew_views += a * (self.views_today - self.ew_views)
        self.ew_orders += a * (self.orders_today - self.ew_orders)
        self.ew_refunds += a * (self.refunds_today - self.ew_refunds)
        self.ew_profit += a * (profit - self.ew_profit)
        self.gmv += self.fen_gmv_today / 100.0
        self.total_orders += self.orders_today
        self.profit += profit
        # MODEL.md 3.3.19: consecutive days with a negative smoothed profit
        self.loss_days = self.loss_days + 1 if self.active and self.ew_profit < 0 else 0


# ---------------------------------------------------------------------------------------------- hosts
class HostAgent(mesa.Agent):
    """A live room: a talent host with a slate, or a merchant's store account (MODEL.md 3.3.16-3.3.18)."""

    def __init__(self, model: ReferenceModel, index: int, tier: int, mass: float, persona: float,
                 popularity: float, employer: SellerAgent | None = None) -> None:
        super().__init__(model)
        hc = model.cfg.hosts
        self.index, self.tier, self.mass = index, tier, mass
        self.persona, self.popularity = persona, popularity
        self.employer = employer
        self.commission = 0.0 if employer is not None else hc.tier_commission[tier]  # stores pay none (3.3.18)
        self.broadcast_prob = hc.tier_broadcast_prob[tier]
        self.active, self.live = True, False
        self.slate: list[SellerAgent] = [employer] if employer is not None else []
        self.next_review = 0
        self.ew_visits = self.ew_orders = self.ew_gmv = self.ew_satisfied = 0.0
        self.income = self.gmv = 0.0
        self.new_day()

    @property
    def is_store(self) -> bool:
        """A seller's own store account (self-broadcast channel)."""
        return self.employer is not None

    def new_day(self) -> None:
        """Reset today's flows."""
        self.visits_today = self.orders_today = self.satisfied_today = 0
        self.gmv_today = 0.0

    # MODEL.md 3.3.16 (schedule): live iff active, carrying goods and a coin with broadcast_prob
    def schedule(self) -> None:
        """Decide whether this room broadcasts today."""
        u = self.model.uniform()
        self.live = self.active and bool(self.slate) and u < self.broadcast_prob

    # MODEL.md 3.3.6: one uniform picks the item on screen among the slate
    def item_on_screen(self, u: float) -> SellerAgent:
        """The seller whose goods a viewer entering now sees, given a uniform ``u``."""
        return self.slate[int(u * len(self.slate))]

    # MODEL.md 3.3.4: the allocator's ranking score per real room, with weak priors
    def rank_score(self, rule: str) -> float:
        """This room's score under the platform's allocation rule."""
        m = self.mass
        if rule == "conversion":
            return (self.ew_orders / m + 0.02) / (self.ew_visits / m + 1.0)
        if rule == "gmv":
            return (self.ew_gmv / m + 1.0) / (self.ew_visits / m + 1.0)
        if rule == "trust":
            return (self.ew_satisfied / m + 0.02) / (self.ew_visits / m + 1.0)
        if rule == "uniform":
            return 1.0
        raise ValueError(f"unknown allocation rule {rule!r}")

    # MODEL.md 3.3.16 (review): scan mass-weighted candidates, keep the best by noisy log score
    def review(self, day: int, pool: list[SellerAgent], cum_mass: list[float]) -> None:
        """Re-choose the whole slate from ``pool`` (the active sellers, with their cumulative masses)."""
        hc, rng = self.model.cfg.hosts, self.model.rng
        self.next_review = day + int(rng.geometric(1.0 / hc.review_days))
        if not pool:
            return
        candidates: dict[int, SellerAgent] = {}  # duplicates count once
        for _ in range(hc.candidates):
            i = min(bisect_right(cum_mass, self.model.uniform() * cum_mass[-1]), len(pool) - 1)
            candidates[pool[i].index] = pool[i]
        scored = []
        for s in candidates.values():
            score = (_log(self.commission) + math.log(s.price) + math.log(s.conversion())
                     + _log(max(s.demotion(day), 1e-12)) - hc.refund_penalty * s.refund_rate()
                     + hc.choice_noise * rng.gumbel())
            scored.append((score, s.index, s))
        scored.sort(key=lambda x: (-x[0], x[1]))
        self.slate = [s for score, _, s in scored[: hc.slate_size] if math.isfinite(score)]

    def step(self) -> None:
        """Running statistics the allocator ranks this room by (MODEL.md 3.3.17)."""
        a = 1.0 / self.model.cfg.platform.score_memory
        self.ew_visits += a * (self.visits_today - self.ew_visits)
        self.ew_orders += a * (self.orders_today - self.ew_orders)
        self.ew_gmv += a * (self.gmv_today - self.ew_gmv)
        self.ew_satisfied += a * (self.satisfied_today - self.ew_satisfied)
        self.gmv += self.gmv_today
