"""Sellers: white-label merchants now, brands and upgraded "new brands" later.

All sellers live in one :class:`Sellers` book, distinguished by ``kind``, so
traffic, choice, delivery and accounting treat every seller type alike and a
new type is a new ``kind`` code plus its own entry and strategy rules, not a
parallel code path.  :class:`SellerAgent` is a thin Mesa view of one row.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from sim.agents.book import Book, BookAgent, column_view
from sim.config import MerchantsConfig


class Kind(IntEnum):
    """Seller type, the accounting dimension ``seller type``."""

    WHITE_LABEL = 0
    BRAND = 1
    NEW_BRAND = 2


KIND_NAMES = tuple(k.name.lower() for k in Kind)

#: Cohort codes: present at start, organic entrant, then entry wave k is ``ENTRY_WAVE + k``.
INITIAL, ORGANIC, ENTRY_WAVE = 0, 1, 2


class Sellers(Book):
    """Traits, state and running statistics of every seller ever in the market."""

    def __init__(self, capacity: int, n_segments: int) -> None:
        super().__init__(capacity)
        self.n_segments = n_segments
        self.column("origin", np.int64)  # stable identity across policy arms (see :meth:`add`)
        self.column("mass", np.float64, 1.0)  # real sellers per agent / consumers.scale (sim.resolution)
        self.column("kind", np.int8)
        self.column("cohort", np.int16)
        self.column("active", bool, False)
        self.column("entered", np.int32)
        self.column("exited", np.int32, -1)
        self.column("fraud", bool, False)  # a fraud ring selling counterfeits
        self.column("banned", bool, False)
        self.column("price", np.float64)  # yuan
        self.column("quality", np.float64)  # true mean delivered quality in [0, 1]
        self.column("claim", np.float64)  # claimed quality (quality + inflation)
        self.column("unit_cost", np.float64)  # yuan per unit sold
        self.column("fit", np.float64, 0.0, width=n_segments)  # appeal to each audience segment
        # brands and new brands
        self.column("stage", np.int8, -1)  # STEPS stage index (brands only)
        self.column("audience_prior", np.float64, 0.0, width=n_segments)  # a brand's guess of its audience shares
        self.column("audience_orders", np.float64, 0.0, width=n_segments)  # its orders by buyer segment, of the agent
        self.column("stage_progress", np.float64)
        self.column("stage_day", np.int32, -1)  # day the current stage began
        self.column("budget", np.float64)  # entry budget left, yuan (the agent's, = mass x one real brand's)
        self.column("aware_slot", np.int32, -1)  # consumers' awareness column
        self.column("upgraded_on", np.int32, -1)
        self.column("invested", np.float64)  # cumulative quality investment (own + subsidy)
        self.column("sp", np.int32, -1)  # contracted service provider
        self.column("sp_share", np.float64, 0.0)  # share of the agent's real sellers that SP serves
        self.column("sp_since", np.int32, -1)  # day the contract began
        self.column("win_gmv", np.float64)  # settled GMV in the current cash-fund window, yuan of the agent
        self.column("prev_win_gmv", np.float64)  # ... in the previous window
        self.column("demoted_until", np.int32, -1)
        # running statistics: exponentially weighted daily means
        self.column("ew_views", np.float64)
        self.column("ew_orders", np.float64)
        self.column("ew_refunds", np.float64)
        self.column("ew_profit", np.float64)
        self.column("ew_host_orders", np.float64)  # orders through talent hosts' rooms
        self.column("ew_diverted", np.float64)  # intents in hosts' rooms that moved to the seller's own store
        self.column("loss_days", np.int32)
        # cumulative totals
        self.column("gmv", np.float64)  # yuan of the agent (x scale: its real sellers' together; / mass: one's)
        self.column("gmv_self", np.float64)  # of which through its own store broadcasts
        self.column("had_sp", bool, False)  # was ever a service provider's client
        self.column("ads", np.float64)  # cumulative ad spend, yuan of the agent
        self.column("subsidy", np.float64)  # cumulative upgrade subsidy received
        self.column("profit", np.float64)
        self.column("orders", np.int64)

    def add(self, day: int, kind: Kind, cohort: int, traits: dict[str, np.ndarray]) -> np.ndarray:
        """Enter ``len(traits['price'])`` sellers with the given traits; returns their ids."""
        k = len(traits["price"])
        idx = self.append(k)
        # (entry day, kind, cohort, rank in batch) names the same seller in paired runs even when
        # another arm's extra entrants shift the row numbers
        self.origin[idx] = (np.int64(day) << 32) | (int(kind) << 28) | (int(cohort) << 20) | np.arange(k)
        self.kind[idx] = kind
        self.cohort[idx] = cohort
        self.active[idx] = True
        self.entered[idx] = day
        for name, values in traits.items():
            getattr(self, name)[idx] = values
        return idx

    def exit(self, idx: np.ndarray, day: int, banned: bool = False) -> None:
        """Remove sellers from the market (losses or a ban)."""
        self.active[idx] = False
        self.exited[idx] = day
        if banned:
            self.banned[idx] = True

    @property
    def is_brand(self) -> np.ndarray:
        """Brands and new brands (sellers whose goods carry a brand)."""
        return self.kind[: self.n] != Kind.WHITE_LABEL

    def refund_rate(self) -> np.ndarray:
        """Smoothed refund rate of one real seller (prior: one refund in twenty orders)."""
        n = self.n
        m = self.mass[:n]
        return (self.ew_refunds[:n] / m + 0.05) / (self.ew_orders[:n] / m + 1.0)

    def conversion(self) -> np.ndarray:
        """Smoothed orders per view of one real seller (prior: 2 orders in 100 views)."""
        n = self.n
        m = self.mass[:n]
        return (self.ew_orders[:n] / m + 0.02) / (self.ew_views[:n] / m + 1.0)


def white_label_traits(cfg: MerchantsConfig, rng: np.random.Generator, k: int, n_segments: int) -> dict[str, np.ndarray]:
    """Draw ``k`` white-label merchants: cheap, uneven quality, inflated claims, a few frauds."""
    price = cfg.price_median * rng.lognormal(0.0, cfg.price_sd, k)
    quality = rng.beta(cfg.quality_a, cfg.quality_b, k)
    inflation = rng.exponential(cfg.inflation_mean, k) if cfg.inflation_mean > 0 else np.zeros(k)
    fraud = rng.random(k) < cfg.fraud_share
    claim = np.where(fraud, quality + cfg.fraud_inflation, quality + inflation)
    quality = np.where(fraud, cfg.counterfeit_quality, quality)
    fit = rng.normal(0.0, cfg.segment_fit_sd, (k, n_segments))
    return {
        "price": price,
        "quality": quality,
        "claim": claim,
        "fraud": fraud,
        "unit_cost": cfg.unit_cost_share * price,
        "fit": fit,
    }


class SellerAgent(BookAgent):
    """A Mesa view of one seller; its state lives in the :class:`Sellers` book."""

    book = "sellers"
    active = column_view("active", bool)
    price = column_view("price", doc="List price, yuan.")
    quality = column_view("quality", doc="True mean delivered quality.")
    claim = column_view("claim", doc="Claimed quality.")
    fraud = column_view("fraud", bool)

    @property
    def kind(self) -> str:
        return KIND_NAMES[self._book.kind[self.index]]

    @property
    def weight(self) -> float:
        """Real sellers this agent stands for."""
        return float(self._book.mass[self.index]) * self.model.cfg.consumers.scale

    @property
    def gmv(self) -> float:
        """Cumulative GMV of one real seller it stands for, yuan."""
        return float(self._book.gmv[self.index] / self._book.mass[self.index])

    @property
    def profit(self) -> float:
        """Cumulative profit of one real seller it stands for, yuan."""
        return float(self._book.profit[self.index] / self._book.mass[self.index])
