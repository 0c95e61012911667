"""Hosts (talent streamers) and sellers' own store accounts, as one book of rooms.

A host is a live room.  Talent hosts (``employer == -1``) carry a slate of
other sellers' goods for a commission: the *host distribution* channel.  A
store account (``employer >= 0``) broadcasts only its employer's goods, for no
commission: the *self-broadcast* channel.  :class:`HostAgent` is a thin Mesa
view of one row.
"""

from __future__ import annotations

import numpy as np

from sim.agents.book import Book, BookAgent, column_view
from sim.agents.sellers import Sellers
from sim.config import HostsConfig

TIER_NAMES = ("top", "mid", "small")


class Hosts(Book):
    """Traits, slates, schedules and running statistics of every live room."""

    def __init__(self, capacity: int, slate_size: int) -> None:
        super().__init__(capacity)
        self.column("tier", np.int8)
        self.column("mass", np.float64, 1.0)  # real hosts per agent / consumers.scale (sim.resolution)
        self.column("persona", np.float64)  # persona strength in [0, 1]
        self.column("popularity", np.float64)  # relative attraction for new follows
        self.column("commission", np.float64)  # share of GMV
        self.column("broadcast_prob", np.float64)
        self.column("employer", np.int32, -1)  # seller id for store accounts
        self.column("active", bool, False)
        self.column("live", bool, False)  # broadcasting today
        self.column("slate", np.int32, -1, width=slate_size)
        self.column("next_review", np.int32)
        self.column("ew_visits", np.float64)
        self.column("ew_orders", np.float64)
        self.column("ew_gmv", np.float64)
        self.column("ew_satisfied", np.float64)
        # the GMV the allocator ranks by: without the traffic fund's orders, as ew_visits, ew_orders and
        # ew_satisfied (MODEL.md 3.3.17); ew_gmv is all of the room's GMV, equal while the fund shows nothing
        self.column("ew_organic_gmv", np.float64)
        self.column("income", np.float64)  # cumulative commissions, yuan of the agent
        self.column("gmv", np.float64)  # cumulative GMV through the room, yuan of the agent

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        if "ew_organic_gmv" not in self._columns:  # a checkpoint from before the organic ranking GMV
            self._columns["ew_organic_gmv"] = 0.0
            self.ew_organic_gmv = self.ew_gmv.copy()  # the fund's share fades within score_memory days

    def add(self, tier: np.ndarray, persona: np.ndarray, popularity: np.ndarray, commission: np.ndarray,
            broadcast_prob: np.ndarray, mass: np.ndarray, employer: np.ndarray | None = None) -> np.ndarray:
        """Enter hosts with the given traits; returns their ids."""
        idx = self.append(len(tier))
        self.tier[idx] = tier
        self.mass[idx] = mass
        self.persona[idx] = persona
        self.popularity[idx] = popularity
        self.commission[idx] = commission
        self.broadcast_prob[idx] = broadcast_prob
        self.active[idx] = True
        if employer is not None:
            self.employer[idx] = employer
            self.slate[idx, 0] = employer
        return idx

    @property
    def is_store(self) -> np.ndarray:
        return self.employer[: self.n] >= 0

    def schedule(self, rng: np.random.Generator) -> np.ndarray:
        """Who broadcasts today: Bernoulli(broadcast_prob) among active hosts with goods to sell."""
        n = self.n
        u = rng.random(n)
        has_goods = (self.slate[:n] >= 0).any(axis=1)
        self.live[:n] = self.active[:n] & has_goods & (u < self.broadcast_prob[:n])
        return np.flatnonzero(self.live[:n])

    def drop_sellers(self, gone: np.ndarray, day: int) -> None:
        """Remove sellers that left the market from every slate; affected hosts review tomorrow."""
        n = self.n
        slate = self.slate[:n]
        hit = np.isin(slate, gone) & (slate >= 0)
        if hit.any():
            slate[hit] = -1
            self.compact()
            rows = hit.any(axis=1)
            self.next_review[:n][rows & ~self.is_store] = day + 1
            stores = rows & self.is_store
            self.active[:n][stores] = False  # a store account closes with its seller

    def review(self, cfg: HostsConfig, sellers: Sellers, rng: np.random.Generator, day: int,
               appeal: np.ndarray, extra_commission: np.ndarray | None = None) -> np.ndarray:
        """Talent hosts due for review re-choose their slate; returns the reviewing hosts.

        Each scans ``cfg.candidates`` random active sellers and keeps the
        ``slate_size`` with the highest noisy log score
        ``log((commission + extra) * price * conversion * appeal) - refund_penalty * refund_rate + noise * Gumbel``,
        where ``appeal`` folds in traffic demotion and reluctance to carry
        self-broadcasting brands, and ``extra`` is price-difference compensation.
        """
        n = self.n
        due = np.flatnonzero(self.active[:n] & ~self.is_store & (self.next_review[:n] <= day))
        self.next_review[due] = day + rng.geometric(1.0 / cfg.review_days, due.size)
        pool = np.flatnonzero(sellers.active[: sellers.n])
        if due.size == 0 or pool.size == 0:
            return due
        # candidates are real sellers: an agent is scanned in proportion to the real sellers it stands for
        cum = np.cumsum(sellers.mass[pool])
        draw = rng.random((due.size, cfg.candidates)) * cum[-1]
        pick = pool[np.minimum(np.searchsorted(cum, draw, side="right"), pool.size - 1)]
        pick.sort(axis=1)
        commission = self.commission[due][:, None]
        if extra_commission is not None:
            commission = commission + extra_commission[pick]
        score = (np.log(commission) + np.log(sellers.price[pick])
                 + np.log(sellers.conversion()[pick]) + np.log(np.maximum(appeal[pick], 1e-12))
                 - cfg.refund_penalty * sellers.refund_rate()[pick])
        score += cfg.choice_noise * rng.gumbel(size=score.shape)
        score[:, 1:][pick[:, 1:] == pick[:, :-1]] = -np.inf  # each seller once per slate
        k = min(cfg.slate_size, cfg.candidates)
        top = np.argpartition(-score, k - 1, axis=1)[:, :k]
        chosen = np.take_along_axis(pick, top, axis=1)
        chosen[~np.isfinite(np.take_along_axis(score, top, axis=1))] = -1
        self.slate[due, :k] = chosen
        self.compact()
        return due

    def compact(self) -> None:
        """Keep each slate's sellers first and empty (-1) slots last."""
        n = self.n
        self.slate[:n] = -np.sort(-self.slate[:n], axis=1)

    def slate_size(self) -> np.ndarray:
        """Number of sellers each host carries."""
        return np.count_nonzero(self.slate[: self.n] >= 0, axis=1)


def talent_traits(cfg: HostsConfig, rng: np.random.Generator, tier: np.ndarray) -> dict[str, np.ndarray]:
    """Draw talent hosts of the given tiers: persona strength, popularity, commission, schedule."""
    tier = np.asarray(tier, np.int8)
    k = tier.size
    persona = rng.beta(2.0 * cfg.persona_mean + 1e-9, 2.0 * (1.0 - cfg.persona_mean) + 1e-9, k)
    popularity = np.asarray(cfg.tier_popularity)[tier] * (0.5 + persona)
    return {
        "tier": tier,
        "persona": persona,
        "popularity": popularity,
        "commission": np.asarray(cfg.tier_commission)[tier],
        "broadcast_prob": np.asarray(cfg.tier_broadcast_prob)[tier],
    }


class HostAgent(BookAgent):
    """A Mesa view of one host; its state lives in the :class:`Hosts` book."""

    book = "hosts"
    commission = column_view("commission", doc="Share of GMV earned on goods sold.")
    persona = column_view("persona", doc="Persona strength in [0, 1].")

    @property
    def tier(self) -> str:
        return TIER_NAMES[self._book.tier[self.index]]

    @property
    def is_store(self) -> bool:
        return bool(self._book.employer[self.index] >= 0)

    @property
    def slate(self) -> list[int]:
        """Seller ids currently carried."""
        return [int(s) for s in self._book.slate[self.index] if s >= 0]

    @property
    def weight(self) -> float:
        """Real hosts this agent stands for."""
        return float(self._book.mass[self.index]) * self.model.cfg.consumers.scale

    @property
    def followers(self) -> float:
        """Followers of one real host it stands for (real users)."""
        n = np.count_nonzero(self.model.follows.host == self.index)
        return float(n * self.model.cfg.consumers.scale / self.weight)

    @property
    def income(self) -> float:
        """Cumulative commission income of one real host it stands for, yuan."""
        return float(self._book.income[self.index] / self._book.mass[self.index])
