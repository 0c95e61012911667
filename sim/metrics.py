"""Daily model metrics: the columns of ``metrics.csv`` and of the Mesa DataCollector.

Everything is at the scale of the real market the simulation stands for
(``consumers.n * consumers.scale`` users): money in yuan (simulated yuan x
``consumers.scale``), consumers, orders and live-room views x scale, and counts of
real sellers, hosts and SPs (each agent's mass x scale, see :mod:`sim.resolution`).
Metrics ending in ``_agents`` count simulated agents.
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
    "dau": "real users who watched at least one live room today",
    "shop_share": "share of users who shop in live rooms today (adoption, sim.demand; 1 when off)",
    "festival": "1 on a festival day (platform.festivals), else 0",
    "new_consumers": "consumers/day",
    "churned_consumers": "consumers/day",
    "mean_platform_trust": "trust in [0, 1]",
    "refund_rate": "share of orders",
    "budget_rejected_share": "share of purchase intents",
    "cheated_rate": "share of orders",
    "repurchase_rate": "share of last-90-day buyers with 2+ orders",
    **{f"gmv_{k}": "yuan/day" for k in KIND_NAMES},
    "gmv_host_channel": "yuan/day",
    "gmv_self_broadcast": "yuan/day",
    "orders_diverted": "orders/day",
    "gmv_incumbent": "yuan/day",
    "gmv_entrant": "yuan/day",
    "merchant_revenue": "yuan/day",
    "host_commissions": "yuan/day",
    "platform_take": "yuan/day",
    "refunds": "yuan/day",
    "compensation": "yuan/day",
    "shipping_comp": "yuan/day",
    "views_supplied": "public-domain live-room views/day",
    "views_allocated": "public-domain live-room views/day",
    "views_boosted": "public-domain live-room views/day",
    "private_visits": "views/day",
    "public_visits": "views/day",
    "frauds_banned": "real sellers/day",
    "sellers_demoted": "real sellers/day",
    "sellers_entered": "real sellers/day",
    "sellers_exited": "real sellers/day",
    "brands_exited": "real brands/day",
    "active_sellers": "real sellers",
    "active_sellers_agents": "simulated sellers",
    "live_hosts": "real hosts broadcasting",
    "follows": "follow edges",
    "hhi": "Herfindahl index of real sellers' GMV, in [0, 1]",
    "sp_fees": "yuan/day",
    "ads": "yuan/day",
    "n_brands": "real brands",
    "n_brands_agents": "simulated brands",
    **{f"brands_stage_{name}": "real brands" for name in STEPS_STAGES},
    "upgrades": "real sellers/day",
    "n_sps": "real service providers",
    "n_sps_agents": "simulated service providers",
    "n_sps_over_threshold": "real service providers",
    "n_sps_over_threshold_agents": "simulated service providers",
    "sp_clients": "real sellers",
    "sp_client_gmv": "yuan/day",
    "n_sps_capable": "real service providers",
    "sp_entered": "real service providers/day",
    "sp_waiting": "real sellers",
    "sp_investment": "yuan/day",
    "fund_cash_clawback": "yuan/day",
    "fund_cash_spent": "yuan/day",
    "fund_traffic_spent": "feed impressions/day",
    "fund_traffic_views": "live-room views/day",
    "fund_traffic_share": "share of public-domain views",
    "fund_eco_spent": "yuan/day",
    "hosts_poached": "real hosts/day",
    "followers_poached": "follow edges/day",
}


def hhi(values: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Herfindahl-Hirschman index over real agents: sum of squared shares (0 when nothing sold).

    An agent standing for ``w`` real sellers splits its sales evenly among them, so it adds
    ``w x (share / w)**2 = share**2 / w``; without weights every agent is one seller.
    """
    total = values.sum()
    if total <= 0:
        return 0.0
    s = values / total
    # an elementwise product and numpy's pairwise sum, not np.dot: BLAS sums in an order that
    # depends on its thread count, and results must not
    if weights is None:
        return float(np.sum(s * s))
    return float(np.sum(s * (s / weights)))


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
        "dau": model.events["watchers"] * scale,  # distinct consumers who watched a live room (MarketModel._visits)
        "shop_share": model.shop_share,
        "festival": float(model.festival),
        "new_consumers": model.events["new_consumers"] * scale,
        "churned_consumers": model.events["churned"] * scale,
        "mean_platform_trust": float(C.trust[: C.n][act].mean()) if act.any() else 0.0,
        "refund_rate": float(orders["refunded"].mean()) if n_orders else 0.0,
        "budget_rejected_share": model.events["budget_rejected"] / model.events["intents"]
        if model.events["intents"] else 0.0,
        "cheated_rate": float(orders["cheated"].mean()) if n_orders else 0.0,
        "repurchase_rate": C.repurchase_rate(model.day),
        "gmv_host_channel": gmv_cells[:, :, CHANNELS.index("host")].sum() * yuan,
        "gmv_self_broadcast": gmv_cells[:, :, CHANNELS.index("self_broadcast")].sum() * yuan,
        "orders_diverted": model.events["diverted"] * scale,
        "gmv_incumbent": gmv_cells[..., INITIAL].sum() * yuan,
        "gmv_entrant": gmv_cells[..., INITIAL + 1:].sum() * yuan,
        "merchant_revenue": L.field("merchant").sum() * yuan,
        "host_commissions": L.field("commission").sum() * yuan,
        "platform_take": L.field("take").sum() * yuan,
        "refunds": L.field("refund").sum() * yuan,
        "compensation": L.side_today["compensation"] * yuan,  # side flows are booked in fen too
        "shipping_comp": L.side_today["shipping_comp"] * yuan,
        "views_supplied": model.allocator.supplied * scale,
        "views_allocated": model.events["views_allocated"] * scale,
        "views_boosted": model.allocator.boosted * scale,
        "private_visits": model.events["private_visits"] * scale,
        "public_visits": (visits["private"].size - model.events["private_visits"]) * scale,
        "frauds_banned": model.events["frauds_banned"] * scale,
        "sellers_demoted": model.events["demoted"] * scale,
        "sellers_entered": model.events["sellers_entered"] * scale,
        "sellers_exited": model.events["sellers_exited"] * scale,
        "brands_exited": model.events["brands_exited"] * scale,
        "active_sellers": S.mass[: S.n][S.active[: S.n]].sum() * scale,
        "active_sellers_agents": int(S.active[: S.n].sum()),
        "live_hosts": model.hosts.mass[: model.hosts.n][model.hosts.live[: model.hosts.n]].sum() * scale,
        "follows": len(model.follows) * scale,
        "hhi": hhi(by_seller, S.mass[: S.n] * scale),
    }
    P, funds = model.providers, model.funds
    sp_act = P.active[: P.n]
    over = sp_act & (P.annual_client_gmv() >= model.cfg.providers.gmv_threshold)
    brand = S.active[: S.n] & (S.kind[: S.n] == Kind.BRAND)
    stages = stage_counts(S)
    public = model.allocator.supplied
    m.update({
        "sp_fees": L.field("sp_fee").sum() * yuan,
        "ads": L.side_today["ads"] * yuan,
        "n_brands": S.mass[: S.n][brand].sum() * scale,
        "n_brands_agents": int(brand.sum()),
        **{f"brands_stage_{k}": v * scale for k, v in stages.items()},
        "upgrades": model.events["upgrades"] * scale,
        "n_sps": P.mass[: P.n][sp_act].sum() * scale,
        "n_sps_agents": int(sp_act.sum()),
        "n_sps_over_threshold": P.mass[: P.n][over].sum() * scale,
        "n_sps_over_threshold_agents": int(over.sum()),
        "sp_clients": (S.mass[: S.n] * S.sp_share[: S.n]).sum() * scale,
        "sp_client_gmv": model.events["sp_client_gmv"] * scale,
        "n_sps_capable": P.mass[: P.n][sp_act & (P.capability() >= model.cfg.providers.capable_threshold)].sum() * scale,
        "sp_entered": model.events["sp_entered"] * scale,
        "sp_waiting": model.sp_matching.unmet * scale,
        "sp_investment": model.events["sp_investment"] * scale,
        "fund_cash_clawback": funds.cash.returned_today * scale,
        "fund_cash_spent": funds.cash.spent_today * scale,
        "fund_traffic_spent": funds.traffic.spent_today * scale / funds.views_per_impression,
        "fund_traffic_views": funds.traffic.spent_today * scale,
        "fund_traffic_share": funds.traffic.spent_today / public if public else 0.0,
        "fund_eco_spent": funds.eco.spent_today * scale,
        "hosts_poached": model.events["hosts_poached"] * scale,
        "followers_poached": model.events["followers_poached"] * scale,
    })
    for k, name in enumerate(KIND_NAMES):
        m[f"gmv_{name}"] = gmv_cells[:, k].sum() * yuan
    return {k: float(m[k]) for k in METRICS}
