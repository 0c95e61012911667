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
from sim.agents import brands, providers, upgrades
from sim.agents.consumers import Consumers
from sim.agents.follows import FollowGraph
from sim.agents.hosts import HostAgent, Hosts, talent_traits
from sim.agents.providers import ProviderAgent, Providers, provider_traits
from sim.agents.sellers import ENTRY_WAVE, INITIAL, ORGANIC, Kind, SellerAgent, Sellers, white_label_traits
from sim.funds import Funds
from sim.choice import budget_gate, buy_probability, seller_utility
from sim.config import SimConfig, make_config
from sim.ledger import Ledger
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
        self.sellers = Sellers(2 * (cfg.merchants.n + cfg.brands.n) + 64, self.n_segments)
        self.hosts = Hosts(cfg.hosts.n + int(cfg.merchants.n * cfg.merchants.store_share) + 64,
                           cfg.hosts.slate_size)
        self.providers = Providers(cfg.providers.n + 16)
        self.follows = FollowGraph()
        self.allocator = Allocator(cfg.platform)
        self.ledger = Ledger(self.n_segments, len(Kind), n_cohorts=ENTRY_WAVE + len(cfg.brands.entry_waves))
        self.funds = Funds(cfg.funds, cfg.consumers.scale, cfg.consumers.n * cfg.consumers.scale)
        #: Traffic grants for the coming day: ads, snowball support, the traffic fund; others may append.
        self.boosts: list[Boost] = []
        self.traffic_fund_shown = 0  # fund impressions actually shown (model scale)
        self.events: dict[str, int] = {}
        self._init_hosts()
        self._add_merchants(self.streams.get("init.merchants"), cfg.merchants.n, INITIAL)
        self._add_brands(self.streams.get("init.brands"), cfg.brands.n, INITIAL)
        self._init_follows()
        for i in self.providers.add(0, provider_traits(cfg.providers, self.streams.get("init.providers"),
                                                       cfg.providers.n)):
            ProviderAgent(self, i)
        self.hosts.review(cfg.hosts, self.sellers, self.streams.get("host.review", 0), 0,
                          plat.demotion_multiplier(cfg.platform, self.sellers, 0))
        # growth channels act relative to the brand presence the market starts with
        k0 = self.brand_presence()
        self._presence0 = {"arrivals": 1.0 + cfg.brands.presence_arrival_strength * k0,
                           "viewing": 1.0 + cfg.brands.presence_view_strength * k0}
        self.today: dict[str, float] = dict.fromkeys(METRICS, 0.0)
        self.datacollector = mesa.DataCollector(
            model_reporters={name: (lambda m, k=name: m.today[k]) for name in METRICS})

    # ------------------------------------------------------------------ set-up
    def _init_hosts(self) -> None:
        t = talent_traits(self.cfg.hosts, self.streams.get("init.hosts"), self.cfg.hosts.n)
        for i in self.hosts.add(**t):
            HostAgent(self, i)

    def add_hosts(self, tier: np.ndarray, persona: np.ndarray, popularity: np.ndarray, commission: np.ndarray,
                  broadcast_prob: np.ndarray, employer: np.ndarray | None = None) -> np.ndarray:
        """Enter hosts (talent hosts, or store accounts of ``employer``) with their Mesa views."""
        ids = self.hosts.add(tier, persona, popularity, commission, broadcast_prob, employer=employer)
        for i in ids:
            HostAgent(self, i)
        return ids

    def _open_stores(self, owners: np.ndarray, tier: int, persona: float, per_owner: int = 1) -> np.ndarray:
        """Store accounts (self-broadcast channel) for ``owners``: no commission, the owner's goods only."""
        owners = np.repeat(owners, per_owner)
        k, hc = owners.size, self.cfg.hosts
        if k == 0:
            return owners
        return self.add_hosts(np.full(k, tier, np.int8), np.full(k, persona),
                              np.full(k, 0.5 * hc.tier_popularity[tier]), np.zeros(k),
                              np.full(k, hc.tier_broadcast_prob[tier]), employer=owners)

    def _add_merchants(self, rng: np.random.Generator, k: int, cohort: int) -> np.ndarray:
        """Enter ``k`` white-label merchants; a ``store_share`` of them open a store account."""
        m = self.cfg.merchants
        traits = white_label_traits(m, rng, k, self.n_segments)
        store = rng.random(k) < m.store_share
        ids = self.sellers.add(self.day, Kind.WHITE_LABEL, cohort, traits)
        for i in ids:
            SellerAgent(self, i)
        self._open_stores(ids[store], tier=2, persona=0.0)
        return ids

    def _add_brands(self, rng: np.random.Generator, k: int, cohort: int) -> np.ndarray:
        """Enter ``k`` traditional brands; each opens an awareness slot known to ``aware_share`` of a segment."""
        b = self.cfg.brands
        traits = brands.brand_traits(b, rng, k, self.n_segments, self.cfg.merchants.segment_fit_sd)
        ids = self.sellers.add(self.day, Kind.BRAND, cohort, traits)
        self.sellers.stage_day[ids] = self.day
        C = self.consumers
        for i in ids:  # awareness draws keyed by the brand's stable origin: paired across arms
            rng = self.streams.get("brand.awareness", 0, key=int(self.sellers.origin[i]))
            self.sellers.aware_slot[i] = C.new_brand_slot(rng, b.aware_share)
            SellerAgent(self, i)
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
        """One day: entry, contracts, slates, traffic, choice, delivery, accounting, learning, exits."""
        self.day += 1
        d = self.day
        self.events = dict.fromkeys(("hosts_poached", "followers_poached", "upgrades", "stores_opened"), 0)
        self.ledger.begin_day()
        self.funds.begin_day()
        self._arrivals(d)
        self._seller_entry(d)
        self.events["sp_matches"] = providers.match(self, d)
        self.events["sp_entered"] = providers.enter(self, d).size
        demotion = plat.demotion_multiplier(self.cfg.platform, self.sellers, d)
        self.hosts.review(self.cfg.hosts, self.sellers, self.streams.get("host.review", d), d,
                          demotion * brands.host_willingness(self), brands.extra_commission(self))
        live = self.hosts.schedule(self.streams.get("host.schedule", d))
        self._plan_boosts(d, live)
        visits = self._visits(d, live, demotion)
        orders = self._orders(d, visits)
        self._learn(d, visits, orders)
        self._seller_outcomes(d, visits, orders)
        self._providers_and_funds(d, orders)
        self._quality_control(d)
        self.today = daily_metrics(self, visits, orders)
        self.datacollector.collect(self)
        self.boosts = []

    def _arrivals(self, d: int) -> None:
        C, b = self.consumers, self.cfg.brands
        act = C.active[: C.n]
        ratio = float(C.trust[: C.n][act].mean()) / self.trust_ref if act.any() else 1.0
        presence = 1.0
        if b.presence_arrivals and act.any():
            presence = (1.0 + b.presence_arrival_strength * self.brand_presence()) / self._presence0["arrivals"]
        self.events["new_consumers"] = C.arrive(self.streams.get("arrivals", d), ratio, d, presence).size
        C.refill_wallets()

    def _seller_entry(self, d: int) -> None:
        """Organic white-label entry, and brand entry waves scheduled for today."""
        rng = self.streams.get("merchant.entry", d)
        k = int(rng.poisson(self.cfg.merchants.entry_rate))
        if k:
            self._add_merchants(rng, k, ORGANIC)
        waves = [(i, n) for i, (day, n) in enumerate(self.cfg.brands.entry_waves) if day == d and n > 0]
        for i, n in waves:
            self._add_brands(self.streams.get("brand.entry", d, key=i), n, ENTRY_WAVE + i)
        self.events["sellers_entered"] = k + sum(n for _, n in waves)

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
        plan = int(b.ad_spend / b.ad_cost)
        for i in np.flatnonzero(ads | snow):
            rooms = room[seller == i]
            if rooms.size == 0:
                continue
            items = np.full(rooms.size, i)
            if ads[i] and plan:
                self.boosts.append(Boost(f"ads:{i}", rooms, plan, items=items))
            if snow[i] and b.snowball_boost >= 1:
                self.boosts.append(Boost(f"snowball:{i}", rooms, int(b.snowball_boost), items=items))
        offer = self.funds.traffic_grant(d)
        sp = S.sp[seller]
        client = sp >= 0
        if offer and client.any():
            weights = 1.0 + self.cfg.providers.traffic_uplift * self.providers.traffic_op[sp[client]]
            self.boosts.append(Boost("fund_traffic", room[client], offer, weights, items=seller[client]))

    def _visits(self, d: int, live: np.ndarray, demotion: np.ndarray) -> dict[str, np.ndarray]:
        """Private-domain visits to followed live hosts, then allocated public-domain impressions."""
        cfg, C, H, F = self.cfg, self.consumers, self.hosts, self.follows
        # private domain: each follow edge to a live host is a visit with prob ~ trust in the host
        eh, ec = F.host, F.consumer
        edge = np.flatnonzero(H.live[eh])  # edges to hosts on air today
        p = np.minimum(1.0, (cfg.consumers.visit_prob / cfg.consumers.host_trust_init_mean) * F.trust[edge])
        edge = edge[self.streams.get("private", d).random(edge.size) < p]
        # public domain: impressions demanded (stochastic rounding of the rate, one draw per consumer)
        b = cfg.brands
        lam = C.view_factor(self.trust_ref, b.presence_view_strength * b.presence_viewing)
        lam *= cfg.platform.feed_load / (self._presence0["viewing"] if b.presence_viewing else 1.0)
        demand = np.floor(lam + self.streams.get("viewing", d).random(C.n)).astype(np.int64)
        rng = self.streams.get("allocation", d)
        slate = H.slate[live]
        carried = slate >= 0
        sp = np.where(carried, self.sellers.sp[np.maximum(slate, 0)], -1)
        traffic_op = np.where(sp >= 0, self.providers.traffic_op[np.maximum(sp, 0)], 0.0).max(axis=1, initial=0.0)
        room_mult = np.where(carried, demotion[np.maximum(slate, 0)], 1.0).min(axis=1, initial=1.0)
        room_mult *= 1.0 + cfg.providers.traffic_uplift * traffic_op
        scores = rule_scores(cfg.platform.allocation, H.ew_visits[live], H.ew_orders[live],
                             H.ew_gmv[live], H.ew_satisfied[live])
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
        pub_h = live[slot]
        for bo, lb in zip(self.boosts, boosts):
            bo.granted = lb.granted
        self._charge_boosts()
        consumer = np.concatenate([ec[edge], pub_c])
        room = np.concatenate([eh[edge], pub_h])
        # which of the room's items is on screen when the viewer enters
        n_items = H.slate_size()[room]
        k = (self.streams.get("slot", d).random(room.size) * n_items).astype(np.int64)
        k += room * H.slate.shape[1]
        seller = H.slate.ravel()[k]
        pub = seller[edge.size:]  # a promoted impression shows the promoted goods
        np.copyto(pub, promoted, where=promoted >= 0)
        return {
            "consumer": consumer,
            "room": room,
            "seller": seller,
            "private": np.concatenate([np.ones(edge.size, bool), np.zeros(pub_c.size, bool)]),
            "edge": np.concatenate([edge, np.full(pub_c.size, -1)]),
        }

    def _charge_boosts(self) -> None:
        """Brands pay for the ad impressions shown; the traffic fund is charged what it delivered."""
        S, b = self.sellers, self.cfg.brands
        self._ads_paid = np.zeros(S.n)
        for bo in self.boosts:
            kind, _, who = bo.name.partition(":")
            if kind == "ads" and bo.granted:
                cost = bo.granted * b.ad_cost
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
        trust = C.trust[c]
        priv = v["private"]
        w = cfg.choice.private_host_weight
        trust[priv] = (1.0 - w) * trust[priv] + w * F.trust[v["edge"][priv]]
        table = seller_utility(cfg.choice, S)  # (seller, segment): a small table, one gather per view
        sp = S.sp[: S.n]
        table += (cfg.providers.conversion_uplift * np.where(sp >= 0, self.providers.room_op[np.maximum(sp, 0)],
                                                             0.0))[:, None]
        seller_term = table.ravel()[s * table.shape[1] + C.segment[c]]
        branded = np.flatnonzero(S.kind[s] != Kind.WHITE_LABEL)
        seller_term[branded] += C.brand_affinity[c[branded]] + cfg.choice.w_awareness * C.is_aware(
            c[branded], S.aware_slot[s[branded]])
        # a brand's own store room sells below the list price hosts sell at
        log_price = np.log(S.price[: S.n])[s]
        discounted = brands.self_broadcasting(self)
        store_sale = np.zeros(s.size, bool)
        if discounted.any():
            store_sale = discounted[s] & (H.employer[h] >= 0)
            log_price[store_sale] += np.log1p(-cfg.brands.self_broadcast_discount)
        p = buy_probability(cfg.choice, trust, seller_term, cfg.choice.w_persona * H.persona[h],
                            C.price_sens[c], log_price, plat.active_guarantees(cfg.platform))
        intent = np.flatnonzero(self.streams.get("choice", d).random(c.size) < p)
        price = S.price[s[intent]] * np.where(store_sale[intent], 1.0 - cfg.brands.self_broadcast_discount, 1.0)
        price = np.round(price, 2)  # prices are whole fen, so wallets and the ledger agree exactly
        ok = budget_gate(self.streams.get("budget", d), c[intent], price, C.wallet)
        o = {name: v[name][intent[ok]] for name in v}
        o["price"] = price[ok]
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
        C.settle_orders(oc, o["price"], st.refunded, o["cheated"], st.compensation)
        self.ledger.side("compensation", st.compensation)
        self.ledger.side("shipping_comp", st.shipping_comp)
        o["channel"] = (H.employer[oh] >= 0).astype(np.int64)
        o["sp"] = S.sp[os_]
        commission = H.commission[oh] + np.where(o["channel"] == 0, brands.extra_commission(self)[os_], 0.0)
        fee = np.where(o["sp"] >= 0, self.providers.fee[np.maximum(o["sp"], 0)], 0.0)
        split = self.ledger.post(C.segment[oc], S.kind[os_], o["channel"], S.cohort[os_], o["price"],
                                 commission, cfg.platform.take_rate, fee, st.refunded)
        o.update({f"fen_{k}": val for k, val in split.items()})
        return o

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

    def _learn_awareness(self, d: int, v: dict[str, np.ndarray], o: dict[str, np.ndarray]) -> None:
        """Viewers may learn a brand they saw; buyers learn it."""
        C, S = self.consumers, self.sellers
        seen = np.flatnonzero(S.aware_slot[v["seller"]] >= 0)
        if seen.size == 0:
            return
        u = self.streams.get("awareness", d).random(seen.size)
        learn = seen[u < self.cfg.brands.awareness_per_view]
        who = np.concatenate([v["consumer"][learn], o["consumer"]])
        slot = np.concatenate([S.aware_slot[v["seller"][learn]], S.aware_slot[o["seller"]]])
        C.make_aware(who, slot)

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
        fixed = np.where(S.kind[:ns] == Kind.BRAND, cfg.brands.fixed_cost, cfg.merchants.fixed_cost)
        profit = np.where(S.active[:ns], revenue - cost - comp - fixed - self._ads_paid[:ns], 0.0)
        profit -= upgrades.invest(self, profit)
        S.budget[:ns] += np.where(S.kind[:ns] == Kind.BRAND, profit, 0.0)  # the entry budget absorbs results
        for col, x in ((S.ew_views, views), (S.ew_orders, orders), (S.ew_refunds, refunds),
                       (S.ew_profit, profit)):
            col[:ns] += a_s * (x - col[:ns])
        S.gmv[:ns] += np.bincount(os_, weights=gmv, minlength=ns)
        own = o["channel"] == 1
        S.gmv_self[:ns] += np.bincount(os_[own], weights=gmv[own], minlength=ns)
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
        # exit: merchants after sustained losses, brands when the entry budget is spent without traction
        act = S.active[:ns]
        losing = act & (S.ew_profit[:ns] < 0)
        S.loss_days[:ns] = np.where(losing, S.loss_days[:ns] + 1, 0)
        exits = np.flatnonzero(act & (S.loss_days[:ns] >= cfg.merchants.exit_patience)
                               & (S.kind[:ns] != Kind.BRAND))
        exits = np.union1d(exits, brands.exits(self))
        self._remove_sellers(exits, d, banned=False)
        self.events["sellers_exited"] = exits.size
        # STEPS, store openings, poaching, upgrades
        opening = brands.advance_steps(self, d, orders)
        self._open_stores(opening, tier=1, persona=cfg.brands.store_persona, per_owner=cfg.brands.store_hosts)
        self.events["stores_opened"] = opening.size * cfg.brands.store_hosts
        self.events["hosts_poached"], self.events["followers_poached"] = brands.poach(self, d)
        self.events["upgrades"] = upgrades.upgrade(self, d).size

    def _providers_and_funds(self, d: int, o: dict[str, np.ndarray]) -> None:
        """Service providers earn fees and fund money, receive ecosystem investment, and may exit."""
        P, cfg = self.providers, self.cfg
        n = P.n
        sp = o["sp"]
        client = sp >= 0
        fees = np.bincount(sp[client], weights=o["fen_sp_fee"][client], minlength=n) / 100.0
        client_gmv = np.bincount(sp[client], weights=o["fen_gmv"][client], minlength=n) / 100.0
        growth = np.where(P.active[:n], P.ew_client_gmv_fast[:n] - P.ew_client_gmv[:n], 0.0)
        cash = self.funds.pay_cash(d, growth)
        self.ledger.side("fund_cash", cash)
        providers.settle(self, d, fees, client_gmv, cash)
        act = P.active[:n]
        eco = self.funds.invest_eco(d, np.where(act, P.clients[:n] + 1.0, 0.0))
        self.ledger.side("fund_eco", eco)
        if eco.any():
            f = cfg.funds
            for col in (P.traffic_op, P.room_op, P.incubation):
                col[:n] += f.eco_capability * eco * (1.0 - col[:n])
            P.max_clients[:n] += f.eco_capacity * eco
            P.eco[:n] += eco

    def _quality_control(self, d: int) -> None:
        banned, demoted = plat.inspect(self.cfg.platform, self.sellers, self.streams.get("inspection", d), d)
        self._remove_sellers(banned, d, banned=True)
        self.events["frauds_banned"] = banned.size
        self.events["demoted"] = demoted.size

    def _remove_sellers(self, ids: np.ndarray, d: int, banned: bool) -> None:
        """Sellers leave: slates drop them, their store accounts close, SP contracts end, brands are forgotten."""
        if ids.size == 0:
            return
        S, H, C = self.sellers, self.hosts, self.consumers
        S.exit(ids, d, banned=banned)
        H.drop_sellers(ids, d)
        closed = np.isin(H.employer[: H.n], ids)
        self.follows.remove_hosts(closed)
        providers.release(self, ids)
        for slot in S.aware_slot[ids]:
            if slot >= 0:
                C.forget_brand(int(slot))

    def metrics_frame(self):  # noqa: ANN201 - a pandas DataFrame
        """The data collector's daily metrics, indexed by day (1, 2, ...)."""
        frame = self.datacollector.get_model_vars_dataframe()
        frame.index = frame.index + 1
        frame.index.name = "day"
        return frame

    def brand_presence(self) -> float:
        """Mean over active consumers of log(1 + active brands they know)."""
        C = self.consumers
        act = C.active[: C.n]
        return float(np.log1p(C.known[: C.n][act]).mean()) if act.any() else 0.0
