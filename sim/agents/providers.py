"""Service providers (SPs): agencies that operate traffic and live rooms and incubate hosts.

Five tiers (local, brand, business leader, core, strategic core) differ in
capability (traffic operation, live-room operation, host incubation, each in
[0, 1]), client capacity and fee (a share of client GMV).  Sellers seek an SP
and pick the best free one by ``mean capability - fee_weight * fee`` plus
Gumbel noise; contracts end at random or when either side leaves.  An SP earns
fees (and fund money), pays fixed and per-client costs, exits after sustained
losses, and new SPs enter while the average SP is profitable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.agents.book import Book, BookAgent, column_view
from sim.agents.sellers import Kind, Sellers
from sim.config import SP_TIERS, ProvidersConfig
from sim.resolution import stochastic_round

if TYPE_CHECKING:  # pragma: no cover
    from sim.model import MarketModel


class Providers(Book):
    """Traits, clients and accounts of every service provider."""

    def __init__(self, capacity: int) -> None:
        super().__init__(capacity)
        self.column("tier", np.int8)
        self.column("mass", np.float64, 1.0)  # real SPs per agent / consumers.scale (sim.resolution)
        self.column("traffic_op", np.float64)
        self.column("room_op", np.float64)
        self.column("incubation", np.float64)
        self.column("max_clients", np.float64)  # capacity in clients (fractional: the ecosystem fund grows it)
        self.column("fee", np.float64)
        self.column("clients", np.int32)
        self.column("active", bool, False)
        self.column("entered", np.int32)
        self.column("exited", np.int32, -1)
        self.column("ew_client_gmv", np.float64)  # yuan/day of the agent, 30-day EWMA
        self.column("ew_client_gmv_fast", np.float64)  # 7-day EWMA, for growth incentives
        self.column("client_gmv", np.float64)  # cumulative
        self.column("fees", np.float64)
        self.column("cash", np.float64)  # cash-fund incentives received
        self.column("eco", np.float64)  # ecosystem-fund investment received
        self.column("ew_profit", np.float64)
        self.column("loss_days", np.int32)
        self.column("profit", np.float64)

    def add(self, day: int, traits: dict[str, np.ndarray]) -> np.ndarray:
        idx = self.append(len(traits["tier"]))
        for name, values in traits.items():
            getattr(self, name)[idx] = values
        self.active[idx] = True
        self.entered[idx] = day
        return idx

    def free(self) -> np.ndarray:
        """Active SPs with room for another client."""
        n = self.n
        return self.active[:n] & (self.clients[:n] < np.floor(self.max_clients[:n]))

    def annual_client_gmv(self) -> np.ndarray:
        """Annualised client GMV of one real SP each agent stands for, yuan/year."""
        return self.ew_client_gmv[: self.n] * 365.0 / self.mass[: self.n]


def provider_traits(cfg: ProvidersConfig, rng: np.random.Generator, tier: np.ndarray, mass: np.ndarray,
                    client_mass: float) -> dict[str, np.ndarray]:
    """Service providers of the given tiers and masses: three capabilities, capacity and fee.

    An agent of mass ``mu`` stands for ``mu * scale`` real SPs, each serving up to
    ``tier_capacity`` real clients; in client agents of mass ``client_mass`` that
    is ``tier_capacity * mu / client_mass``, rounded stochastically (fractional
    capacity would round away the small strata's clients).
    """
    tier = np.asarray(tier, np.int8)
    k = tier.size
    mean = np.asarray(cfg.tier_capability)[tier]
    caps = np.clip(mean[:, None] + cfg.capability_sd * rng.standard_normal((k, 3)), 0.0, 1.0)
    capacity = np.asarray(cfg.tier_capacity, float)[tier] * mass / client_mass
    return {
        "tier": tier,
        "mass": mass,
        "traffic_op": caps[:, 0],
        "room_op": caps[:, 1],
        "incubation": caps[:, 2],
        "max_clients": stochastic_round(capacity, rng).astype(float),
        "fee": np.asarray(cfg.tier_fee)[tier],
    }


def match(model: MarketModel, day: int) -> int:
    """Sellers without an SP seek one; each takes the best free SP by capability net of fee."""
    S, P, cfg = model.sellers, model.providers, model.cfg.providers
    rng = model.streams.get("provider.match", day)
    n = S.n
    u = rng.random(n)
    # contracts ending at random (SP competition and client turnover)
    churn = model.streams.get("provider.churn", day).random(n)
    end = np.flatnonzero((S.sp[:n] >= 0) & (churn < cfg.contract_churn))
    release(model, end)
    if P.n == 0:
        return 0
    brandish = S.kind[:n] != Kind.WHITE_LABEL
    p_seek = np.where(brandish, cfg.seek_prob, cfg.merchant_seek_prob)
    seekers = np.flatnonzero(S.active[:n] & (S.sp[:n] < 0) & (u < p_seek))
    if seekers.size == 0:
        return 0
    quality = (P.traffic_op[: P.n] + P.room_op[: P.n] + P.incubation[: P.n]) / 3.0 - cfg.fee_weight * P.fee[: P.n]
    noise = 0.1 * rng.gumbel(size=(seekers.size, P.n))
    room = np.floor(P.max_clients[: P.n]).astype(np.int64) - P.clients[: P.n]
    room[~P.active[: P.n]] = 0
    matched = 0
    for i, s in enumerate(seekers):  # seekers are a handful a day; capacity makes the choice sequential
        score = np.where(room > 0, quality + noise[i], -np.inf)
        best = int(np.argmax(score))
        if not np.isfinite(score[best]):
            break
        S.sp[s] = best
        S.had_sp[s] = True
        room[best] -= 1
        P.clients[best] += 1
        matched += 1
    return matched


def clients_mass(sellers: Sellers, n: int) -> np.ndarray:
    """Total mass of each of the first ``n`` SPs' clients (real clients / scale)."""
    sp = sellers.sp[: sellers.n]
    client = sp >= 0
    return np.bincount(sp[client], weights=sellers.mass[: sellers.n][client], minlength=n)


def release(model: MarketModel, sellers: np.ndarray) -> None:
    """End the SP contracts of ``sellers``."""
    S, P = model.sellers, model.providers
    sp = S.sp[sellers]
    sp = sp[sp >= 0]
    if sp.size:
        np.subtract.at(P.clients, sp, 1)
    S.sp[sellers] = -1


def settle(model: MarketModel, day: int, fees: np.ndarray, client_gmv: np.ndarray, cash: np.ndarray) -> np.ndarray:
    """Book an SP day: GMV statistics, fees and fund cash in, costs out; exits. Returns exiting SPs."""
    P, cfg = model.providers, model.cfg.providers
    n = P.n
    act = P.active[:n]
    P.ew_client_gmv[:n] += (client_gmv - P.ew_client_gmv[:n]) / 30.0
    P.ew_client_gmv_fast[:n] += (client_gmv - P.ew_client_gmv_fast[:n]) / 7.0
    P.client_gmv[:n] += client_gmv
    P.fees[:n] += fees
    P.cash[:n] += cash
    client_mass = clients_mass(model.sellers, n)
    # costs per real SP and per real client, for the real agents the SP agent stands for
    profit = np.where(act, fees + cash - cfg.fixed_cost * P.mass[:n] - cfg.client_cost * client_mass, 0.0)
    P.profit[:n] += profit
    P.ew_profit[:n] += (profit - P.ew_profit[:n]) / cfg.profit_memory
    P.loss_days[:n] = np.where(act & (P.ew_profit[:n] < 0), P.loss_days[:n] + 1, 0)
    gone = np.flatnonzero(act & (P.loss_days[:n] >= cfg.exit_patience))
    if gone.size:
        P.active[gone] = False
        P.exited[gone] = day
        S = model.sellers
        release(model, np.flatnonzero(np.isin(S.sp[: S.n], gone)))
    return gone


def enter(model: MarketModel, day: int) -> np.ndarray:
    """New SPs arrive at ``entry_rate`` per initial SP, scaled by how profitable the average real SP is.

    An entrant's tier is drawn by ``tier_shares`` and it carries its tier's mass.
    """
    P, cfg = model.providers, model.cfg.providers
    rng = model.streams.get("provider.entry", day)
    act = P.active[: P.n]
    margin = float((P.ew_profit[: P.n][act] / P.mass[: P.n][act]).mean()) if act.any() else 0.0
    attract = np.clip(margin / max(cfg.fixed_cost, 1e-9), 0.0, 1.0) if act.any() else 1.0
    k = int(rng.poisson(cfg.entry_rate * model.pops["providers"].agents * attract))
    if k == 0:
        return np.zeros(0, np.int64)
    shares = np.asarray(cfg.tier_shares, float)
    tier = rng.choice(len(SP_TIERS), size=k, p=shares / shares.sum())
    mass = model.pops["providers"].masses(model.cfg.consumers.scale)[tier]
    ids = P.add(day, provider_traits(cfg, rng, tier, mass, model.client_mass))
    for i in ids:
        ProviderAgent(model, i)
    return ids


class ProviderAgent(BookAgent):
    """A Mesa view of one service provider; its state lives in the :class:`Providers` book."""

    book = "providers"
    active = column_view("active", bool)

    @property
    def tier(self) -> str:
        return SP_TIERS[self._book.tier[self.index]]

    @property
    def clients(self) -> list[int]:
        """Seller ids currently served."""
        S = self.model.sellers
        return [int(i) for i in np.flatnonzero(S.sp[: S.n] == self.index)]

    @property
    def weight(self) -> float:
        """Real SPs this agent stands for."""
        return float(self._book.mass[self.index]) * self.model.cfg.consumers.scale

    @property
    def annual_client_gmv(self) -> float:
        """Annualised client GMV of one real SP it stands for, yuan/year."""
        return float(self._book.ew_client_gmv[self.index] * 365.0 / self._book.mass[self.index])
