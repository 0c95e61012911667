"""How demand moves with the calendar: the spread of live shopping among users, and shopping festivals.

**Adoption** (``consumers.adoption``, MODEL.md 3.3.35).  Not every user of the
platform shops in live rooms; the share who do grows along a Bass diffusion
curve on the calendar.  With innovation ``p``, imitation ``q`` (per year) and a
potential ``m`` (the share who will ever shop), the adopted share of the
potential ``t`` years after the diffusion began is::

    F(t) = (1 - exp(-(p + q) t)) / (1 + (q / p) exp(-(p + q) t))

and the curve is placed on the calendar by its share on ``start_date``
(``share = m F(t0)``), so the share on any date depends on the date alone, not
on how long the burn-in was.  Each consumer carries a uniform rank drawn when it
arrives (stream ``adoption``); it shops on a day when its rank lies below that
day's share, so consumers adopt in rank order and stay adopted.

**Festivals** (``platform.festivals``, ``platform.festival_lift``).  On days
inside a festival window (calendar days, every year) every purchase gets
``festival_lift`` of utility: the discounts and the platform's promotion of the
festival make a view more likely to end in an order.
"""

from __future__ import annotations

import datetime
import math

from sim.config import AdoptionConfig, PlatformConfig, SimConfig


def date_of(cfg: SimConfig, reported_day: int) -> datetime.date:
    """The calendar date of a reported day (day 1 is ``start_date``; burn-in days are before it)."""
    return datetime.date.fromisoformat(cfg.start_date) + datetime.timedelta(days=reported_day - 1)


def today(cfg: SimConfig, reported_day: int) -> tuple[float, bool]:
    """The calendar's demand on a reported day: the share of users who shop, and whether it is a festival day."""
    return (adoption_share(cfg.consumers.adoption, (reported_day - 1) / 365.0),
            festival_day(cfg.platform, date_of(cfg, reported_day)))


def adoption_share(cfg: AdoptionConfig, years: float) -> float:
    """Share of users who shop in live rooms ``years`` after ``start_date`` (negative: before); 1 when off."""
    if not cfg.enabled:
        return 1.0
    r, ratio = cfg.p + cfg.q, cfg.q / cfg.p
    f0 = cfg.share / cfg.potential
    x = (1.0 - f0) / (1.0 + f0 * ratio)  # exp(-(p + q) t0): F(t0) = share / potential
    x *= math.exp(min(-r * years, 700.0))
    return cfg.potential * max((1.0 - x) / (1.0 + ratio * x), 0.0)


def festival_day(cfg: PlatformConfig, date: datetime.date) -> bool:
    """Whether ``date`` lies in one of the festival windows (calendar days, inclusive)."""
    day = date.strftime("%m-%d")
    return any(first <= day <= last for first, last in cfg.festivals)
