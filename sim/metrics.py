"""Daily model metrics: the columns of ``metrics.csv`` and of the Mesa DataCollector.

Money is reported in yuan at platform scale (model yuan x ``consumers.scale``);
counts of consumers likewise; traffic is in model impressions x scale.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.agents.brands import stage_counts
from sim.agents.sellers import INITIAL, KIND_NAMES, Kind
from sim.config import STEPS_STAGES
from sim.ledger import CHANNELS

if TYPE_CHECKING:  # pragma: no cover
    from sim.model import MarketModel

#: Every daily metric, with its unit (documented in docs/MODEL.md).
METRICS: dict[str, str] = {
    "gmv": "yuan/day",
    "orders": "orders/day",
    "buyers": "consumers/day",
    "active_consumers": "consumers",
    "new_consumers": "consumers/day",
    "churned_consumers": "consumers/day",
    "mean_platform_trust": "trust in [0, 1]",
    "refund_rate": "share of orders",
    "cheated_rate": "share of orders",
    "repurchase_rate": "share of last-90-day buyers with 2+ orders",
    **{f"gmv_{k}": "yuan/day" for k in KIND_NAMES},
    "gmv_host_channel": "yuan/day",
    "gmv_self_broadcast": "yuan/day",
    "gmv_incumbent": "yuan/day",
    "gmv_entrant": "yuan/day",
    "merchant_revenue": "yuan/day",
    "host_commissions": "yuan/day",
    "platform_take": "yuan/day",
    "refunds": "yuan/day",
    "compensation": "yuan/day",
    "shipping_comp": "yuan/day",
    "impressions_supplied": "impressions/day",
    "impressions_allocated": "impressions/day",
    "impressions_boosted": "impressions/day",
    "private_visits": "views/day",
    "public_visits": "views/day",
    "frauds_banned": "sellers/day",
    "sellers_demoted": "sellers/day",
    "sellers_entered": "sellers/day",
    "sellers_exited": "sellers/day",
    "active_sellers": "sellers",
    "live_hosts": "hosts broadcasting",
    "follows": "follow edges",
    "hhi": "Herfindahl index of seller GMV, in [0, 1]",
    "sp_fees": "yuan/day",
    "ads": "yuan/day",
    "n_brands": "brands",
    **{f"brands_stage_{name}": "brands" for name in STEPS_STAGES},
    "upgrades": "sellers/day",
    "n_sps": "service providers",
    "n_sps_over_threshold": "service providers",
    "sp_clients": "sellers",
    "fund_cash_spent": "yuan/day",
    "fund_traffic_spent": "feed impressions/day",
    "fund_eco_spent": "yuan/day",
    "hosts_poached": "hosts/day",
    "followers_poached": "follow edges/day",
}


def hhi(values: np.ndarray) -> float:
    """Herfindahl-Hirschman index: sum of squared shares (0 when nothing sold)."""
    total = values.sum()
    if total <= 0:
        return 0.0
    s = values / total
    return float(np.dot(s, s))


def daily_metrics(model: MarketModel, visits: dict[str, np.ndarray], orders: dict[str, np.ndarray]) -> dict[str, float]:
    """The day's metrics from the model state and the day's visits and orders."""
    C, S, L = model.consumers, model.sellers, model.ledger
    scale = model.cfg.consumers.scale
    yuan = scale / 100.0  # fen at model scale -> yuan at platform scale
    gmv_cells = L.field("gmv")  # (segment, kind, channel, cohort)
    n_orders = orders["consumer"].size
    act = C.active[: C.n]
    by_seller = np.bincount(orders["seller"], weights=orders["fen_gmv"], minlength=S.n)
    m: dict[str, float] = {
        "gmv": gmv_cells.sum() * yuan,
        "orders": n_orders * scale,
        "buyers": model.events["buyers"] * scale,
        "active_consumers": int(act.sum()) * scale,
        "new_consumers": model.events["new_consumers"] * scale,
        "churned_consumers": model.events["churned"] * scale,
        "mean_platform_trust": float(C.trust[: C.n][act].mean()) if act.any() else 0.0,
        "refund_rate": float(orders["refunded"].mean()) if n_orders else 0.0,
        "cheated_rate": float(orders["cheated"].mean()) if n_orders else 0.0,
        "repurchase_rate": C.repurchase_rate(model.day),
        "gmv_host_channel": gmv_cells[:, :, CHANNELS.index("host")].sum() * yuan,
        "gmv_self_broadcast": gmv_cells[:, :, CHANNELS.index("self_broadcast")].sum() * yuan,
        "gmv_incumbent": gmv_cells[..., INITIAL].sum() * yuan,
        "gmv_entrant": gmv_cells[..., INITIAL + 1:].sum() * yuan,
        "merchant_revenue": L.field("merchant").sum() * yuan,
        "host_commissions": L.field("commission").sum() * yuan,
        "platform_take": L.field("take").sum() * yuan,
        "refunds": L.field("refund").sum() * yuan,
        "compensation": L.side_today["compensation"] * yuan,  # side flows are booked in fen too
        "shipping_comp": L.side_today["shipping_comp"] * yuan,
        "impressions_supplied": model.allocator.supplied * scale,
        "impressions_allocated": model.allocator.allocated * scale,
        "impressions_boosted": model.allocator.boosted * scale,
        "private_visits": int(visits["private"].sum()) * scale,
        "public_visits": int((~visits["private"]).sum()) * scale,
        "frauds_banned": model.events["frauds_banned"],
        "sellers_demoted": model.events["demoted"],
        "sellers_entered": model.events["sellers_entered"],
        "sellers_exited": model.events["sellers_exited"],
        "active_sellers": int(S.active[: S.n].sum()),
        "live_hosts": int(model.hosts.live[: model.hosts.n].sum()),
        "follows": len(model.follows) * scale,
        "hhi": hhi(by_seller),
    }
    P, funds = model.providers, model.funds
    sp_act = P.active[: P.n]
    stages = stage_counts(model)
    m.update({
        "sp_fees": L.field("sp_fee").sum() * yuan,
        "ads": L.side_today["ads"] * yuan,
        "n_brands": int((S.active[: S.n] & (S.kind[: S.n] == Kind.BRAND)).sum()),
        **{f"brands_stage_{k}": v for k, v in stages.items()},
        "upgrades": model.events["upgrades"],
        "n_sps": int(sp_act.sum()),
        "n_sps_over_threshold": int((sp_act & (P.annual_client_gmv(scale) >= model.cfg.providers.gmv_threshold)).sum()),
        "sp_clients": int((S.sp[: S.n] >= 0).sum()),
        "fund_cash_spent": funds.cash.spent_today * scale,
        "fund_traffic_spent": funds.traffic.spent_today * scale / max(model.cfg.funds.views_per_impression, 1e-300),
        "fund_eco_spent": funds.eco.spent_today * scale,
        "hosts_poached": model.events["hosts_poached"],
        "followers_poached": model.events["followers_poached"] * scale,
    })
    for k, name in enumerate(KIND_NAMES):
        m[f"gmv_{name}"] = gmv_cells[:, k].sum() * yuan
    return {k: float(m[k]) for k in METRICS}
