"""White-label merchants investing in quality and upgrading to new brands.

A profitable white-label merchant invests ``invest_share`` of its positive
daily profit (topped up by a platform ``subsidy`` per yuan) in quality:
``quality += efficiency * investment * (1 - quality)`` (claims move with it).
It upgrades to a **new brand** once quality, refund record and sales pass
thresholds; it then prices ``markup`` higher and consumers start learning
the brand (a new awareness slot, nobody aware at first).
"""

from __future__ import annotations

import numpy as np

from sim.agents.consumers import Consumers
from sim.agents.sellers import Kind, Sellers
from sim.config import UpgradeConfig
from sim.ledger import Ledger


def invest(u: UpgradeConfig, S: Sellers, ledger: Ledger, profit: np.ndarray) -> np.ndarray:
    """Quality investment of each seller today (yuan at model scale, the merchant's own part)."""
    n = S.n
    own = np.zeros(n)
    if not u.enabled:
        return own
    wl = np.flatnonzero(S.active[:n] & (S.kind[:n] == Kind.WHITE_LABEL) & ~S.fraud[:n] & (profit > 0))
    own[wl] = u.invest_share * profit[wl]
    total = own[wl] * (1.0 + u.subsidy)
    ledger.side("upgrade_subsidy", own[wl] * u.subsidy)
    S.subsidy[wl] += own[wl] * u.subsidy
    gain = np.minimum(u.efficiency * total / S.mass[wl], 1.0) * (1.0 - S.quality[wl])  # per real merchant; never past 1
    S.quality[wl] += gain
    S.claim[wl] += gain
    S.unit_cost[wl] += u.cost_per_quality * gain * S.price[wl]  # better goods cost more to make
    S.invested[wl] += total
    return own


def upgrade(u: UpgradeConfig, S: Sellers, C: Consumers, day: int) -> np.ndarray:
    """White-label merchants past every threshold become new brands; returns their ids.

    Upgrading needs quality, a clean refund record, sales and ``min_investment`` yuan invested
    (own and subsidy, per real merchant); the new brand starts unknown (an empty awareness slot)
    and earns brand affinity only with consumers who come to know it (3.3.7).
    """
    n = S.n
    if not u.enabled:
        return np.zeros(0, np.int64)
    ready = np.flatnonzero(S.active[:n] & (S.kind[:n] == Kind.WHITE_LABEL) & ~S.fraud[:n]
                           & (S.quality[:n] >= u.quality_threshold)
                           & (S.refund_rate() <= u.refund_threshold) & (S.orders[:n] / S.mass[:n] >= u.min_orders)
                           & (S.invested[:n] / S.mass[:n] >= u.min_investment))  # building a brand costs money
    for i in ready:
        S.aware_slot[i] = C.new_brand_slot(None, None)
    S.kind[ready] = Kind.NEW_BRAND
    S.price[ready] *= 1.0 + u.markup
    S.upgraded_on[ready] = day
    return ready
