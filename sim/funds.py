"""The platform's service-provider funds: cash, traffic and ecosystem (seed: H2 2021).

Each fund has a budget for the whole platform (``platform.users`` users); a
simulated market standing for a share ``phi = consumers.n * consumers.scale /
platform.users`` of it gets ``phi`` of the budget, converted to simulated units
at ``consumers.scale`` (and, for traffic, the platform's one traffic unit: feed
impressions x ``platform.views_per_impression`` = live-room views), paced evenly
over ``horizon_days`` from ``start_day``: each day may spend at most
``remaining / days_left``, so a fund is never overdrawn and what one day leaves
unspent rolls over.

* **cash** pays SPs for *verified* client growth: every ``cash_window`` days
  each SP is paid ``cash_rate`` per yuan by which its retained clients' settled
  GMV (net of refunds) grew over their previous window, pro rata when the
  window's budget binds; if the clients' GMV falls in the next window, up to
  the last payment is clawed back (and returns to the fund).  SPs reinvest
  part of it (``sim.agents.providers.invest``): cash reaches GMV through what
  SPs do with it, and through the fund income entrants expect;
* **traffic** grants live-room views to rooms carrying SP clients' goods,
  through the allocator's boost interface, weighted by the share served and SP
  traffic capability;
* **eco** invests in SPs, the same yuan per real SP (so it can lift many SPs
  into capability, not only the biggest), all of it invested.
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
    returned_today: float = 0.0  # clawed back today

    def allowance(self, cfg: FundsConfig, day: int, days: int = 1) -> float:
        """The most the fund may spend on the ``days`` days ending today (even pacing with roll-over).

        The share of what remains is the window's days within the horizon over the
        horizon's days left from the window's start.
        """
        end = cfg.start_day + cfg.horizon_days  # first day after the horizon
        w0 = max(day - days + 1, cfg.start_day)
        overlap = min(day + 1, end) - w0
        if overlap <= 0 or self.remaining <= 0:
            return 0.0
        return self.remaining * overlap / (end - w0)

    def spend(self, amount: float) -> float:
        amount = float(min(max(amount, 0.0), self.remaining))
        self.remaining -= amount
        self.spent_today += amount
        return amount

    def give_back(self, amount: float) -> None:
        """Money clawed back returns to the fund (never above what was spent)."""
        amount = float(min(max(amount, 0.0), self.total - self.remaining))
        self.remaining += amount
        self.returned_today += amount


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
            f.returned_today = 0.0

    def outlook(self, day: int, real_sps: float) -> float:
        """Cash and ecosystem money a real SP can expect per day from now to the end of the horizon (model yuan)."""
        cfg = self.cfg
        days_left = cfg.start_day + cfg.horizon_days - max(day, cfg.start_day)
        if days_left <= 0 or real_sps <= 0:
            return 0.0
        return (self.cash.remaining + self.eco.remaining) / days_left / real_sps

    def cash_window_ends(self, day: int) -> bool:
        """Whether a cash window closes today: windows tile every day (the burn-in too) from ``start_day``, so
        the first paid window is compared with a full window before the fund began."""
        return (day - self.cfg.start_day + 1) % self.cfg.cash_window == 0

    def traffic_grant(self, day: int) -> int:
        """Whole live-room views the traffic fund offers today."""
        return int(np.floor(self.traffic.allowance(self.cfg, day)))

    def traffic_used(self, granted: int) -> None:
        """Charge the views actually delivered; undelivered ones stay in the fund for later days."""
        self.traffic.spend(granted)

    def pay_cash(self, day: int, growth: np.ndarray, paid_last: np.ndarray) -> np.ndarray:
        """Net cash per SP at the close of a window (model yuan): pay for growth, claw back after a fall.

        ``growth`` is the window's verified client GMV growth of each SP, ``paid_last``
        what each was paid for the previous window (the most a fall can claw back).
        """
        rate = self.cfg.cash_rate
        claw = np.minimum(np.maximum(paid_last, 0.0), rate * np.maximum(-growth, 0.0))
        if claw.any():
            self.cash.give_back(claw.sum())
        want = rate * np.maximum(growth, 0.0)
        budget = self.cash.allowance(self.cfg, day, self.cfg.cash_window)
        total = want.sum()
        if total <= 0 or budget <= 0:
            return -claw
        pay = want * min(1.0, budget / total)
        return pay * (self.cash.spend(pay.sum()) / pay.sum()) - claw

    def invest_eco(self, day: int, weights: np.ndarray) -> np.ndarray:
        """Ecosystem investment per SP (model yuan), in proportion to ``weights``."""
        budget = self.eco.allowance(self.cfg, day)
        if budget <= 0 or weights.sum() <= 0:
            return np.zeros_like(weights, dtype=float)
        amount = budget * weights / weights.sum()
        return amount * (self.eco.spend(amount.sum()) / amount.sum())
