"""Service providers (SPs): a market of agencies that operate traffic and live rooms and incubate hosts.

Five tiers (local, brand, business leader, core, strategic core) differ in *what*
they do (``tier_profile``: traffic operation, live-room operation, host
incubation, each in [0, 1]), in client capacity and in fee (a share of client
GMV).  Every rule here is a decision on expected value:

* **Demand.**  A seller not fully served weighs hiring: SP ``j`` is expected to
  multiply its GMV by ``M_j = (1 + traffic_uplift * t_j) * exp(conversion_uplift
  * r_j)`` (the model's own traffic and conversion channels) and to take the fee
  ``f_j`` of it, so the seller's gain per yuan of today's GMV is ``(m - f_j) M_j
  - m`` with ``m`` its margin.  It hires the SP with the best gain (plus Gumbel
  noise) if that gain is positive; the SP accepts a client only if the expected
  fee covers the client's cost.  More capable SPs draw more clients.
* **Contracts as shares.**  A seller agent stands for many real sellers and an
  SP agent for many real SPs, so a contract serves a *share* ``sp_share`` of the
  seller agent's real sellers (capacity is in real clients / scale, like every
  mass); every SP effect on a seller (traffic, conversion, STEPS speed, host
  incubation, fees, client GMV) is the SP's capability times that share.
* **Investment.**  An SP reinvests ``invest_share`` of its positive operating
  profit and of its cash incentives, and all ecosystem money, in capacity when
  it is nearly full and in capability otherwise (along its tier's profile).
* **Entry and exit.**  Entrants come while sellers wait unserved and an entrant's
  expected profit, fund income included, is positive; an SP exits after
  ``exit_patience`` days of negative expected value (operating profit plus the
  fund income it can still expect).

Functions take the books and config they act on, not the model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.agents.book import Book, BookAgent, column_view
from sim.agents.sellers import Kind, Sellers
from sim.config import SP_TIERS, ProvidersConfig

CAPABILITIES = ("traffic_op", "room_op", "incubation")


class Providers(Book):
    """Traits, clients and accounts of every service provider."""

    def __init__(self, capacity: int) -> None:
        super().__init__(capacity)
        self.column("tier", np.int8)
        self.column("mass", np.float64, 1.0)  # real SPs per agent / consumers.scale (sim.resolution)
        self.column("traffic_op", np.float64)
        self.column("room_op", np.float64)
        self.column("incubation", np.float64)
        self.column("max_clients", np.float64)  # capacity in real clients / scale
        self.column("fee", np.float64)
        self.column("clients", np.float64)  # clients served, real clients / scale
        self.column("active", bool, False)
        self.column("entered", np.int32)
        self.column("exited", np.int32, -1)
        self.column("ew_client_gmv", np.float64)  # yuan/day of the agent, 30-day EWMA
        self.column("client_gmv", np.float64)  # cumulative
        self.column("fees", np.float64)
        self.column("cash", np.float64)  # cash-fund incentives received, net of clawbacks
        self.column("paid_window", np.float64)  # cash paid for the last window (what a fall can claw back)
        self.column("eco", np.float64)  # ecosystem-fund investment received
        self.column("invested", np.float64)  # cumulative investment (own and fund money)
        self.column("ew_operating", np.float64)  # fees - costs, EWMA (what the SP expects to earn)
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

    def room(self) -> np.ndarray:
        """Free capacity of each SP (real clients / scale; 0 for inactive SPs)."""
        n = self.n
        return np.where(self.active[:n], np.maximum(self.max_clients[:n] - self.clients[:n], 0.0), 0.0)

    def capability(self) -> np.ndarray:
        """Mean of the three capabilities of each SP."""
        n = self.n
        return (self.traffic_op[:n] + self.room_op[:n] + self.incubation[:n]) / 3.0

    def annual_client_gmv(self) -> np.ndarray:
        """Annualised client GMV of one real SP each agent stands for, yuan/year."""
        return self.ew_client_gmv[: self.n] * 365.0 / self.mass[: self.n]


def provider_traits(cfg: ProvidersConfig, rng: np.random.Generator, tier: np.ndarray,
                    mass: np.ndarray) -> dict[str, np.ndarray]:
    """Service providers of the given tiers and masses: their tier's capability profile, capacity and fee.

    An agent of mass ``mu`` stands for ``mu * scale`` real SPs, each serving up to
    ``tier_capacity`` real clients: ``tier_capacity * mu`` in real clients / scale.
    """
    tier = np.asarray(tier, np.int8)
    k = tier.size
    mean = np.asarray(cfg.tier_profile, float)[tier]
    caps = np.clip(mean + cfg.capability_sd * rng.standard_normal((k, 3)), 0.0, 1.0)
    return {
        "tier": tier,
        "mass": mass,
        **{name: caps[:, i] for i, name in enumerate(CAPABILITIES)},
        "max_clients": np.asarray(cfg.tier_capacity, float)[tier] * mass,
        "fee": np.asarray(cfg.tier_fee)[tier],
    }


def service(S: Sellers, P: Providers, column: str, ids: np.ndarray | None = None) -> np.ndarray:
    """An SP capability as each seller gets it: its SP's ``column`` times the share of it served (0 without)."""
    ids = np.arange(S.n) if ids is None else ids
    sp = S.sp[ids]
    has = sp >= 0
    return np.where(has, getattr(P, column)[np.maximum(sp, 0)], 0.0) * S.sp_share[ids]


def fee_rate(S: Sellers, P: Providers, ids: np.ndarray) -> np.ndarray:
    """The SP fee each seller's GMV pays: its SP's fee times the share served (the bloc's average)."""
    return service(S, P, "fee", ids)


def multiplier(cfg: ProvidersConfig, traffic_op: np.ndarray, room_op: np.ndarray) -> np.ndarray:
    """Expected GMV multiplier of an SP's capabilities (traffic weight times the logit's small-p conversion gain)."""
    return (1.0 + cfg.traffic_uplift * traffic_op) * np.exp(cfg.conversion_uplift * room_op)


def seller_margin(cfg: ProvidersConfig, S: Sellers, ids: np.ndarray, take_rate: float) -> np.ndarray:
    """A seller's expected margin per yuan of GMV: price less unit cost, the platform's take and host commission."""
    return 1.0 - S.unit_cost[ids] / S.price[ids] - take_rate - cfg.commission_guess


@dataclass
class Matching:
    """What a day's matching did: contracts made and the mass of sellers who wanted an SP but found none."""

    matched: int
    unmet: float  # real sellers / scale wanting an SP with no room for them
    unmet_gmv: float  # their GMV, yuan/day per real seller (what an entrant could serve)


def match(S: Sellers, P: Providers, cfg: ProvidersConfig, take_rate: float, day: int, rng: np.random.Generator,
          churn_rng: np.random.Generator, everyone: bool = False) -> Matching:
    """Contracts end at random; sellers not fully served weigh hiring the SP that pays best (see module doc).

    ``everyone``: every seller weighs it today (the initial market's contracts).
    """
    n = S.n
    u = rng.random(n)
    churn = churn_rng.random(n)
    release(S, P, np.flatnonzero((S.sp[:n] >= 0) & (churn < cfg.contract_churn)))
    brandish = S.kind[:n] != Kind.WHITE_LABEL
    p_seek = np.ones(n) if everyone else np.where(brandish, cfg.seek_prob, cfg.merchant_seek_prob)
    seekers = np.flatnonzero(S.active[:n] & (S.sp_share[:n] < 1.0 - 1e-12) & (u < p_seek))
    if seekers.size == 0 or P.n == 0:
        return Matching(0, 0.0, 0.0)
    mult = multiplier(cfg, P.traffic_op[: P.n], P.room_op[: P.n])
    fee = P.fee[: P.n]
    margin = seller_margin(cfg, S, seekers, take_rate)
    gain = (margin[:, None] - fee[None, :]) * mult[None, :] - margin[:, None]
    gain += cfg.match_noise * rng.gumbel(size=gain.shape)
    gmv = S.ew_orders[seekers] * S.price[seekers] / S.mass[seekers]  # yuan/day of one real seller
    # an SP takes a client whose expected fee covers the cost of serving it
    worth = fee[None, :] * gmv[:, None] * mult[None, :] >= cfg.client_cost
    room = P.room()
    matched, unmet, unmet_gmv = 0, 0.0, 0.0
    for i in np.argsort(-gmv, kind="stable"):  # SPs take the biggest sellers first
        s = seekers[i]  # capacity makes the choice sequential; seekers are a handful a day
        own = S.sp[s]
        ok = worth[i] & (gain[i] > 0)
        if own >= 0:  # one SP per seller agent: a partly served seller can only extend its contract
            ok &= np.arange(P.n) == own
        wants = bool(ok.any())
        ok &= room > 1e-12
        if not ok.any():
            if wants:  # a sample of the waiting sellers (those weighing today): scaled up to all of them
                w = S.mass[s] * (1.0 - S.sp_share[s]) / p_seek[s]
                unmet += w
                unmet_gmv += w * gmv[i]
            continue
        best = int(np.argmax(np.where(ok, gain[i], -np.inf)))
        take = min(S.mass[s] * (1.0 - S.sp_share[s]), room[best])
        if own < 0:
            S.sp_since[s] = day
        S.sp[s] = best
        S.sp_share[s] += take / S.mass[s]
        S.had_sp[s] = True
        room[best] -= take
        P.clients[best] += take
        matched += 1
    return Matching(matched, unmet, unmet_gmv / unmet if unmet else 0.0)


def clients_mass(sellers: Sellers, n: int) -> np.ndarray:
    """Real clients / scale of each of the first ``n`` SPs."""
    sp = sellers.sp[: sellers.n]
    client = sp >= 0
    w = sellers.mass[: sellers.n][client] * sellers.sp_share[: sellers.n][client]
    return np.bincount(sp[client], weights=w, minlength=n)


def release(S: Sellers, P: Providers, sellers: np.ndarray) -> None:
    """End the SP contracts of ``sellers``."""
    sellers = sellers[S.sp[sellers] >= 0]
    if sellers.size:
        np.subtract.at(P.clients, S.sp[sellers], S.mass[sellers] * S.sp_share[sellers])
        P.clients[: P.n] = np.maximum(P.clients[: P.n], 0.0)  # rounding of the float sums
    S.sp[sellers] = -1
    S.sp_share[sellers] = 0.0


def invest(cfg: ProvidersConfig, P: Providers, amount: np.ndarray) -> None:
    """SPs invest ``amount`` (yuan of each agent): capacity when nearly full, capability along the tier's profile.

    The capacity share is the utilisation squared; a real SP that invests ``a`` yuan
    gains ``invest_capacity * a`` real clients of capacity and, in capability ``c``
    with profile weight ``w`` (the tier's profile over its mean), ``invest_capability
    * w * a * (1 - c)``.
    """
    n = P.n
    amount = np.where(P.active[:n], amount, 0.0)
    if not amount.any():
        return
    per_real = amount / P.mass[:n]
    util = np.clip(P.clients[:n] / np.maximum(P.max_clients[:n], 1e-12), 0.0, 1.0)
    to_capacity = util ** 2
    P.max_clients[:n] += cfg.invest_capacity * per_real * to_capacity * P.mass[:n]
    profile = np.asarray(cfg.tier_profile, float)[P.tier[:n]]
    weight = profile / np.maximum(profile.mean(axis=1, keepdims=True), 1e-12)
    for i, name in enumerate(CAPABILITIES):
        col = getattr(P, name)
        col[:n] += np.minimum(cfg.invest_capability * weight[:, i] * per_real * (1.0 - to_capacity), 1.0) * (1.0 - col[:n])
    P.invested[:n] += amount


def eco_weights(P: Providers) -> np.ndarray:
    """How the ecosystem fund splits among SPs: the same yuan per real SP among active SPs.

    Equal per real SP, not per client, so it lifts many SPs into capability rather than
    concentrating in the biggest (a full SP invests it in capacity, an idle one in capability).
    """
    n = P.n
    return np.where(P.active[:n], P.mass[:n], 0.0)


def settle(cfg: ProvidersConfig, S: Sellers, P: Providers, day: int, fees: np.ndarray, client_gmv: np.ndarray,
           cash: np.ndarray, fund_outlook: float) -> tuple[np.ndarray, np.ndarray]:
    """Book an SP day: fees and cash in, costs and own investment out; exits on expected value.

    ``fund_outlook`` is the fund money a real SP can still expect per day. Returns
    (own investment per SP, exiting SPs).
    """
    n = P.n
    act = P.active[:n]
    P.ew_client_gmv[:n] += (client_gmv - P.ew_client_gmv[:n]) / 30.0
    P.client_gmv[:n] += client_gmv
    P.fees[:n] += fees
    P.cash[:n] += cash
    # costs per real SP and per real client, for the real agents the SP agent stands for
    operating = np.where(act, fees - cfg.fixed_cost * P.mass[:n] - cfg.client_cost * P.clients[:n], 0.0)
    P.ew_operating[:n] += (operating - P.ew_operating[:n]) / cfg.profit_memory
    own = cfg.invest_share * (np.maximum(P.ew_operating[:n], 0.0) + np.maximum(cash, 0.0))
    own = np.where(act, np.minimum(own, np.maximum(operating + cash, 0.0)), 0.0)  # paid from today's income
    profit = np.where(act, operating + cash - own, 0.0)
    P.profit[:n] += profit
    P.ew_profit[:n] += (profit - P.ew_profit[:n]) / cfg.profit_memory
    value = P.ew_operating[:n] / P.mass[:n] + fund_outlook  # expected yuan/day of one real SP
    P.loss_days[:n] = np.where(act & (value < 0), P.loss_days[:n] + 1, 0)
    gone = np.flatnonzero(act & (P.loss_days[:n] >= cfg.exit_patience))
    if gone.size:
        P.active[gone] = False
        P.exited[gone] = day
        release(S, P, np.flatnonzero(np.isin(S.sp[: S.n], gone)))
    return own, gone


def entrant_value(cfg: ProvidersConfig, unmet: float, unmet_gmv: float, mass: np.ndarray,
                  fund_outlook: float) -> np.ndarray:
    """Expected yuan/day of one real entrant SP of each tier, serving waiting sellers (fund income included)."""
    cap = np.asarray(cfg.tier_capacity, float)
    profile = np.asarray(cfg.tier_profile, float)
    mult = multiplier(cfg, profile[:, 0], profile[:, 1])
    # the clients one real entrant can expect: its capacity, or its share of the waiting sellers
    clients = np.minimum(cap, unmet / np.maximum(mass, 1e-12)) if unmet > 0 else np.zeros_like(cap)
    return clients * (np.asarray(cfg.tier_fee) * unmet_gmv * mult - cfg.client_cost) - cfg.fixed_cost + fund_outlook


def entrants(cfg: ProvidersConfig, rng: np.random.Generator, initial_agents: int, masses: np.ndarray,
             unmet: float, unmet_gmv: float, fund_outlook: float) -> np.ndarray:
    """Tiers of today's entrant SPs: Poisson at ``entry_rate`` per initial SP agent, thinned by expected value.

    Each tier ``t`` enters at ``entry_rate * agents * share_t * clip(E_t / fixed_cost, 0, 1)``
    with ``E_t`` from :func:`entrant_value`.
    """
    shares = np.asarray(cfg.tier_shares, float)
    value = entrant_value(cfg, unmet, unmet_gmv, masses, fund_outlook)
    attract = np.clip(value / max(cfg.fixed_cost, 1e-9), 0.0, 1.0)
    k = rng.poisson(cfg.entry_rate * initial_agents * shares * attract)
    return np.repeat(np.arange(len(SP_TIERS)), k)


class ProviderAgent(BookAgent):
    """A Mesa view of one service provider; its state lives in the :class:`Providers` book."""

    book = "providers"
    active = column_view("active", bool)

    @property
    def tier(self) -> str:
        return SP_TIERS[self._book.tier[self.index]]

    @property
    def clients(self) -> list[int]:
        """Seller ids currently served (wholly or in part)."""
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
