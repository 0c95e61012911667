"""Public-domain traffic: how many impressions the platform supplies and which rooms get them.

Supply is demand-driven: each active consumer asks for
``floor(lam_i + u_i)`` feed impressions a day (stochastic rounding of
``lam_i = feed_load * views_i * (trust_i / trust_ref) ** elasticity`` times
the brand-presence factor; one uniform per consumer keeps draws paired).  The platform allocates the day's total over the live
rooms in two passes:

1. **boosts** (traffic grants, entry support: :class:`Boost`) are carved out
   first, each up to its budget and never more than is left;
2. every other impression goes to a room drawn from the allocation **rule**'s
   weights with a Walker alias table (O(1) per impression, no search).

Each impression is served to the consumer who asked for it, so allocated
impressions equal supplied impressions exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim import kernels
from sim.config import ALLOCATION_RULES, PlatformConfig


@dataclass
class Boost:
    """A traffic grant: up to ``impressions`` shown in ``rooms`` (split by ``weights``).

    ``items`` (aligned with ``rooms``) names the seller whose goods a boosted
    impression puts on screen (a promoted product); without it the viewer sees
    whatever the room is selling.
    """

    name: str
    rooms: np.ndarray
    impressions: int
    weights: np.ndarray | None = None
    items: np.ndarray | None = None
    granted: int = field(default=0, init=False)  # filled in by the allocator


def rule_scores(rule: str, ew_visits: np.ndarray, ew_orders: np.ndarray, ew_gmv: np.ndarray,
                ew_satisfied: np.ndarray) -> np.ndarray:
    """Ranking score of each room under ``rule`` (smoothed with a weak prior).

    conversion: orders per view; gmv: GMV per view; trust: orders that met
    the buyer's expectation per view; uniform: equal.
    """
    if rule == "conversion":
        return (ew_orders + 0.02) / (ew_visits + 1.0)
    if rule == "gmv":
        return (ew_gmv + 1.0) / (ew_visits + 1.0)
    if rule == "trust":
        return (ew_satisfied + 0.02) / (ew_visits + 1.0)
    if rule == "uniform":
        return np.ones_like(ew_visits)
    raise ValueError(f"unknown allocation rule {rule!r}; allowed: {', '.join(ALLOCATION_RULES)}")


class Allocator:
    """Splits a day's impression supply over live rooms; records what it did."""

    def __init__(self, cfg: PlatformConfig) -> None:
        self.cfg = cfg
        self.supplied = 0  # public impressions demanded and served today
        self.boosted = 0
        self.source = np.zeros(0, np.int32)  # the boost that served each public view of the day (-1: the rule)

    def weights(self, scores: np.ndarray, demotion: np.ndarray) -> np.ndarray:
        """Rule weights: (1 - exploration) * score**power share + exploration * uniform, times demotion."""
        c = self.cfg
        if scores.size == 0:
            return scores
        s = np.power(scores, c.allocation_power)
        total = s.sum()
        w = (1.0 - c.exploration) * (s / total if total > 0 else 1.0 / s.size) + c.exploration / s.size
        w = w * demotion
        return w / w.sum()

    def allocate(self, rng: np.random.Generator, demand: np.ndarray, weights: np.ndarray,
                 boosts: list[Boost] | tuple[Boost, ...] = ()) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Serve each demanded impression: returns (viewer, room, promoted item or -1) per impression.

        ``demand[i]`` impressions are requested by viewer ``i``; rooms are
        positions in ``weights``.  Boost impressions go to random impression
        slots first (each boost up to its budget and what is left); every other
        slot gets a room drawn from the rule's weights with an alias table
        (O(1) per draw).  Every supplied impression gets a room; the model checks that the rooms'
        own tallies add up to ``supplied`` (``views_allocated``, sim.checks).
        """
        supply = int(demand.sum()) if weights.size else 0  # nothing can be shown without a live room
        viewers = kernels.repeat_index(demand) if supply else np.zeros(0, np.int64)
        rooms = alias_draw(rng, *alias_table(weights), supply) if supply else np.zeros(0, np.int64)
        items = np.full(supply, -1, np.int32)  # seller ids
        left = supply
        self.boosted = 0
        given, promoted, origin = [], [], []
        self.source = np.full(supply, -1, np.int32)  # which boost (its index in ``boosts``) served each slot
        for k, b in enumerate(boosts):
            give = min(int(b.impressions), left) if b.rooms.size else 0
            if give > 0:
                bw = np.ones(b.rooms.size) if b.weights is None else np.asarray(b.weights, float)
                counts = rng.multinomial(give, bw / bw.sum())
                given.append(np.repeat(b.rooms, counts))
                promoted.append(np.repeat(b.items if b.items is not None else np.full(b.rooms.size, -1), counts))
                origin.append(np.full(give, k, np.int32))
            b.granted = give
            left -= give
            self.boosted += give
        if self.boosted:
            slots = rng.choice(supply, size=self.boosted, replace=False)
            rooms[slots] = np.concatenate(given)
            items[slots] = np.concatenate(promoted)
            self.source[slots] = np.concatenate(origin)
        self.supplied = supply
        return viewers, rooms, items


def alias_table(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walker's alias table for probabilities ``p`` (Vose's O(K) construction).

    The loop is over rooms (thousands), never over impressions (millions).
    """
    k = p.size
    q = (np.asarray(p, float) * (k / p.sum())).tolist()
    prob = [1.0] * k
    alias = list(range(k))
    small = [i for i, x in enumerate(q) if x < 1.0]
    large = [i for i, x in enumerate(q) if x >= 1.0]
    while small and large:
        s, l = small.pop(), large.pop()
        prob[s], alias[s] = q[s], l
        q[l] += q[s] - 1.0
        (small if q[l] < 1.0 else large).append(l)
    return np.array(prob), np.array(alias, dtype=np.int64)


def alias_draw(rng: np.random.Generator, prob: np.ndarray, alias: np.ndarray, size: int) -> np.ndarray:
    """``size`` draws from an alias table with one uniform each (:func:`sim.kernels.alias_pick`)."""
    pair = np.stack([np.arange(prob.size), alias], axis=1).ravel()  # (column, its alias) side by side
    out = np.empty(size, np.int64)
    kernels.alias_pick(rng, prob, pair, out)
    return out
