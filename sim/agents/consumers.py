"""Consumers ("laotie"): a struct of numpy arrays, one row (slot) per simulated consumer.

Consumers are not Mesa agents: at 1e5-1e7 of them a day must be a handful of
vectorised operations.  The population is a going concern: arrivals take the
slots of churned consumers first (lowest slot first) and the arrays grow by an
eighth only when every slot is in use, so there is no capacity wall and the
arrays stay close to the size of the active population (the population moves
by a few per cent a year: doubling would leave half of every consumer array
empty, 1.5 GB at 1e7 consumers).  An arrival's traits are drawn
when it arrives, from that day's ``arrivals`` stream; per-consumer daily draws
are prefixes of full-length streams, so slot ``i``'s draw does not depend on how
many slots exist.
"""

from __future__ import annotations

import numpy as np

from sim import kernels
from sim.blocks import blocks
from sim.config import ConsumersConfig
from sim.rng import Streams

NEVER = -(10**6)  # "day" of an event that has not happened
#: awareness slots reserved at first (bytes of 8 slots); the reserve doubles when the slots outgrow it
_AWARE_RESERVE = 512

#: Per-slot columns (name, dtype, value of an empty slot); traits are drawn by :func:`draw_traits`.
_STATE = (("active", bool, False), ("joined", np.int32, NEVER), ("churned_on", np.int32, NEVER),
          ("last_buy", np.int32, NEVER), ("prev_buy", np.int32, NEVER), ("orders", np.int32, 0),
          ("cheated", np.int32, 0), ("known", np.int32, 0))
_TRAITS = (("segment", np.int8), ("price_sens", np.float64), ("gap_tol", np.float64), ("brand_affinity", np.float64),
           ("views", np.float64), ("budget", np.float64), ("trust0", np.float64), ("wallet", np.float64),
           ("trust", np.float64), ("adopt", np.float64))
# ``adopt`` (the consumer's adoption rank, sim.demand) is drawn by the model from its own stream, and
# only when adoption is switched on, so the other traits' draws do not depend on it


def _mean_lognormal(rng: np.random.Generator, mean: float, sd: float, size: int) -> np.ndarray:
    """Log-normal draws with the given arithmetic mean and log-scale sd."""
    return mean * rng.lognormal(-0.5 * sd * sd, sd, size)


def draw_traits(cfg: ConsumersConfig, rng: np.random.Generator, k: int) -> dict[str, np.ndarray]:
    """Traits of ``k`` new consumers: segment, price sensitivity, tolerance, affinity, viewing, budget, trust, wallet."""
    seg = np.asarray(cfg.segments, dtype=float)
    out = {
        "segment": rng.choice(len(seg), size=k, p=seg / seg.sum()).astype(np.int8),
        "price_sens": _mean_lognormal(rng, cfg.price_sens_mean, cfg.price_sens_sd, k),
        "gap_tol": np.clip(rng.normal(cfg.gap_tol_mean, cfg.gap_tol_sd, k), 0.0, None),
        "brand_affinity": np.clip(rng.normal(cfg.brand_affinity_mean, cfg.brand_affinity_sd, k), 0.0, None),
        "views": _mean_lognormal(rng, cfg.views_mean, cfg.views_sd, k),
        "budget": _mean_lognormal(rng, cfg.budget_mean, cfg.budget_sd, k),
    }
    m, c = cfg.trust_init_mean, cfg.trust_init_conc
    out["trust0"] = np.clip(rng.beta(max(m * c, 1e-9), max((1 - m) * c, 1e-9), k), 0.0, 1.0)
    out["wallet"] = out["budget"] * rng.uniform(0.0, cfg.wallet_cap_days, k)
    out["trust"] = out["trust0"].copy()
    return out


def _aware_matrix(rows: int, width: int) -> np.ndarray:
    """A zeroed awareness bit matrix, ``rows`` x ``width`` bytes, column-major (one column per 8 slots).

    Column-major so that opening a slot never copies the matrix: the reserve's columns are allocated
    zero pages (the operating system maps them when first written), and only the columns in use are
    touched, so memory follows the slots opened, not the reserve.  Row-major, every new column
    meant a copy of the whole matrix (at 1e7 consumers and 2,000 slots, 2.5 GB held twice)."""
    return np.zeros((rows, width), np.uint8, order="F")


def _widen(aware: np.ndarray, rows: int, width: int, used: int) -> np.ndarray:
    """``aware`` in a larger zeroed matrix (``rows`` x ``width``), copying only its ``used`` columns."""
    out = _aware_matrix(rows, width)
    out[: aware.shape[0], :used] = aware[:, :used]
    return out


class Consumers:
    """Traits and state of the consumer population."""

    def __init__(self, cfg: ConsumersConfig, streams: Streams) -> None:
        self.cfg = cfg
        self.capacity = cfg.n
        self.n = cfg.n  # slots in use (active or churned, awaiting an arrival)
        for name, dtype in _TRAITS:
            setattr(self, name, np.zeros(cfg.n, dtype))
        for name, dtype, fill in _STATE:
            setattr(self, name, np.full(cfg.n, fill, dtype))
        # awareness of brands: bit b of row i says consumer i knows the brand in awareness slot b
        self.aware = _aware_matrix(cfg.n, _AWARE_RESERVE)
        self.n_slots = 0
        self.slot_share: dict[int, tuple[float, ...]] = {}  # open brand slots that arrivals may know, by segment
        self._fill(np.arange(cfg.n), draw_traits(cfg, streams.get("init.consumers"), cfg.n), 0)

    def _fill(self, idx: np.ndarray, traits: dict[str, np.ndarray], day: int) -> None:
        """Put new consumers with ``traits`` into slots ``idx`` (fresh state, no brands known)."""
        for name, values in traits.items():
            getattr(self, name)[idx] = values
        for name, _, fill in _STATE:
            getattr(self, name)[idx] = fill
        self.active[idx] = True
        self.joined[idx] = day
        self.aware[idx, : self.slot_bytes] = 0

    @property
    def slot_bytes(self) -> int:
        """Columns of :attr:`aware` in use (8 slots each); the columns beyond are reserved, never touched."""
        return (self.n_slots + 7) // 8

    def __getstate__(self) -> dict:  # a checkpoint (or a branch's copy) holds the columns in use, not the reserve
        state = dict(self.__dict__)
        state["aware"] = self.aware[:, : self.slot_bytes]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        used = state["aware"]
        self.aware = _aware_matrix(used.shape[0], max(_AWARE_RESERVE, 2 * used.shape[1]))
        self.aware[:, : used.shape[1]] = used

    def _grow(self, need: int) -> None:
        """Make room for ``need`` slots (growing by an eighth: amortised O(1) appends, little slack)."""
        if need <= self.capacity:
            return
        cap = max(need, self.capacity + self.capacity // 8 + 64)
        for name, dtype in _TRAITS:
            old = getattr(self, name)
            setattr(self, name, np.concatenate([old, np.zeros(cap - old.size, dtype)]))
        for name, dtype, fill in _STATE:
            old = getattr(self, name)
            setattr(self, name, np.concatenate([old, np.full(cap - old.size, fill, dtype)]))
        self.aware = _widen(self.aware, cap, self.aware.shape[1], self.slot_bytes)
        self.capacity = cap

    # ------------------------------------------------------------------ awareness of brands
    def new_brand_slot(self, rng: np.random.Generator | None, share_by_segment: np.ndarray | None) -> int:
        """Open an awareness slot for an entering brand; ``share_by_segment`` of each segment knows it.

        Active consumers know it at their segment's share; consumers who arrive
        later know it at the same share (see :meth:`arrive`).
        """
        b = self.n_slots
        self.n_slots += 1
        if b // 8 >= self.aware.shape[1]:  # rare: double the reserve (copying the columns in use)
            self.aware = _widen(self.aware, self.capacity, 2 * self.aware.shape[1], b // 8)
        if rng is not None and share_by_segment is not None:
            key = tuple(float(x) for x in share_by_segment)
            self.slot_share[b] = key
            n = self.n
            share = np.asarray(key, dtype=np.float32)[self.segment[:n]]
            hit = (rng.random(n, dtype=np.float32) < share) & self.active[:n]
            col = self.aware[:n, b >> 3]  # a contiguous column: set the bit in place
            col |= hit.view(np.uint8) << np.uint8(b & 7)
            self.known[:n] += hit
        return b

    def is_aware(self, consumer: np.ndarray, slot: np.ndarray) -> np.ndarray:
        """Whether each consumer knows the brand in the matching slot (slot < 0: not a brand)."""
        consumer, slot = np.asarray(consumer), np.asarray(slot)
        ok = slot >= 0
        if ok.all():  # the usual case: every entry is a brand
            return self._aware_bit(consumer, slot)
        out = np.zeros(np.shape(consumer), dtype=bool)
        if ok.any():
            out[ok] = self._aware_bit(consumer[ok], slot[ok])
        return out

    def _aware_bit(self, consumer: np.ndarray, slot: np.ndarray) -> np.ndarray:
        """Bit ``slot`` of each consumer's awareness row (slots >= 0)."""
        return ((self.aware[consumer, slot >> 3] >> (slot & 7)) & 1) != 0

    def make_aware(self, consumer: np.ndarray, slot: np.ndarray) -> int:
        """Consumers learn brands (slot >= 0 entries); returns how many pairs were new."""
        return int(kernels.learn_brands(self.aware, self.known, np.asarray(consumer, np.int64),
                                        np.asarray(slot, np.int64)))

    def learn_from_views(self, rng: np.random.Generator, viewer: np.ndarray, view: np.ndarray, seller: np.ndarray,
                         aware_slot: np.ndarray, p: float) -> int:
        """Each view ``view`` (of ``seller``; ``viewer[view]`` watched it) of a brand with an awareness slot
        teaches its viewer the brand with probability ``p`` (one uniform of ``rng`` per such view, in order);
        returns how many pairs were new."""
        return int(kernels.learn_from_views(rng, self.aware, self.known, viewer, np.asarray(view, np.int64),
                                            np.asarray(seller, np.int64), aware_slot, p))

    def forget_brand(self, slot: int) -> None:
        """A brand left the market: it no longer counts among the brands consumers know."""
        knew = ((self.aware[:, slot >> 3] >> (slot & 7)) & 1).astype(bool)
        self.known[knew] -= 1
        self.slot_share.pop(slot, None)

    # ------------------------------------------------------------------ dynamics
    def arrive(self, rng: np.random.Generator, k: int, day: int) -> np.ndarray:
        """``k`` new consumers take churned consumers' slots (lowest first), then new ones; returns their slots.

        Their traits come from ``rng``; each open brand slot is known at its
        entry share of the arrival's segment.
        """
        if k <= 0:
            return np.zeros(0, np.int64)
        free = np.flatnonzero(~self.active[: self.n])[:k]
        extra = k - free.size
        if extra:
            self._grow(self.n + extra)
            free = np.concatenate([free, np.arange(self.n, self.n + extra)])
            self.n += extra
        self._fill(free, draw_traits(self.cfg, rng, k), day)
        if self.slot_share:
            slots = np.fromiter(self.slot_share, np.int64)
            share = np.array([self.slot_share[s] for s in slots])  # (slots, segments)
            hit = rng.random((k, slots.size)) < share[:, self.segment[free]].T
            who, col = np.nonzero(hit)
            if who.size:
                np.bitwise_or.at(self.aware, (free[who], slots[col] >> 3), (1 << (slots[col] & 7)).astype(np.uint8))
                np.add.at(self.known, free[who], 1)
        return free

    def refill_wallets(self) -> None:
        """Daily budget accrues into active consumers' wallets up to ``wallet_cap_days`` of budget."""
        for part in blocks(self.n):  # cache blocking (sim.blocks)
            w, b = self.wallet[part], self.budget[part]
            topped = w + b
            np.minimum(topped, b * self.cfg.wallet_cap_days, out=topped)  # accrual stops at the cap ...
            np.maximum(w, topped, out=w, where=self.active[part])  # ... but never takes money away

    def settle_orders(self, buyers: np.ndarray, paid: np.ndarray, refunded: np.ndarray, cheated: np.ndarray,
                      compensation: np.ndarray) -> None:
        """Wallets pay for the day's orders and get refunds and compensation back; count cheats."""
        kernels.settle_wallets(self.wallet, buyers, paid, np.where(refunded, paid, 0.0) + compensation)
        np.add.at(self.cheated, buyers[cheated], 1)

    def view_factor(self, trust_ref: float, presence: float = 0.0, part: slice | None = None) -> np.ndarray:
        """Viewing intensity of the first ``n`` slots (or the slots in ``part``): the trait, times
        (trust / trust_ref)**elasticity, times ``1 + presence * log(1 + active brands known)``; zero for
        inactive consumers."""
        part = slice(0, self.n) if part is None else part
        el = self.cfg.view_trust_elasticity
        f = self.trust[part] / trust_ref
        if el != 1.0:  # the default elasticity needs no power (the costliest op at 1e6 consumers)
            f = np.power(f, el, out=f)
        f *= self.views[part]
        if presence > 0 and self.n_slots:
            f *= (1.0 + presence * self.log1p_known())[self.known[part]]
        f[~self.active[part]] = 0.0
        return f

    def log1p_known(self) -> np.ndarray:
        """``log1p(k)`` for every possible count ``k`` of known brands (a lookup table: ``known <= n_slots``)."""
        return np.log1p(np.arange(self.n_slots + 1, dtype=self.known.dtype))

    def record_orders(self, buyers: np.ndarray, counts: np.ndarray, day: int) -> None:
        """Update the purchase-history summary of ``buyers`` who placed ``counts`` orders today."""
        two = counts >= 2
        self.prev_buy[buyers] = np.where(two, day, self.last_buy[buyers])
        self.last_buy[buyers] = day
        self.orders[buyers] += counts.astype(np.int32)

    def churn(self, rng: np.random.Generator, cheated_today: np.ndarray, day: int) -> tuple[np.ndarray, float]:
        """Churn hazard: base (doubled below the trust threshold) plus a hit per cheated order.

        Returns the slots that churned and the expected number of churners (the
        sum of the hazards of active consumers), which sets tomorrow's arrivals.
        """
        c, n = self.cfg, self.n
        # the hazard of k cheated orders today, above the base (doubled below the trust threshold), as a table:
        # hazard[low trust, k] = 1 - (1 - base) * (1 - cheated_churn) ** k
        k = np.arange(int(cheated_today[:n].max(initial=0)) + 1)
        base = np.array([[c.base_churn], [2.0 * c.base_churn]])
        hazard = np.where(k > 0, 1.0 - (1.0 - base) * np.power(1.0 - c.cheated_churn, k), base)
        # one compiled pass over the slots (sim.kernels): consumer i's draw does not depend on n
        hazards, idx = kernels.churn(rng, self.trust[:n], self.active[:n], cheated_today[:n], c.churn_trust_threshold,
                                     hazard)
        expected = float(hazards.sum())  # one sum over the active consumers' hazards, in slot order
        self.active[idx] = False
        self.churned_on[idx] = day
        return idx, expected

    def repurchase_rate(self, day: int, window: int = 90) -> float:
        """Share of consumers with an order in the last ``window`` days who ordered more than once."""
        lo = day - window + 1
        buyers = np.count_nonzero(self.last_buy[: self.n] >= lo)
        repeat = np.count_nonzero(self.prev_buy[: self.n] >= lo)
        return repeat / buyers if buyers else 0.0
