"""Conservation and consistency checks a run must pass every day (used by the tests).

Call :func:`check_invariants` after any step; it raises
:class:`~sim.ledger.AccountingError` naming the identity that failed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.agents.providers import clients_mass
from sim.ledger import FIELDS, AccountingError

if TYPE_CHECKING:  # pragma: no cover
    from sim.model import MarketModel


def _require(ok: bool, what: str) -> None:
    if not ok:
        raise AccountingError(what)


def _close(a: float, b: float, size: float, what: str) -> None:
    """``a`` equals ``b`` up to float rounding relative to ``size``."""
    _require(abs(a - b) <= 1e-6 * max(1.0, size), what)


def check_invariants(model: MarketModel) -> None:
    """Money, traffic and state identities of the model's current day."""
    L, C, F, H, S = model.ledger, model.consumers, model.follows, model.hosts, model.sellers
    for book, when in ((L.today, "today"), (L.total, "cumulative")):
        gmv, parts = book[0], book[1:]
        _require(np.array_equal(gmv, parts.sum(axis=0)),
                 f"{when}: GMV != " + " + ".join(FIELDS[1:]))
        _require(bool((book >= 0).all()), f"{when}: a negative money flow")
    m = model.today
    if model.day > 0:
        _require(model.events["views_allocated"] == model.allocator.supplied,
                 "views the rooms recorded != views supplied")
        _require(m["views_allocated"] == m["views_supplied"], "metrics: views allocated != supplied")
        split = m["merchant_revenue"] + m["host_commissions"] + m["platform_take"] + m["sp_fees"] + m["refunds"]
        _close(m["gmv"], split, m["gmv"], "metrics: GMV split does not close")
        by_kind = sum(m[k] for k in m if k in ("gmv_white_label", "gmv_brand", "gmv_new_brand"))
        _close(by_kind, m["gmv"], m["gmv"], "GMV by seller type does not add up")
        _close(m["gmv_host_channel"] + m["gmv_self_broadcast"], m["gmv"], m["gmv"], "GMV by channel does not add up")
        _close(m["gmv_incumbent"] + m["gmv_entrant"], m["gmv"], m["gmv"], "GMV by cohort does not add up")
    # host income and seller GMV are the ledger seen from each side
    total_fen = L.total[0].sum()
    _close(S.gmv[: S.n].sum() * 100.0, total_fen, total_fen, "seller GMV != ledger GMV")
    _close(H.income[: H.n].sum() * 100.0, L.total[FIELDS.index("commission")].sum(), total_fen,
           "host income != ledger commissions")
    # service providers earn exactly the ledger's SP fees; funds are never overdrawn
    P = model.providers
    fees_fen = L.total[FIELDS.index("sp_fee")].sum()
    _close(P.fees[: P.n].sum() * 100.0, fees_fen, total_fen, "SP fees != ledger SP fees")
    for fund, side in ((model.funds.cash, "fund_cash"), (model.funds.eco, "fund_eco"), (model.funds.traffic, None)):
        _require(fund.remaining >= -1e-9 * max(1.0, fund.total), f"{fund.name} fund overdrawn")
        spent = fund.total - fund.remaining
        _require(spent <= fund.total * (1 + 1e-12) + 1e-9, f"{fund.name} fund spent more than its budget")
        if side is not None:
            # the ledger books whole fen each day: at most half a fen of rounding per day
            _require(abs(L.side_total[side] - spent * 100.0) <= 0.5 * model.day + 1.0,
                     f"{fund.name} fund payments != fund spending")
    _require(abs(P.cash[: P.n].sum() - (model.funds.cash.total - model.funds.cash.remaining)) <= 1e-6,
             "cash fund paid != cash received by SPs")
    # SP contracts: each SP's clients are the shares its sellers hold, within its capacity, at active SPs only
    ns = S.n
    share, sp = S.sp_share[:ns], S.sp[:ns]
    _require(bool(((share >= 0) & (share <= 1 + 1e-9)).all() and (share[sp < 0] == 0).all()),
             "an SP share outside [0, 1] or without a contract")
    _require(bool(P.active[sp[sp >= 0]].all()), "a seller contracted to an SP that left")
    _require(bool(np.allclose(P.clients[: P.n], clients_mass(S, P.n), rtol=1e-9, atol=1e-9)),
             "SP clients != the shares their sellers hold")
    _require(bool((P.clients[: P.n] <= P.max_clients[: P.n] * (1 + 1e-9) + 1e-9).all()), "an SP above its capacity")
    traffic = model.funds.traffic
    _require(abs((traffic.total - traffic.remaining) - model.traffic_fund_shown) <= 1e-6,
             "traffic fund charged != fund impressions shown")
    # side flows seen from the sellers' books (whole fen booked per day: half a fen of rounding a day)
    for side, column in (("ads", S.ads), ("upgrade_subsidy", S.subsidy)):
        _require(abs(L.side_total[side] - column[: S.n].sum() * 100.0) <= 0.5 * max(model.day, 1) + 1.0,
                 f"ledger {side} != the sellers' {side}")
    # state stays in its domain
    n = C.n
    _require(bool(((C.trust[:n] >= 0) & (C.trust[:n] <= 1)).all()), "platform trust outside [0, 1]")
    _require(bool((C.wallet[:n] >= -1e-9).all()), "a negative wallet: budget overdrawn")
    _require(bool(((F.trust >= 0) & (F.trust <= 1)).all()), "host trust outside [0, 1]")
    _require(bool((np.diff(F.key) > 0).all()), "follow edges not unique and sorted")
    B = model.brand_trust
    _require(bool(((B.trust >= 0) & (B.trust <= 1)).all()), "brand trust outside [0, 1]")
    _require(bool((np.diff(B.key) > 0).all()), "brand-trust entries not unique and sorted")
    _require(bool(C.active[B.consumer].all()) if len(B) else True, "a churned consumer still trusts a brand")
    _require(bool(C.active[F.consumer].all()) if len(F) else True, "a churned consumer still follows")
    _require(bool((C.prev_buy[:n] <= C.last_buy[:n]).all()), "purchase history out of order")
    slate = H.slate[: H.n]
    carried = slate[slate >= 0]
    _require(bool(S.active[carried].all()), "a host carries a seller that left the market")
