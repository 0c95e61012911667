"""The platform's service-provider funds: cash, traffic and ecosystem (seed: H2 2021).

Each fund has a budget for the whole platform (``platform.users`` users); a
simulated market standing for a share ``phi = consumers.n * consumers.scale /
platform.users`` of it gets ``phi`` of the budget, converted to simulated units
at ``consumers.scale`` (and, for traffic, the platform's one traffic unit: feed
impressions x ``platform.views_per_impression`` = live-room views), paced evenly
over ``horizon_days`` from ``start_day``: each day may spend at most
``remaining / days_left``, so a fund is never overdrawn and what one day leaves
unspent rolls over.

* **cash** pays SPs ``cash_rate`` per yuan of client GMV growth (7-day over
  30-day average), pro rata when the day's budget binds;
* **traffic** grants live-room views to rooms carrying SP clients' goods,
  through the allocator's boost interface, weighted by SP traffic capability;
* **eco** invests in SPs (in proportion to the real SPs and clients each agent
  stands for): every capability ``+= eco_capability * yuan per real SP * (1 - capability)``,
  capacity ``+= eco_capacity * yuan per real SP`` real clients.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.config import FundsConfig


@dataclass
class Fund:
    """One budget: total and remaining in model units, and what was spent today."""

    name: str
    total: float
    remaining: float
    spent_today: float = 0.0

    def allowance(self, cfg: FundsConfig, day: int) -> float:
        """The most the fund may spend today (even pacing with roll-over)."""
        if not cfg.start_day <= day < cfg.start_day + cfg.horizon_days or self.remaining <= 0:
            return 0.0
        days_left = cfg.start_day + cfg.horizon_days - day
        return self.remaining / days_left

    def spend(self, amount: float) -> float:
        amount = float(min(max(amount, 0.0), self.remaining))
        self.remaining -= amount
        self.spent_today += amount
        return amount


class Funds:
    """The three funds of a run."""

    def __init__(self, cfg: FundsConfig, scale: float, share: float, views_per_impression: float) -> None:
        self.cfg = cfg
        self.scale = scale
        self.views_per_impression = views_per_impression
        # the funds serve the whole platform; the simulated market gets its share
        to_model = min(share, 1.0) / scale
        self.cash = Fund("cash", cfg.cash * to_model, cfg.cash * to_model)
        traffic = cfg.traffic * views_per_impression * to_model
        self.traffic = Fund("traffic", traffic, traffic)
        self.eco = Fund("eco", cfg.eco * to_model, cfg.eco * to_model)

    def begin_day(self) -> None:
        for f in (self.cash, self.traffic, self.eco):
            f.spent_today = 0.0

    def traffic_grant(self, day: int) -> int:
        """Whole live-room views the traffic fund offers today."""
        return int(np.floor(self.traffic.allowance(self.cfg, day)))

    def traffic_used(self, granted: int) -> None:
        """Charge the views actually delivered; undelivered ones stay in the fund for later days."""
        self.traffic.spend(granted)

    def pay_cash(self, day: int, growth: np.ndarray) -> np.ndarray:
        """Cash incentives per SP for positive client-GMV growth (model yuan)."""
        want = self.cfg.cash_rate * np.maximum(growth, 0.0)
        budget = self.cash.allowance(self.cfg, day)
        total = want.sum()
        if total <= 0 or budget <= 0:
            return np.zeros_like(want)
        pay = want * min(1.0, budget / total)
        return pay * (self.cash.spend(pay.sum()) / pay.sum())

    def invest_eco(self, day: int, weights: np.ndarray) -> np.ndarray:
        """Ecosystem investment per SP (model yuan), in proportion to ``weights``."""
        budget = self.eco.allowance(self.cfg, day)
        if budget <= 0 or weights.sum() <= 0:
            return np.zeros_like(weights, dtype=float)
        amount = budget * weights / weights.sum()
        return amount * (self.eco.spend(amount.sum()) / amount.sum())
