"""Traditional brands: entry (at start and in waves), the STEPS path, self-broadcast, poaching.

Brands are rows of the seller book with ``kind == BRAND``; this module holds
the rules that only brands follow.  STEPS (the platform's brand path):

0. **distribution**: sell through talent hosts, buy ad impressions;
1. **content**: test content, learning which audience segments respond
   (segment fit moves towards 1);
2. **self_broadcast**: open own store accounts (employed hosts);
3. **snowball**: platform traffic support compounds followers and sales.

A stage ends when its order count, weighted by ``speed = 1 + sp_speed *
room-operation capability of the brand's SP``, reaches ``stage_orders[k]``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sim.agents import providers
from sim.agents.follows import FollowGraph
from sim.agents.hosts import Hosts
from sim.agents.providers import Providers
from sim.agents.sellers import Kind, Sellers
from sim.config import STEPS_STAGES, BrandsConfig, ChoiceConfig, HostsConfig, ProvidersConfig

DISTRIBUTION, CONTENT, SELF_BROADCAST, SNOWBALL = range(len(STEPS_STAGES))


def brand_traits(cfg: BrandsConfig, rng: np.random.Generator, k: int, n_segments: int,
                 fit_sd: float) -> dict[str, np.ndarray]:
    """Draw ``k`` traditional brands: dearer, better and more honest than white-label goods."""
    price = cfg.price_median * rng.lognormal(0.0, cfg.price_sd, k)
    quality = np.clip(rng.normal(cfg.quality_mean, cfg.quality_sd, k), 0.0, 1.0)
    fit = rng.normal(0.0, fit_sd, (k, n_segments))
    # the audience a brand assumes it has: the segment it fits best, as it guesses it (seed: the menswear
    # brand that assumed men and found half its buyers were women)
    guess = np.argmax(fit + cfg.belief_sd * rng.standard_normal((k, n_segments)), axis=1)
    return {
        "price": price,
        "quality": quality,
        "claim": quality + cfg.inflation,
        "unit_cost": cfg.unit_cost_share * price,
        "fit": fit,
        "audience_prior": np.eye(n_segments)[guess],
        "budget": np.full(k, cfg.entry_budget),
        "stage": np.full(k, DISTRIBUTION, dtype=np.int8),
    }


def speed(cfg: BrandsConfig, S: Sellers, P: Providers, ids: np.ndarray) -> np.ndarray:
    """STEPS speed of each seller: faster with a capable service provider."""
    return 1.0 + cfg.sp_speed * providers.service(S, P, "room_op", ids)


def audience_belief(cfg: BrandsConfig, S: Sellers, ids: np.ndarray) -> np.ndarray:
    """What each brand believes its audience is (shares by segment): its prior guess updated by its buyers.

    ``(belief_orders x prior + orders by segment of one real brand) / (belief_orders + its orders)``.
    """
    real = S.audience_orders[ids] / S.mass[ids, None]
    return (cfg.belief_orders * S.audience_prior[ids] + real) / (cfg.belief_orders + real.sum(axis=1, keepdims=True))


def advance_steps(cfg: BrandsConfig, S: Sellers, P: Providers, H: Hosts, day: int, orders: np.ndarray,
                  segment_orders: np.ndarray) -> np.ndarray:
    """Progress every active brand along STEPS by today's orders; returns brands that opened stores.

    ``segment_orders`` (sellers x segments) are today's orders by buyer segment: brands learn their
    audience from them, and the content stage develops content for the segments they believe in.
    """
    n = S.n
    brand = np.flatnonzero(S.active[:n] & (S.kind[:n] == Kind.BRAND))
    S.audience_orders[brand] += segment_orders[brand]
    b = brand[S.stage[brand] < SNOWBALL]
    if b.size == 0:
        return without_store(cfg, S, H)
    v = speed(cfg, S, P, b)
    S.stage_progress[b] += orders[b] / S.mass[b] * v  # progress of one real brand
    content = S.stage[b] == CONTENT
    testing = b[content]
    # content search over audience segments: effort goes where the brand believes its buyers are
    effort = S.fit.shape[1] * audience_belief(cfg, S, testing)
    S.fit[testing] += cfg.content_fit_gain * v[content][:, None] * effort * (1.0 - S.fit[testing])
    need = np.asarray(cfg.stage_orders)[np.minimum(S.stage[b], SNOWBALL - 1)]
    up = b[S.stage_progress[b] >= need]
    S.stage[up] += 1
    S.stage_progress[up] = 0.0
    S.stage_day[up] = day
    if not cfg.self_broadcast:  # hosts only: the self-broadcast stage is skipped
        skip = up[S.stage[up] == SELF_BROADCAST]
        S.stage[skip] = SNOWBALL
        return np.zeros(0, np.int64)
    return without_store(cfg, S, H)


def without_store(cfg: BrandsConfig, S: Sellers, H: Hosts) -> np.ndarray:
    """Brands past the self-broadcast stage, allowed to self-broadcast, that have no store account yet.

    Usually the brands that entered the stage today; also every brand already past it when
    self-broadcast is switched on in a branch (a policy starting after the burn-in).
    """
    n = S.n
    if not cfg.self_broadcast:
        return np.zeros(0, np.int64)
    emp = H.employer[: H.n]
    has = np.zeros(n, bool)
    has[emp[(emp >= 0) & H.active[: H.n]]] = True
    return np.flatnonzero(S.active[:n] & (S.kind[:n] == Kind.BRAND) & (S.stage[:n] >= SELF_BROADCAST) & ~has)


def stage_counts(S: Sellers) -> dict[str, float]:
    """Active traditional brands in each STEPS stage, in real brands / scale (the agents' masses)."""
    n = S.n
    sel = S.active[:n] & (S.kind[:n] == Kind.BRAND)
    counts = np.bincount(S.stage[:n][sel], weights=S.mass[:n][sel], minlength=len(STEPS_STAGES))
    return {name: float(counts[i]) for i, name in enumerate(STEPS_STAGES)}


def self_broadcasting(cfg: BrandsConfig, S: Sellers) -> np.ndarray:
    """Boolean per seller: a brand in a stage where it runs its own broadcasts."""
    n = S.n
    return (S.kind[:n] == Kind.BRAND) & (S.stage[:n] >= SELF_BROADCAST) & cfg.self_broadcast


def host_willingness(b: BrandsConfig, S: Sellers) -> np.ndarray:
    """Multiplier on a talent host's score for carrying each seller: reluctance learned from diversion.

    Hosts see how many of a self-broadcasting brand's sales in their rooms leave for the brand's
    store (:func:`divert`): willingness is ``1 - competitor_penalty x diverted share`` (smoothed),
    so reluctance is an outcome of consumers' choices.  Price-difference compensation counts once in
    a host's decision: as the extra commission in its score (:func:`extra_commission`).
    """
    n = S.n
    share = S.ew_diverted[:n] / np.maximum(S.ew_diverted[:n] + S.ew_host_orders[:n], 1e-12)
    return np.where(self_broadcasting(b, S), 1.0 - b.competitor_penalty * share, 1.0)


def divert(cfg: BrandsConfig, choice: ChoiceConfig, rng: np.random.Generator, price_sens: np.ndarray,
           trust_here: np.ndarray, trust_store: np.ndarray, persona_host: np.ndarray,
           persona_store: np.ndarray) -> np.ndarray:
    """Which intents to buy a self-broadcasting brand in a talent host's room move to the brand's store.

    A viewer who knows the brand compares the host's room with the brand's own store, where the
    same goods cost ``self_broadcast_discount`` less:
    ``dU = price_sens x -ln(1 - discount) + w_persona x (persona_store - persona_host)
    + w_trust x (trust_store - trust_here) - switch_cost`` and moves with probability ``1/(1+exp(-dU))``.
    """
    du = (price_sens * -np.log1p(-cfg.self_broadcast_discount) + choice.w_persona * (persona_store - persona_host)
          + choice.w_trust * (trust_store - trust_here) - cfg.switch_cost)
    return rng.random(du.size) < 0.5 * (1.0 + np.tanh(0.5 * du))


def extra_commission(b: BrandsConfig, S: Sellers) -> np.ndarray:
    """Price-difference compensation: extra commission share hosts earn on self-broadcasting brands."""
    return np.where(self_broadcasting(b, S), b.price_comp * b.self_broadcast_discount, 0.0)


def exits(cfg: BrandsConfig, S: Sellers, day: int) -> np.ndarray:
    """Brands that stop: without traction once their entry budget is spent, or losing money after a trial.

    Traction is one real brand's smoothed orders a day (``ew_orders / mass``); a brand below
    ``exit_traction`` leaves when its budget is exhausted, or after ``trial_days`` on the platform
    if it is still losing money (smoothed profit below 0), so weak entrants fail within months
    while a small brand that pays its way stays.
    """
    n = S.n
    weak = S.ew_orders[:n] / S.mass[:n] < cfg.exit_traction
    judged = (S.budget[:n] < 0) | ((day - S.entered[:n] >= cfg.trial_days) & (S.ew_profit[:n] < 0))
    return np.flatnonzero(S.active[:n] & (S.kind[:n] == Kind.BRAND) & weak & judged)


def ad_budget(cfg: BrandsConfig, budget: np.ndarray, mass: np.ndarray) -> np.ndarray:
    """Today's ad spend of each brand agent: ``ad_spend`` per real brand, cut as its budget runs down.

    Spending responds to performance: a brand whose sales pay back its costs keeps its budget and
    its ads; one that loses money spends less on ads as the budget shrinks, and nothing once it is spent.
    """
    full = cfg.entry_budget * mass
    left = np.clip(np.divide(budget, full, out=np.zeros_like(budget), where=full > 0), 0.0, 1.0)
    return cfg.ad_spend * mass * left


#: Adds independent talent hosts: (tier, persona, popularity, commission, broadcast prob, mass) -> their ids.
AddHosts = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def poach(cfg: BrandsConfig, pcfg: ProvidersConfig, hc: HostsConfig, S: Sellers, H: Hosts, F: FollowGraph,
          P: Providers, rng: np.random.Generator, day: int, add_hosts: AddHosts) -> tuple[float, int]:
    """Brand store hosts poached away; returns (hosts poached, followers they took).

    A store host leaves when its outside option beats its wage: going independent it would earn a
    mid-tier commission on the GMV its room brings (``ew_gmv / mass``, one real room's), against
    ``store_wage``; SP incubation raises its loyalty.  The daily hazard is
    ``poach_prob / (1 + exp(-(outside / (store_wage x (1 + incubation_protect x incubation)) - 1) / 0.1))``.
    A poached host leaves as an independent talent host, taking ``poach_follower_share`` of the
    account's followers; the brand re-staffs the account, whose persona is re-grown faster with
    SP incubation.
    """
    nh = H.n
    emp = H.employer[:nh]
    u = rng.random(nh)
    store = np.flatnonzero(H.active[:nh] & (emp >= 0))
    store = store[S.kind[emp[store]] != Kind.WHITE_LABEL]
    if store.size == 0:
        return 0.0, 0
    inc = providers.service(S, P, "incubation", emp[store]) * pcfg.incubation
    outside = hc.tier_commission[1] * H.ew_gmv[store] / H.mass[store]
    loyal_wage = cfg.store_wage * (1.0 + pcfg.incubation_protect * inc)
    risk = cfg.poach_prob * 0.5 * (1.0 + np.tanh(0.5 * (outside / loyal_wage - 1.0) / 0.1))
    hit = u[store] < risk
    poached, inc = store[hit], inc[hit]
    if poached.size == 0:
        return 0.0, 0
    tier = np.full(poached.size, 1, np.int8)  # leaves as a mid-tier talent host
    new = add_hosts(tier, H.persona[poached], np.full(poached.size, hc.tier_popularity[1]),
                    np.full(poached.size, hc.tier_commission[1]), np.full(poached.size, hc.tier_broadcast_prob[1]),
                    H.mass[poached])
    H.next_review[new] = day + 1
    H.persona[poached] = cfg.store_persona * (0.3 + 0.7 * inc)
    # followers who leave with the host
    mapping = np.full(nh, -1, np.int64)
    mapping[poached] = new
    eh = F.host
    moving = (mapping[eh] >= 0) & (rng.random(len(F)) < cfg.poach_follower_share)
    taken = int(moving.sum())
    if taken:
        c, t, h2 = F.consumer[moving], F.trust[moving], mapping[eh[moving]]
        F.remove(moving)
        F.add(c, h2, t)
    return float(H.mass[poached].sum()), taken
