"""Compiled per-view passes (numba): the loops over a day's millions of views and impressions.

A day at 1e6 consumers has a few million views; written as chains of numpy
operations, each view pays for a dozen temporaries.  These kernels do the same
arithmetic in one pass per view, element by element, in the same order and
without fast-math (no reassociation, no fused multiply-add), so their results
are the bits the numpy expressions in their docstrings give.  Random numbers are
never drawn here: callers draw uniforms from the run's numpy Generators (one
stream per purpose, :mod:`sim.rng`) and pass them in, so every stream is the
same whatever the compiler does.  The kernels are single-threaded: results do
not depend on the number of threads.

Compiled functions are cached on disk (``cache=True``) so a new process loads
them instead of compiling again.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def repeat_index(counts: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """``np.repeat(np.arange(counts.size), counts)``: each index ``counts[i]`` times."""
    total = 0
    for i in range(counts.size):
        total += counts[i]
    out = np.empty(total, np.int64)
    k = 0
    for i in range(counts.size):
        for _ in range(counts[i]):
            out[k] = i
            k += 1
    return out


@njit(cache=True, nogil=True)
def alias_pick(u: np.ndarray, prob: np.ndarray, pair: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover
    """Walker alias draws from uniforms ``u``: column ``floor(u K)``, kept if the fractional part is below
    ``prob[column]``, otherwise its alias (the fractional part of ``u K`` is itself uniform).  ``pair``
    holds (column, its alias) side by side, so the choice is an index, not a branch the CPU mispredicts
    half the time."""
    k = prob.size
    for i in range(u.size):
        x = u[i] * k
        col = np.int64(x)
        x -= col
        out[i] = pair[2 * col + np.int64(x >= prob[col])]


@njit(cache=True, nogil=True, inline="always")
def _item(u: float, r: int, n_items: np.ndarray, slate: np.ndarray, width: int) -> int:  # pragma: no cover
    """Slate entry ``floor(u * n_items[r])`` of room ``r``'s row in the flat ``slate`` (rows ``width`` long)."""
    return slate[np.int64(u * n_items[r]) + r * width]


@njit(cache=True, nogil=True)
def on_screen(u: np.ndarray, room: np.ndarray, n_items: np.ndarray, slate: np.ndarray, width: int,
              out: np.ndarray) -> None:  # pragma: no cover - compiled
    """The item on screen when each view enters its room (:func:`_item`, one uniform per view)."""
    for i in range(u.size):
        out[i] = _item(u[i], room[i], n_items, slate, width)


@njit(cache=True, nogil=True)
def public_views(u: np.ndarray, slot: np.ndarray, live: np.ndarray, promoted: np.ndarray, source: np.ndarray,
                 fund_boost: int, n_items: np.ndarray, slate: np.ndarray, width: int, room: np.ndarray,
                 seller: np.ndarray, fund: np.ndarray) -> None:  # pragma: no cover - compiled
    """Public impressions: the room (``live[slot]``), the item on screen (:func:`on_screen`), replaced by
    the promoted item where a boost promoted one, and whether the traffic fund (boost ``fund_boost``;
    -1: none today) served the impression."""
    for i in range(u.size):
        r = live[slot[i]]
        room[i] = r
        p = promoted[i]
        seller[i] = p if p >= 0 else _item(u[i], r, n_items, slate, width)
        fund[i] = fund_boost >= 0 and source[i] == fund_boost


@njit(cache=True, nogil=True)
def purchase_candidates(draw: np.ndarray, c: np.ndarray, s: np.ndarray, h: np.ndarray, n_priv: int,
                        host_trust: np.ndarray, w_host: float, known: np.ndarray, known_trust: np.ndarray,
                        w_brand: float, branded: np.ndarray, brand_term: np.ndarray, trust: np.ndarray,
                        segment: np.ndarray, price_sens: np.ndarray, table: np.ndarray, width: int,
                        store_room: np.ndarray, discounted: np.ndarray, room_term: np.ndarray,
                        log_price: np.ndarray, const: float, w_trust: float
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
    """The views whose purchase draw can fall below ``P(buy) = 1 / (1 + exp(-U))`` (:mod:`sim.choice`),
    with their utility ``U``, the trust behind them and whether they are a store sale.

    ``exp(x) >= 1 + x + x**2/2 + x**3/6`` for every real ``x`` (the Taylor remainder is non-negative), so
    ``P(buy) <= 1 / (2 - U + U**2/2 - U**3/6)`` wherever that bound is positive: a view whose uniform lies
    above it (with a margin far wider than rounding) cannot buy.  The caller computes the logistic for
    the few candidates left (about 2% of views), so no transcendental function is evaluated per view and
    ``cand[draw[cand] < logistic(U)]`` is exactly ``np.flatnonzero(draw < sim.choice.buy_probability(...))``.

    Per view ``j`` (consumer ``c``, seller ``s``, room ``h``), as ``MarketModel._orders`` writes it:
    trust ``T = trust[c]``, mixed ``(1 - w_host) T + w_host host_trust[j]`` for the first ``n_priv``
    (private) views and ``(1 - w_brand) T + w_brand known_trust`` for views of a brand the viewer has
    bought (``known``: sorted view indices); the seller term ``table[s * width + segment[c]]`` plus
    ``brand_term`` for branded views (sorted indices); ``U = seller term + const + w_trust T +
    room_term[h] - price_sens[c] * log_price[2 s + sale]`` with ``sale = store_room[h] & discounted[s]``.
    ``known`` and ``branded`` are walked with cursors, so the pass is linear.
    """
    n = c.size
    branded = np.append(branded, n)
    brand_term = np.append(brand_term, 0.0)
    idx = np.empty(n, np.int64)
    u_out = np.empty(n)
    t_out = np.empty(n)
    sale_out = np.empty(n, np.bool_)
    keep_host, keep_brand = 1.0 - w_host, 1.0 - w_brand
    kb = 0
    kk = 0
    m = 0
    for j in range(n):
        ci, si, hi = c[j], s[j], h[j]
        t = trust[ci]
        if j < n_priv:
            t = keep_host * t + w_host * host_trust[j]
        if kk < known.size and known[kk] == j:
            t = keep_brand * t + w_brand * known_trust[kk]
            kk += 1
        u = table[si * width + segment[ci]]
        # branded ends in a sentinel (n) and brand_term in a 0: a branchless step (u + 0.0 is u)
        hit = branded[kb] == j
        u += brand_term[kb] * hit
        kb += hit
        sale = store_room[hi] & discounted[si]
        u += const
        u += w_trust * t
        u += room_term[hi]
        u -= price_sens[ci] * log_price[2 * si + (1 if sale else 0)]
        bound = u * (-1.0 / 6.0)
        bound += 0.5
        bound *= u
        bound -= 1.0
        bound *= u
        bound += 2.0  # 2 - U + U**2/2 - U**3/6 <= 1 + exp(-U)
        bound *= draw[j]
        if bound < 1.0 + 1e-6:
            idx[m] = j
            u_out[m] = u
            t_out[m] = t
            sale_out[m] = sale
            m += 1
    return idx[:m].copy(), u_out[:m].copy(), t_out[:m].copy(), sale_out[:m].copy()


@njit(cache=True, nogil=True)
def brand_views(c: np.ndarray, s: np.ndarray, branded_seller: np.ndarray, brand_seller: np.ndarray,
                aware_slot: np.ndarray, aware: np.ndarray, brand_affinity: np.ndarray, w_awareness: float
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Views of branded goods and what the brand adds to their utility.

    Returns the view indices ``j`` with ``branded_seller[s[j]]``, their sellers and the brand term
    ``brand_affinity[c] * (1 if brand_seller[s] else aware) + w_awareness * aware``, where ``aware`` is
    bit ``aware_slot[s]`` of the viewer's row of the ``aware`` bit matrix (a seller without a slot is
    known to nobody): traditional brands carry their affinity to every consumer, a new brand only to
    those who know it.
    """
    n = c.size
    idx = np.empty(n, np.int64)
    sb = np.empty(n, np.int64)
    term = np.empty(n)
    width = aware.shape[1]
    m = 0
    for j in range(n):
        sj = s[j]
        if not branded_seller[sj]:
            continue
        cj = c[j]
        slot = aware_slot[sj]
        a = slot >= 0 and ((aware[cj, slot >> 3] >> (slot & 7)) & 1) != 0
        fa = 1.0 if a else 0.0
        idx[m], sb[m] = j, sj
        term[m] = brand_affinity[cj] * (1.0 if brand_seller[sj] else fa) + w_awareness * fa
        m += 1
    return idx[:m].copy(), sb[:m].copy(), term[:m].copy()
