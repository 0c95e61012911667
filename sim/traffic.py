"""Public-domain traffic: how many impressions the platform supplies and which rooms get them.

Supply is demand-driven: each active consumer asks for
``Poisson(feed_load * views_i * (trust_i / trust_ref) ** elasticity)`` feed
impressions a day.  The platform allocates the day's total over the live
rooms in two passes:

1. **boosts** (traffic grants, entry support: :class:`Boost`) are carved out
   first, each up to its budget and never more than is left;
2. the remainder is split by the allocation **rule**'s weights with one
   multinomial draw (O(rooms), no per-impression search).

Impressions are then matched to the consumers who asked for them by a random
permutation, so allocated impressions equal supplied impressions exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.config import ALLOCATION_RULES, PlatformConfig


@dataclass
class Boost:
    """A traffic grant: up to ``impressions`` shown in ``rooms`` (split by ``weights``)."""

    name: str
    rooms: np.ndarray
    impressions: int
    weights: np.ndarray | None = None
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
        self.supplied = 0
        self.allocated = 0
        self.boosted = 0

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

    def allocate(self, rng: np.random.Generator, supply: int, weights: np.ndarray,
                 boosts: list[Boost] | tuple[Boost, ...] = ()) -> np.ndarray:
        """Impressions per room (aligned with ``weights``); they sum to ``supply`` when any room is live."""
        counts = np.zeros(weights.size, dtype=np.int64)
        left = int(supply)
        self.boosted = 0
        for b in boosts:
            give = min(int(b.impressions), left) if b.rooms.size else 0
            if give > 0:
                bw = np.ones(b.rooms.size) if b.weights is None else np.asarray(b.weights, float)
                np.add.at(counts, b.rooms, rng.multinomial(give, bw / bw.sum()))
            b.granted = give
            left -= give
            self.boosted += give
        if weights.size and left > 0:
            counts += rng.multinomial(left, weights)
        elif left > 0:  # no live room: the impressions cannot be shown
            supply -= left
        self.supplied = int(supply)
        self.allocated = int(counts.sum())
        return counts


def match_viewers(rng: np.random.Generator, demand: np.ndarray, rooms: np.ndarray,
                  counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pair each demanded impression (consumer repeated ``demand`` times) with an allocated room."""
    viewers = np.repeat(np.arange(demand.size), demand)
    shown = np.repeat(rooms, counts)
    if shown.size != viewers.size:
        viewers = viewers[: shown.size]  # only when no room was live
    return viewers, shown[rng.permutation(shown.size)]
