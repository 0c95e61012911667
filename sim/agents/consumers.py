"""Consumers ("laotie"): a struct of numpy arrays, one row per simulated consumer.

Consumers are not Mesa agents: at 1e5-1e6 of them a day must be a handful of
vectorised operations.  Arrays are preallocated to ``capacity`` rows and every
trait of every slot, including the slots that arrivals will fill later, is drawn
at initialisation, so a consumer's traits and per-day draws do not depend on how
many others have arrived (common random numbers across policy arms).
"""

from __future__ import annotations

import math

import numpy as np

from sim.config import ConsumersConfig
from sim.rng import Streams

NEVER = -(10**6)  # "day" of an event that has not happened


def _mean_lognormal(rng: np.random.Generator, mean: float, sd: float, size: int) -> np.ndarray:
    """Log-normal draws with the given arithmetic mean and log-scale sd."""
    return mean * rng.lognormal(-0.5 * sd * sd, sd, size)


class Consumers:
    """Traits and state of the consumer population."""

    def __init__(self, cfg: ConsumersConfig, streams: Streams) -> None:
        self.cfg = cfg
        cap = int(math.ceil(cfg.n * cfg.capacity_factor))
        self.capacity = cap
        self.n = cfg.n  # slots in use (active or churned)
        rng = streams.get("init.consumers")
        seg = np.asarray(cfg.segments, dtype=float)
        self.segment = rng.choice(len(seg), size=cap, p=seg / seg.sum()).astype(np.int8)
        self.price_sens = _mean_lognormal(rng, cfg.price_sens_mean, cfg.price_sens_sd, cap)
        self.gap_tol = np.clip(rng.normal(cfg.gap_tol_mean, cfg.gap_tol_sd, cap), 0.0, None)
        self.brand_affinity = np.clip(rng.normal(cfg.brand_affinity_mean, cfg.brand_affinity_sd, cap), 0.0, None)
        self.views = _mean_lognormal(rng, cfg.views_mean, cfg.views_sd, cap)
        self.budget = _mean_lognormal(rng, cfg.budget_mean, cfg.budget_sd, cap)
        m, k = cfg.trust_init_mean, cfg.trust_init_conc
        self.trust0 = np.clip(rng.beta(max(m * k, 1e-9), max((1 - m) * k, 1e-9), cap), 0.0, 1.0)
        self.wallet = self.budget * rng.uniform(0.0, cfg.wallet_cap_days, cap)
        self.trust = self.trust0.copy()
        self.active = np.zeros(cap, dtype=bool)
        self.active[: self.n] = True
        self.joined = np.full(cap, NEVER, dtype=np.int32)
        self.joined[: self.n] = 0
        self.churned_on = np.full(cap, NEVER, dtype=np.int32)
        self.last_buy = np.full(cap, NEVER, dtype=np.int32)
        self.prev_buy = np.full(cap, NEVER, dtype=np.int32)  # second most recent order day
        self.orders = np.zeros(cap, dtype=np.int32)
        self.cheated = np.zeros(cap, dtype=np.int32)
        self.capacity_reached = False
        # awareness of brands: bit b of row i says consumer i knows the brand in awareness slot b
        self.aware = np.zeros((cap, 0), dtype=np.uint8)
        self.n_slots = 0
        self.known = np.zeros(cap, dtype=np.int32)  # active brands each consumer knows
        self._share_cache: dict[tuple[float, ...], np.ndarray] = {}

    # ------------------------------------------------------------------ awareness of brands
    def new_brand_slot(self, rng: np.random.Generator | None, share_by_segment: np.ndarray | None) -> int:
        """Open an awareness slot for an entering brand; ``share_by_segment`` of each segment knows it.

        Drawn over the whole capacity, so a consumer's awareness does not depend
        on how many consumers have arrived.
        """
        b = self.n_slots
        self.n_slots += 1
        if b // 8 >= self.aware.shape[1]:  # grow 64 slots at a time
            self.aware = np.concatenate([self.aware, np.zeros((self.capacity, 8), np.uint8)], axis=1)
        if rng is not None and share_by_segment is not None:
            key = tuple(share_by_segment)
            if key not in self._share_cache:  # brands share one awareness profile: gather it once
                self._share_cache[key] = np.asarray(key, dtype=np.float32)[self.segment]
            hit = rng.random(self.capacity, dtype=np.float32) < self._share_cache[key]
            col = self.aware[:, b >> 3]  # a strided view: set the bit in place
            col |= hit.view(np.uint8) << np.uint8(b & 7)
            self.known += hit
        return b

    def is_aware(self, consumer: np.ndarray, slot: np.ndarray) -> np.ndarray:
        """Whether each consumer knows the brand in the matching slot (slot < 0: not a brand)."""
        slot = np.asarray(slot)
        ok = slot >= 0
        out = np.zeros(np.shape(consumer), dtype=bool)
        if ok.any():
            sl = slot[ok]
            out[ok] = ((self.aware[consumer[ok], sl >> 3] >> (sl & 7)) & 1).astype(bool)
        return out

    def make_aware(self, consumer: np.ndarray, slot: np.ndarray) -> int:
        """Consumers learn brands (slot >= 0 entries); returns how many pairs were new."""
        keep = slot >= 0
        c, sl = consumer[keep], slot[keep]
        new = ~self.is_aware(c, sl)
        if not new.any():
            return 0
        key = np.unique((c[new].astype(np.int64) << 32) | sl[new].astype(np.int64))  # each pair once
        who, sl = key >> 32, key & 0xFFFFFFFF
        np.bitwise_or.at(self.aware, (who, sl >> 3), (1 << (sl & 7)).astype(np.uint8))
        np.add.at(self.known, who, 1)
        return int(key.size)

    def forget_brand(self, slot: int) -> None:
        """A brand left the market: it no longer counts among the brands consumers know."""
        knew = ((self.aware[:, slot >> 3] >> (slot & 7)) & 1).astype(bool)
        self.known[knew] -= 1

    # ------------------------------------------------------------------ dynamics
    def arrive(self, rng: np.random.Generator, trust_ratio: float, day: int, presence: float = 1.0) -> np.ndarray:
        """New consumers: Poisson(rate * n0 * trust_ratio**elasticity * presence); returns their slots."""
        c = self.cfg
        lam = c.arrival_rate * c.n * trust_ratio ** c.arrival_trust_elasticity * presence
        k = int(rng.poisson(lam))
        free = self.capacity - self.n
        if k > free:
            k, self.capacity_reached = free, True
        idx = np.arange(self.n, self.n + k)
        self.active[idx] = True
        self.joined[idx] = day
        self.n += k
        return idx

    def refill_wallets(self) -> None:
        """Daily budget accrues into active consumers' wallets up to ``wallet_cap_days`` of budget."""
        n = self.n
        w, b = self.wallet[:n], self.budget[:n]
        topped = np.minimum(w + b, b * self.cfg.wallet_cap_days)  # accrual stops at the cap ...
        np.maximum(w, np.where(self.active[:n], topped, w), out=w)  # ... but never takes money away

    def settle_orders(self, buyers: np.ndarray, paid: np.ndarray, refunded: np.ndarray, cheated: np.ndarray,
                      compensation: np.ndarray) -> None:
        """Wallets pay for the day's orders and get refunds and compensation back; count cheats."""
        np.subtract.at(self.wallet, buyers, paid)
        back = np.where(refunded, paid, 0.0) + compensation
        np.add.at(self.wallet, buyers, back)
        np.add.at(self.cheated, buyers[cheated], 1)

    def view_factor(self, trust_ref: float, presence: float = 0.0) -> np.ndarray:
        """Viewing intensity of the first ``n`` slots: the trait, times (trust / trust_ref)**elasticity,
        times ``1 + presence * log(1 + active brands known)``; zero for inactive consumers."""
        n = self.n
        el = self.cfg.view_trust_elasticity
        f = self.trust[:n] / trust_ref
        if el != 1.0:  # the default elasticity needs no power (the costliest op at 1e6 consumers)
            f = np.power(f, el, out=f)
        f *= self.views[:n]
        if presence > 0 and self.n_slots:
            f *= 1.0 + presence * np.log1p(self.known[:n])
        f[~self.active[:n]] = 0.0
        return f

    def record_orders(self, buyers: np.ndarray, counts: np.ndarray, day: int) -> None:
        """Update the purchase-history summary of ``buyers`` who placed ``counts`` orders today."""
        two = counts >= 2
        self.prev_buy[buyers] = np.where(two, day, self.last_buy[buyers])
        self.last_buy[buyers] = day
        self.orders[buyers] += counts.astype(np.int32)

    def churn(self, rng: np.random.Generator, cheated_today: np.ndarray, day: int) -> np.ndarray:
        """Churn hazard: base (doubled below the trust threshold) plus a hit per cheated order."""
        c = self.cfg
        n = self.n
        u = rng.random(n)  # a prefix of the stream: consumer i's draw does not depend on n
        trust = self.trust[:n]
        base = np.where(trust < c.churn_trust_threshold, 2.0 * c.base_churn, c.base_churn)
        hit = np.flatnonzero(cheated_today)  # few consumers: keep the power off the whole population
        base[hit] = 1.0 - (1.0 - base[hit]) * np.power(1.0 - c.cheated_churn, cheated_today[hit])
        idx = np.flatnonzero(self.active[:n] & (u < base))
        self.active[idx] = False
        self.churned_on[idx] = day
        return idx

    def repurchase_rate(self, day: int, window: int = 90) -> float:
        """Share of consumers with an order in the last ``window`` days who ordered more than once."""
        lo = day - window + 1
        buyers = np.count_nonzero(self.last_buy[: self.n] >= lo)
        repeat = np.count_nonzero(self.prev_buy[: self.n] >= lo)
        return repeat / buyers if buyers else 0.0
