"""The market model: a Mesa 3 model whose step is one day.

State lives in vectorised books (:mod:`sim.agents`); hosts and sellers are
also registered as thin Mesa agents for inspection.  :meth:`MarketModel.step`
is the day's schedule; each phase is a short method that calls the module
owning the mechanism (traffic, choice, platform, trust, ledger).
"""

from __future__ import annotations

from typing import Any

import mesa
import numpy as np

from sim import platform as plat
from sim import trust as trust_rules
from sim.agents.consumers import Consumers
from sim.agents.follows import FollowGraph
from sim.agents.hosts import HostAgent, Hosts, talent_traits
from sim.agents.sellers import INITIAL, ORGANIC, Kind, SellerAgent, Sellers, white_label_traits
from sim.choice import budget_gate, buy_probability, seller_utility
from sim.config import SimConfig, make_config
from sim.ledger import CHANNELS, Ledger
from sim.metrics import METRICS, daily_metrics
from sim.rng import Streams
from sim.traffic import Allocator, Boost, rule_scores


class MarketModel(mesa.Model):
    """A livestream e-commerce market.

    ``MarketModel()`` is the default market; ``MarketModel(config)`` takes a
    :class:`~sim.config.SimConfig` (or mapping / OmegaConf node); keyword
    overrides use the config's nested names, e.g.
    ``MarketModel(seed=3, days=30, consumers={"n": 2000})``.
    """

    def __init__(self, config: SimConfig | dict[str, Any] | None = None, /, **overrides: Any) -> None:
        cfg = make_config(config, **overrides)
        super().__init__(rng=cfg.seed)
        self.cfg = cfg
        self.streams = Streams(cfg.seed)
        self.day = 0
        self.n_segments = len(cfg.consumers.segments)
        self.trust_ref = cfg.consumers.trust_init_mean
        #: Smoothed platform-wide share of orders that met expectation (word of mouth).
        self.reputation = cfg.consumers.trust.satisfaction_ref
        self.consumers = Consumers(cfg.consumers, self.streams)
        self.sellers = Sellers(2 * cfg.merchants.n + 64, self.n_segments)
        self.hosts = Hosts(cfg.hosts.n + int(cfg.merchants.n * cfg.merchants.store_share) + 64,
                           cfg.hosts.slate_size)
        self.follows = FollowGraph()
        self.allocator = Allocator(cfg.platform)
        self.ledger = Ledger(self.n_segments, len(Kind), n_cohorts=ORGANIC + 1)
        #: Traffic grants for the coming day; later mechanisms (funds, entry support) append here.
        self.boosts: list[Boost] = []
        self.events: dict[str, int] = {}
        self._init_hosts()
        self._add_merchants(self.streams.get("init.merchants"), cfg.merchants.n, INITIAL)
        self._init_follows()
        self.hosts.review(cfg.hosts, self.sellers, self.streams.get("host.review", 0), 0,
                          plat.demotion_multiplier(cfg.platform, self.sellers, 0))
        self.today: dict[str, float] = dict.fromkeys(METRICS, 0.0)
        self.datacollector = mesa.DataCollector(
            model_reporters={name: (lambda m, k=name: m.today[k]) for name in METRICS})

    # ------------------------------------------------------------------ set-up
    def _init_hosts(self) -> None:
        t = talent_traits(self.cfg.hosts, self.streams.get("init.hosts"), self.cfg.hosts.n)
        for i in self.hosts.add(**t):
            HostAgent(self, i)

    def _add_merchants(self, rng: np.random.Generator, k: int, cohort: int) -> np.ndarray:
        """Enter ``k`` white-label merchants; a ``store_share`` of them open a store account."""
        m = self.cfg.merchants
        traits = white_label_traits(m, rng, k, self.n_segments)
        store = rng.random(k) < m.store_share
        ids = self.sellers.add(self.day, Kind.WHITE_LABEL, cohort, traits)
        for i in ids:
            SellerAgent(self, i)
        owners = ids[store]
        if owners.size:
            small = np.full(owners.size, 2, np.int8)
            h = self.hosts.add(small, np.zeros(owners.size), np.full(owners.size, 0.5 * self.cfg.hosts.tier_popularity[2]),
                               np.zeros(owners.size), np.full(owners.size, self.cfg.hosts.tier_broadcast_prob[2]),
                               employer=owners)
            self.sellers.store_host[owners] = h
            for i in h:
                HostAgent(self, i)
        return ids

    def _init_follows(self) -> None:
        """Each initial consumer follows Poisson(follows_init) talent hosts, picked by popularity."""
        c, rng = self.cfg.consumers, self.streams.get("init.follows")
        n = self.consumers.n
        k = rng.poisson(c.follows_init, n)
        who = np.repeat(np.arange(n), k)
        talent = np.flatnonzero(~self.hosts.is_store)  # stores start without followers
        pop = self.hosts.popularity[talent]
        host = talent[rng.choice(talent.size, size=who.size, p=pop / pop.sum())]
        m = c.host_trust_init_mean
        conc = c.trust_init_conc
        trust = rng.beta(max(m * conc, 1e-9), max((1 - m) * conc, 1e-9), who.size)
        self.follows.add(who, host, trust)

    # ------------------------------------------------------------------ the day
    def step(self) -> None:
        """One day: arrivals, entry, slates, traffic, choice, delivery, accounting, learning, exits."""
        self.day += 1
        d = self.day
        self.events = {}
        self._arrivals(d)
        self._merchant_entry(d)
        demotion = plat.demotion_multiplier(self.cfg.platform, self.sellers, d)
        self.hosts.review(self.cfg.hosts, self.sellers, self.streams.get("host.review", d), d, demotion)
        live = self.hosts.schedule(self.streams.get("host.schedule", d))
        visits = self._visits(d, live, demotion)
        orders = self._orders(d, visits)
        self._learn(d, orders)
        self._seller_outcomes(d, visits, orders)
        self._quality_control(d)
        self.today = daily_metrics(self, visits, orders)
        self.datacollector.collect(self)
        self.boosts = []

    def _arrivals(self, d: int) -> None:
        C = self.consumers
        act = C.active[: C.n]
        ratio = float(C.trust[: C.n][act].mean()) / self.trust_ref if act.any() else 1.0
        self.events["new_consumers"] = C.arrive(self.streams.get("arrivals", d), ratio, d).size
        C.refill_wallets()

    def _merchant_entry(self, d: int) -> None:
        rng = self.streams.get("merchant.entry", d)
        k = int(rng.poisson(self.cfg.merchants.entry_rate))
        self.events["sellers_entered"] = k
        if k:
            self._add_merchants(rng, k, ORGANIC)

    def _visits(self, d: int, live: np.ndarray, demotion: np.ndarray) -> dict[str, np.ndarray]:
        """Private-domain visits to followed live hosts, then allocated public-domain impressions."""
        cfg, C, H, F = self.cfg, self.consumers, self.hosts, self.follows
        # private domain: each follow edge to a live host is a visit with prob ~ trust in the host
        eh, ec = F.host, F.consumer
        p = np.minimum(1.0, cfg.consumers.visit_prob * F.trust / cfg.consumers.host_trust_init_mean)
        edge = np.flatnonzero(H.live[eh] & (self.streams.get("private", d).random(len(F)) < p))
        # public domain: impressions demanded (stochastic rounding of the rate, one draw per consumer)
        lam = cfg.platform.feed_load * C.view_factor(self.trust_ref)[: C.n]
        demand = np.floor(lam + self.streams.get("viewing", d).random(C.n)).astype(np.int64)
        rng = self.streams.get("allocation", d)
        slate = H.slate[live]
        room_dem = np.where(slate >= 0, demotion[np.maximum(slate, 0)], 1.0).min(axis=1)
        scores = rule_scores(cfg.platform.allocation, H.ew_visits[live], H.ew_orders[live],
                             H.ew_gmv[live], H.ew_satisfied[live])
        weights = self.allocator.weights(scores, room_dem)
        local = {h: i for i, h in enumerate(live)} if self.boosts else {}
        boosts = [Boost(b.name, np.array([local[h] for h in b.rooms if h in local], dtype=np.int64),
                        b.impressions) for b in self.boosts]
        pub_c, slot = self.allocator.allocate(rng, demand, weights, boosts)
        pub_h = live[slot]
        for b, lb in zip(self.boosts, boosts):
            b.granted = lb.granted
        consumer = np.concatenate([ec[edge], pub_c])
        room = np.concatenate([eh[edge], pub_h])
        # which of the room's items is on screen when the viewer enters
        n_items = H.slate_size()[room]
        k = (self.streams.get("slot", d).random(room.size) * n_items).astype(np.int64)
        return {
            "consumer": consumer,
            "room": room,
            "seller": H.slate[room, k],
            "private": np.r_[np.ones(edge.size, bool), np.zeros(pub_c.size, bool)],
            "edge": np.r_[edge, np.full(pub_c.size, -1)],
        }

    def _orders(self, d: int, v: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Choice, budget, delivery, settlement and booking of the day's orders."""
        cfg, C, S, H, F = self.cfg, self.consumers, self.sellers, self.hosts, self.follows
        c, s, h = v["consumer"], v["seller"], v["room"]
        trust = C.trust[c]
        priv = v["private"]
        w = cfg.choice.private_host_weight
        trust[priv] = (1.0 - w) * trust[priv] + w * F.trust[v["edge"][priv]]
        table = seller_utility(cfg.choice, S)  # (seller, segment): a small table, one gather per view
        seller_term = table.ravel()[s * table.shape[1] + C.segment[c]]
        branded = np.flatnonzero(S.kind[s] != Kind.WHITE_LABEL)
        seller_term[branded] += C.brand_affinity[c[branded]]
        p = buy_probability(cfg.choice, trust, seller_term, cfg.choice.w_persona * H.persona[h],
                            C.price_sens[c], np.log(S.price[: S.n])[s], plat.active_guarantees(cfg.platform))
        intent = np.flatnonzero(self.streams.get("choice", d).random(c.size) < p)
        price = S.price[s[intent]]
        ok = budget_gate(self.streams.get("budget", d), c[intent], price, C.wallet)
        o = {name: v[name][intent[ok]] for name in v}
        o["price"] = price[ok]
        oc, os_, oh = o["consumer"], o["seller"], o["room"]
        C.wallet -= np.bincount(oc, weights=o["price"], minlength=C.capacity)
        buyers, counts = np.unique(oc, return_counts=True)
        C.record_orders(buyers, counts, d)
        # delivery and the expectation gap
        rng = self.streams.get("delivery", d)
        delivered = S.quality[os_] + cfg.merchants.delivery_sd * rng.standard_normal(oc.size)
        o["cheated"] = S.claim[os_] - delivered > C.gap_tol[oc]
        st = plat.settle(cfg.platform, self.streams.get("refund", d), o["price"], o["cheated"], S.fraud[os_])
        o["refunded"], o["compensated"] = st.refunded, st.compensated
        o["compensation"] = st.compensation
        o["channel"] = (H.employer[oh] >= 0).astype(np.int64)
        split = self.ledger.post(C.segment[oc], S.kind[os_], o["channel"], S.cohort[os_], o["price"],
                                 H.commission[oh], cfg.platform.take_rate, st.refunded,
                                 st.compensation, st.shipping_comp)
        o.update({f"fen_{k}": val for k, val in split.items()})
        return o

    def _learn(self, d: int, o: dict[str, np.ndarray]) -> None:
        """Trust, follows and churn respond to the day's outcomes."""
        cfg, C, F = self.cfg, self.consumers, self.follows
        tc = cfg.consumers.trust
        n = C.n
        cheated, oc = o["cheated"], o["consumer"]
        log_keep = trust_rules.loss_log_keep(tc, o["refunded"], o["compensated"])
        # platform trust: every order counts (updated only where there were orders)
        self._learn_from_orders(C.trust, oc, cheated, log_keep, tc.gain)
        self.reputation = trust_rules.update_reputation(self.reputation, int((~cheated).sum()), oc.size, tc)
        t = C.trust[:n]  # a view: forgetting and word of mouth apply in place
        trust_rules.drift(t, C.trust0[:n], tc, self.reputation, out=t)
        if tc.noise_sd > 0:
            t += tc.noise_sd * self.streams.get("trust_noise", d).standard_normal(n)
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
        F.remove(unfollow)
        self.events["follows"] = F.add(oc[pub_good], o["room"][pub_good],
                                       np.minimum(1.0, C.trust[oc[pub_good]] * cfg.consumers.host_trust_init_mean
                                                  / self.trust_ref))
        self.events["unfollows"] = int(unfollow.sum())
        # churn
        cheated_today = np.bincount(oc[cheated], minlength=n)
        gone = C.churn(self.streams.get("churn", d), cheated_today, d)
        F.remove_consumers(gone)
        self.events["churned"] = gone.size

    @staticmethod
    def _learn_from_orders(trust: np.ndarray, who: np.ndarray, cheated: np.ndarray, log_keep: np.ndarray,
                           gain: float) -> None:
        """Apply the day's satisfying and cheating orders of each ``who`` to ``trust`` in place."""
        if who.size == 0:
            return
        ids, inv = np.unique(who, return_inverse=True)
        good = np.bincount(inv[~cheated], minlength=ids.size)
        keep = np.bincount(inv[cheated], weights=log_keep[cheated], minlength=ids.size)
        trust[ids] = np.clip(trust_rules.update(trust[ids], good, keep, gain), 0.0, 1.0)

    def _seller_outcomes(self, d: int, v: dict[str, np.ndarray], o: dict[str, np.ndarray]) -> None:
        """Running statistics, income, profit and loss-driven exit of sellers and hosts."""
        cfg, S, H = self.cfg, self.sellers, self.hosts
        ns, nh = S.n, H.n
        a_s, a_h = 1.0 / cfg.merchants.profit_memory, 1.0 / cfg.platform.score_memory
        os_, oh = o["seller"], o["room"]
        gmv = o["fen_gmv"] / 100.0
        refunded = o["refunded"]
        kept = ~refunded
        views = np.bincount(v["seller"], minlength=ns)
        orders = np.bincount(os_, minlength=ns)
        refunds = np.bincount(os_[refunded], minlength=ns)
        unit = S.unit_cost[:ns]
        revenue = np.bincount(os_, weights=o["fen_merchant"], minlength=ns) / 100.0
        cost = unit * (np.bincount(os_[kept], minlength=ns)
                       + cfg.merchants.return_loss_share * refunds)
        comp = np.bincount(os_, weights=o["compensation"], minlength=ns)
        profit = np.where(S.active[:ns], revenue - cost - comp - cfg.merchants.fixed_cost, 0.0)
        for col, x in ((S.ew_views, views), (S.ew_orders, orders), (S.ew_refunds, refunds),
                       (S.ew_profit, profit)):
            col[:ns] += a_s * (x - col[:ns])
        S.gmv[:ns] += np.bincount(os_, weights=gmv, minlength=ns)
        S.orders[:ns] += orders
        S.profit[:ns] += profit
        # hosts: traffic statistics the allocator ranks rooms by, and income
        hv = np.bincount(v["room"], minlength=nh)
        hstats = ((H.ew_visits, hv), (H.ew_orders, np.bincount(oh, minlength=nh)),
                  (H.ew_gmv, np.bincount(oh, weights=gmv, minlength=nh)),
                  (H.ew_satisfied, np.bincount(oh[~o["cheated"]], minlength=nh)))
        for col, x in hstats:
            col[:nh] += a_h * (x - col[:nh])
        H.income[:nh] += np.bincount(oh, weights=o["fen_commission"], minlength=nh) / 100.0
        H.gmv[:nh] += np.bincount(oh, weights=gmv, minlength=nh)
        # exit after sustained losses (white-label rule; newcomers get a grace period)
        act = S.active[:ns]
        losing = act & (S.ew_profit[:ns] < 0)
        S.loss_days[:ns] = np.where(losing, S.loss_days[:ns] + 1, 0)
        exits = np.flatnonzero(act & (S.loss_days[:ns] >= cfg.merchants.exit_patience)
                               & (S.kind[:ns] == Kind.WHITE_LABEL))
        self._remove_sellers(exits, d, banned=False)
        self.events["sellers_exited"] = exits.size

    def _quality_control(self, d: int) -> None:
        banned, demoted = plat.inspect(self.cfg.platform, self.sellers, self.streams.get("inspection", d), d)
        self._remove_sellers(banned, d, banned=True)
        self.events["frauds_banned"] = banned.size
        self.events["demoted"] = demoted.size

    def _remove_sellers(self, ids: np.ndarray, d: int, banned: bool) -> None:
        if ids.size == 0:
            return
        self.sellers.exit(ids, d, banned=banned)
        stores = self.sellers.store_host[ids]
        self.hosts.drop_sellers(ids, d)
        closed = np.zeros(self.hosts.n, bool)
        closed[stores[stores >= 0]] = True
        self.follows.remove_hosts(closed)

    # ------------------------------------------------------------------ inspection helpers
    def gmv_yuan(self, fen: float) -> float:
        """Fen at model scale to yuan at platform scale."""
        return fen / 100.0 * self.cfg.consumers.scale

    @property
    def channels(self) -> tuple[str, ...]:
        return CHANNELS
