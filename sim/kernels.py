"""Compiled per-view passes (numba): the loops over a day's millions of views and impressions.

A day at 1e6 consumers has a few million views; written as chains of numpy
operations, each view pays for a dozen temporaries.  These kernels do the same
arithmetic in one pass per view, element by element, in the same order and
without fast-math (no reassociation, no fused multiply-add), so their results
are the bits the numpy expressions in their docstrings give.  The per-view
passes draw their uniforms inside the pass from the run's numpy Generators (one
stream per purpose, :mod:`sim.rng`): numba calls the same PCG64 bit generator,
so element ``i`` gets the ``i``-th number of ``gen.random(n)``, and the day's
millions of uniforms are neither stored nor drawn on one thread.  The largest
passes run in chunks of consecutive views on ``THREADS`` threads (the compiled
code releases the GIL): every element is computed as in one pass, each chunk
draws from its own copy of the stream advanced to its first element
(:func:`draw_chunks`), and the chunks' outputs are concatenated in order, so the
results do not depend on the number of threads (``tests/test_kernels.py`` and
``tests/test_determinism.py`` check it).

Compiled functions are cached on disk (``cache=True``) so a new process loads
them instead of compiling again.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numba import njit

from sim.rng import uniforms_from

#: threads for the chunked passes: ``LIVESIM_THREADS``, else up to 2 (the benchmark machine's cores);
#: worker processes of a parallel sweep use 1 (sim.parallel).  Results do not depend on it.
THREADS = max(1, int(os.environ.get("LIVESIM_THREADS", min(2, os.cpu_count() or 1))))
MIN_CHUNK = 1 << 16  # below this many elements a chunk is not worth a thread


def chunks(n: int) -> list[tuple[int, int]]:
    """``range(n)`` cut into up to ``THREADS`` consecutive (start, stop) chunks of at least ``MIN_CHUNK``."""
    parts = max(1, min(THREADS, n // MIN_CHUNK))
    edges = [n * k // parts for k in range(parts + 1)]
    return list(zip(edges[:-1], edges[1:]))


def draw_chunks(gen: np.random.Generator, n: int) -> list[tuple[int, int, np.random.Generator]]:
    """:func:`chunks` of ``range(n)``, each with a copy of ``gen`` at the chunk's first uniform
    (:func:`sim.rng.uniforms_from`); ``gen`` itself moves past the ``n`` uniforms, as ``gen.random(n)``
    would move it."""
    parts = [(i0, i1, uniforms_from(gen, i0)) for i0, i1 in chunks(n)]
    gen.bit_generator.advance(n)
    return parts


def run_chunks(fn: Callable[..., Any], jobs: Sequence[tuple]) -> list[Any]:
    """``[fn(*job) for job in jobs]``, the jobs on threads of their own (compiled ``nogil`` kernels run
    at once); the first runs on the calling thread.  Threads live for the call only, so nothing is
    left running across a ``fork``."""
    out: list[Any] = [None] * len(jobs)
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            out[k] = fn(*jobs[k])
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(1, len(jobs))]
    for t in threads:
        t.start()
    work(0)
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return out


def joined(parts: Sequence[tuple], n: int) -> tuple[np.ndarray, ...]:
    """The first ``n`` outputs of every chunk, each concatenated over the chunks in order."""
    return tuple(np.concatenate([p[k] for p in parts]) for k in range(n))


@njit(cache=True, nogil=True)
def _repeat_index(counts: np.ndarray, i0: int, i1: int, k: int, out: np.ndarray) -> None:  # pragma: no cover
    """Indices ``i0 <= i < i1``, each ``counts[i]`` times, into ``out`` from position ``k``."""
    for i in range(i0, i1):
        for _ in range(counts[i]):
            out[k] = i
            k += 1


def repeat_index(counts: np.ndarray) -> np.ndarray:
    """``np.repeat(np.arange(counts.size), counts)``: each index ``counts[i]`` times (chunks on threads)."""
    ends = np.cumsum(counts)
    out = np.empty(int(ends[-1]) if counts.size else 0, np.int64)
    run_chunks(_repeat_index, [(counts, i0, i1, int(ends[i0 - 1]) if i0 else 0, out) for i0, i1 in chunks(counts.size)])
    return out


@njit(cache=True, nogil=True)
def _alias_pick(i0: int, i1: int, gen: np.random.Generator, prob: np.ndarray, pair: np.ndarray,
                out: np.ndarray) -> None:  # pragma: no cover - compiled
    """Walker alias draws ``i0 <= i < i1``, one uniform ``u`` of ``gen`` each: column ``floor(u K)``, kept if
    the fractional part is below ``prob[column]``, otherwise its alias (the fractional part of ``u K`` is
    itself uniform).  ``pair`` holds (column, its alias) side by side, so the choice is an index, not a
    branch the CPU mispredicts half the time."""
    k = prob.size
    for i in range(i0, i1):
        x = gen.random() * k
        col = np.int64(x)
        x -= col
        out[i] = pair[2 * col + np.int64(x >= prob[col])]


def alias_pick(gen: np.random.Generator, prob: np.ndarray, pair: np.ndarray, out: np.ndarray) -> None:
    """``out.size`` Walker alias draws into ``out``, with the uniforms ``gen.random(out.size)`` would give
    (:func:`_alias_pick`, chunks on threads)."""
    run_chunks(_alias_pick, [(i0, i1, g, prob, pair, out) for i0, i1, g in draw_chunks(gen, out.size)])


@njit(cache=True, nogil=True, inline="always")
def _item(u: float, r: int, n_items: np.ndarray, slate: np.ndarray, width: int) -> int:  # pragma: no cover
    """Slate entry ``floor(u * n_items[r])`` of room ``r``'s row in the flat ``slate`` (rows ``width`` long)."""
    return slate[np.int64(u * n_items[r]) + r * width]


@njit(cache=True, nogil=True)
def _on_screen(i0: int, i1: int, gen: np.random.Generator, room: np.ndarray, n_items: np.ndarray, slate: np.ndarray,
               width: int, out: np.ndarray) -> None:  # pragma: no cover - compiled
    """Views ``i0 <= i < i1`` of :func:`on_screen`."""
    for i in range(i0, i1):
        out[i] = _item(gen.random(), room[i], n_items, slate, width)


def on_screen(gen: np.random.Generator, room: np.ndarray, n_items: np.ndarray, slate: np.ndarray, width: int,
              out: np.ndarray) -> None:
    """The item on screen when each view enters its room (:func:`_item`, one uniform of ``gen`` per view,
    in view order), in chunks on threads."""
    run_chunks(_on_screen, [(i0, i1, g, room, n_items, slate, width, out)
                            for i0, i1, g in draw_chunks(gen, room.size)])


@njit(cache=True, nogil=True)
def _public_views(i0: int, i1: int, gen: np.random.Generator, slot: np.ndarray, live: np.ndarray, promoted: np.ndarray, source: np.ndarray,
                 fund_boost: int, n_items: np.ndarray, slate: np.ndarray, width: int, room: np.ndarray,
                 seller: np.ndarray, fund: np.ndarray) -> None:  # pragma: no cover - compiled
    """Public impressions ``i0 <= i < i1``: the room (``live[slot]``), the item on screen (:func:`on_screen`), replaced by
    the promoted item where a boost promoted one, and whether the traffic fund (boost ``fund_boost``;
    -1: none today) served the impression."""
    for i in range(i0, i1):
        r = live[slot[i]]
        room[i] = r
        p = promoted[i]
        x = gen.random()  # one uniform per impression, promoted or not
        seller[i] = p if p >= 0 else _item(x, r, n_items, slate, width)
        fund[i] = fund_boost >= 0 and source[i] == fund_boost


def public_views(gen: np.random.Generator, slot: np.ndarray, live: np.ndarray, promoted: np.ndarray,
                 source: np.ndarray, fund_boost: int, n_items: np.ndarray, slate: np.ndarray, width: int,
                 room: np.ndarray, seller: np.ndarray, fund: np.ndarray) -> None:
    """Room, item on screen (one uniform of ``gen`` per impression, in order) and traffic-fund flag of each
    public impression (:func:`_public_views`), in chunks on threads."""
    rest = (slot, live, promoted, source, fund_boost, n_items, slate, width, room, seller, fund)
    run_chunks(_public_views, [(i0, i1, g, *rest) for i0, i1, g in draw_chunks(gen, slot.size)])


@njit(cache=True, nogil=True)
def _count_live(e0: int, e1: int, key: np.ndarray, live: np.ndarray) -> int:  # pragma: no cover - compiled
    """Edges ``e0 <= e < e1`` whose host (the low 32 bits of the edge's key) is on air."""
    k = 0
    for e in range(e0, e1):
        k += live[key[e] & 0xFFFFFFFF]
    return k


@njit(cache=True, nogil=True)
def _private_visits(e0: int, e1: int, gen: np.random.Generator, key: np.ndarray, trust: np.ndarray,
                    live: np.ndarray, coef: float) -> np.ndarray:  # pragma: no cover - compiled
    """Edges ``e0 <= e < e1`` of :func:`private_visits` (``gen`` at the first of their live edges' uniforms)."""
    out = np.empty(e1 - e0, np.int64)
    m = 0
    for e in range(e0, e1):
        if live[key[e] & 0xFFFFFFFF]:
            if gen.random() < min(1.0, coef * trust[e]):
                out[m] = e
                m += 1
    return out[:m].copy()


def private_visits(gen: np.random.Generator, key: np.ndarray, trust: np.ndarray, live: np.ndarray,
                   coef: float) -> np.ndarray:
    """The follow edges that visit today: of the edges to a host on air (``live[host]``, the host the low 32
    bits of the edge's ``key``: sim.agents.follows), in edge order, each with one uniform of ``gen`` below
    ``min(1, coef * trust)``.  That is ``edge = np.flatnonzero(live[host]);
    edge[gen.random(edge.size) < np.minimum(1, coef * trust[edge])]``, in chunks on threads (each chunk's
    stream starts after the live edges before it)."""
    parts = chunks(key.size)
    counts = run_chunks(_count_live, [(e0, e1, key, live) for e0, e1 in parts])
    starts = np.concatenate([[0], np.cumsum(counts)]).tolist()
    jobs = [(e0, e1, uniforms_from(gen, starts[k]), key, trust, live, coef) for k, (e0, e1) in enumerate(parts)]
    out = run_chunks(_private_visits, jobs)
    gen.bit_generator.advance(starts[-1])
    return np.concatenate(out)


@njit(cache=True, nogil=True)
def _purchase_candidates(j0: int, j1: int, gen: np.random.Generator, c: np.ndarray, s: np.ndarray, h: np.ndarray,
                         n_priv: int, host_trust: np.ndarray, w_host: float, branded_seller: np.ndarray,
                         brand_seller: np.ndarray, aware_slot: np.ndarray, aware: np.ndarray,
                         brand_affinity: np.ndarray, w_awareness: float, bt_rows: np.ndarray, bt_key: np.ndarray,
                         bt_trust: np.ndarray, w_brand: float, trust: np.ndarray, segment: np.ndarray,
                         price_sens: np.ndarray, table: np.ndarray, width: int, store_room: np.ndarray,
                         discounted: np.ndarray, room_term: np.ndarray, log_price: np.ndarray, const: float,
                         w_trust: float) -> tuple:  # pragma: no cover - compiled
    """Views ``j0 <= j < j1`` of :func:`purchase_candidates` (``gen`` at view ``j0``'s purchase draw).

    Per view ``j`` (consumer ``c``, seller ``s``, room ``h``), as ``MarketModel._orders`` writes it:

    * trust ``T = trust[c]``, mixed ``(1 - w_host) T + w_host host_trust[j]`` for the first ``n_priv``
      (private) views, then ``(1 - w_brand) T + w_brand B`` where the viewer has bought the brand:
      ``B`` is the trust of the brand-trust edge (viewer, ``aware_slot[s]``), the edges sorted by
      consumer then slot, consumer ``c``'s at ``bt_rows[c]:bt_rows[c + 1]`` (:func:`row_starts`; an
      empty ``bt_rows``: no edges), their slots the low 32 bits of their keys ``bt_key``;
    * the seller term ``table[s * width + segment[c]]``, plus for a branded seller (``branded_seller``)
      the brand term ``brand_affinity[c] * (1 if brand_seller[s] else aware) + w_awareness * aware``,
      where ``aware`` is bit ``aware_slot[s]`` of the viewer's row of the ``aware`` bit matrix (a seller
      without a slot is known to nobody): traditional brands carry their affinity to every consumer, a
      new brand only to those who know it;
    * ``U = seller term + const + w_trust T + room_term[h] - price_sens[c] * log_price[2 s + sale]`` with
      ``sale = store_room[h] & discounted[s]``.

    ``exp(x) >= 1 + x + x**2/2 + x**3/6`` for every real ``x`` (the Taylor remainder is non-negative), so
    ``P(buy) = 1 / (1 + exp(-U)) <= 1 / (2 - U + U**2/2 - U**3/6)`` wherever that bound is positive: a
    view whose uniform lies above it (with a margin far wider than rounding) cannot buy.  The views
    left (about 2%) are returned with their draw, ``U``, ``T`` and ``sale``; the caller computes the
    logistic for them only, so no transcendental function is evaluated per view and
    ``cand[draw < logistic(U)]`` is exactly ``np.flatnonzero(draw < sim.choice.buy_probability(...))``.
    Also returned: every branded view and its seller (for awareness learning).
    """
    n = j1 - j0
    idx = np.empty(n, np.int64)
    d_out = np.empty(n)
    u_out = np.empty(n)
    t_out = np.empty(n)
    sale_out = np.empty(n, np.bool_)
    b_idx = np.empty(n, np.int64)
    b_seller = np.empty(n, np.int64)
    keep_host, keep_brand = 1.0 - w_host, 1.0 - w_brand
    rows = bt_rows.size - 1
    m = 0
    k = 0
    for j in range(j0, j1):
        ci, si, hi = c[j], s[j], h[j]
        t = trust[ci]
        if j < n_priv:
            t = keep_host * t + w_host * host_trust[j]
        u = table[si * width + segment[ci]]
        if branded_seller[si]:
            slot = aware_slot[si]
            a = slot >= 0 and ((aware[ci, slot >> 3] >> (slot & 7)) & 1) != 0
            fa = 1.0 if a else 0.0
            b_idx[k], b_seller[k] = j, si
            k += 1
            u += brand_affinity[ci] * (1.0 if brand_seller[si] else fa) + w_awareness * fa
            if slot >= 0 and ci < rows:
                for e in range(bt_rows[ci], bt_rows[ci + 1]):  # the viewer's brands, by slot
                    b = bt_key[e] & 0xFFFFFFFF
                    if b >= slot:
                        if b == slot:
                            t = keep_brand * t + w_brand * bt_trust[e]
                        break
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
        x = gen.random()
        bound *= x
        if bound < 1.0 + 1e-6:
            idx[m] = j
            d_out[m] = x
            u_out[m] = u
            t_out[m] = t
            sale_out[m] = sale
            m += 1
    return (idx[:m].copy(), d_out[:m].copy(), u_out[:m].copy(), t_out[:m].copy(), sale_out[:m].copy(),
            b_idx[:k].copy(), b_seller[:k].copy())


def purchase_candidates(gen: np.random.Generator, c: np.ndarray, s: np.ndarray, h: np.ndarray, n_priv: int,
                        host_trust: np.ndarray, w_host: float, branded_seller: np.ndarray, brand_seller: np.ndarray,
                        aware_slot: np.ndarray, aware: np.ndarray, brand_affinity: np.ndarray, w_awareness: float,
                        bt_rows: np.ndarray, bt_key: np.ndarray, bt_trust: np.ndarray, w_brand: float,
                        trust: np.ndarray, segment: np.ndarray, price_sens: np.ndarray, table: np.ndarray,
                        width: int, store_room: np.ndarray, discounted: np.ndarray, room_term: np.ndarray,
                        log_price: np.ndarray, const: float, w_trust: float) -> tuple[np.ndarray, ...]:
    """The day's views in one pass (:func:`_purchase_candidates`), in chunks of views on ``THREADS``
    threads: the views whose purchase draw (``gen.random(c.size)``, drawn in the pass) can fall below
    ``P(buy)``, with their draw, utility, trust and store sale; then the branded views and their sellers."""
    rest = (c, s, h, n_priv, host_trust, w_host, branded_seller, brand_seller, aware_slot, aware, brand_affinity,
            w_awareness, bt_rows, bt_key, bt_trust, w_brand, trust, segment, price_sens, table, width, store_room,
            discounted, room_term, log_price, const, w_trust)
    jobs = [(j0, j1, g, *rest) for j0, j1, g in draw_chunks(gen, c.size)]
    return joined(run_chunks(_purchase_candidates, jobs), 7)


@njit(cache=True, nogil=True)
def _organic_views(i0: int, i1: int, seller: np.ndarray, room: np.ndarray, fund: np.ndarray, n_sellers: int,
                   n_rooms: int) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Views ``i0 <= i < i1`` not served by the traffic fund, counted by seller and by room."""
    by_seller = np.zeros(n_sellers, np.int64)
    by_room = np.zeros(n_rooms, np.int64)
    for i in range(i0, i1):
        if not fund[i]:
            by_seller[seller[i]] += 1
            by_room[room[i]] += 1
    return by_seller, by_room


def organic_views(seller: np.ndarray, room: np.ndarray, fund: np.ndarray, n_sellers: int,
                  n_rooms: int) -> tuple[np.ndarray, np.ndarray]:
    """Views the traffic fund did not serve, by seller and by room: ``np.bincount`` of the views less that
    of the fund's (exact integers), in chunks on threads."""
    parts = run_chunks(_organic_views, [(i0, i1, seller, room, fund, n_sellers, n_rooms)
                                        for i0, i1 in chunks(seller.size)])
    return sum(p[0] for p in parts), sum(p[1] for p in parts)  # integer counts: exact in any order


# ------------------------------------------------------------------ sorted edge lists (sim.agents.follows)
@njit(cache=True, nogil=True, inline="always")
def _dropped(k: int, drop_consumer: np.ndarray, drop_host: np.ndarray) -> bool:  # pragma: no cover - compiled
    """Whether edge key ``k`` belongs to a consumer or host the masks drop (ids beyond a mask's end are kept)."""
    c, h = k >> 32, k & 0xFFFFFFFF
    return (c < drop_consumer.size and drop_consumer[c]) or (h < drop_host.size and drop_host[h])


@njit(cache=True, nogil=True)
def compact_edges(key: np.ndarray, trust: np.ndarray, n: int, drop: np.ndarray, new_key: np.ndarray,
                  new_trust: np.ndarray, replace: bool, drop_consumer: np.ndarray, drop_host: np.ndarray,
                  insert: np.ndarray) -> tuple[int, int]:  # pragma: no cover - compiled
    """First half of a day's edits of a sorted edge list, in place: returns (edges left, new keys added).

    An edge is its key ``consumer << 32 | host`` and its trust.  The first ``n`` edges lose those where
    ``drop`` is true (empty: none); each sorted, unique ``new_key``
    that an edge left has is not added (that edge keeps its trust; ``replace``: takes ``new_trust``);
    then every edge of a consumer in ``drop_consumer`` or to a host in ``drop_host`` goes (empty masks
    drop nothing; ids beyond a mask's end are kept).  ``insert`` (one flag per new key, in) comes out
    true for the new keys :func:`insert_edges` must add: not held by an edge left after ``drop``, and
    not of a dropped consumer or host.  The added count (new keys not held) is taken before the last
    step.  The edges left are compacted to the front of the arrays, in order (a write never passes a read).
    """
    by_edge, nk = drop.size > 0, new_key.size
    j, w, held = 0, 0, 0
    for i in range(n):
        if by_edge and drop[i]:
            continue
        k = key[i]
        while j < nk and new_key[j] < k:
            j += 1
        moved = w != i
        t = trust[i]
        if j < nk and new_key[j] == k:  # an edge left holds this new key
            held += 1
            insert[j] = False
            if replace:
                t, moved = new_trust[j], True
            j += 1
        if _dropped(k, drop_consumer, drop_host):
            continue
        if moved:
            key[w], trust[w] = k, t
        w += 1
    for j in range(nk):  # new keys of a dropped consumer or host are not added either
        if insert[j] and _dropped(new_key[j], drop_consumer, drop_host):
            insert[j] = False
    return w, nk - held


@njit(cache=True, nogil=True)
def insert_edges(key: np.ndarray, trust: np.ndarray, n: int, new_key: np.ndarray, new_trust: np.ndarray,
                 insert: np.ndarray, m: int) -> None:  # pragma: no cover - compiled
    """Second half, in place: merge the new keys flagged in ``insert`` into the ``n`` sorted edges, from
    the back (the arrays hold at least ``m``, ``n`` plus the flagged keys), so a write never passes a
    read; the edges below the first inserted key are not touched."""
    i, j, w = n - 1, new_key.size - 1, m - 1
    while w > i:  # w - i new keys are still to place
        if not insert[j]:
            j -= 1
            continue
        k = new_key[j]
        if i >= 0 and key[i] > k:
            key[w], trust[w] = key[i], trust[i]
            i -= 1
        else:
            key[w], trust[w] = k, new_trust[j]
            j -= 1
        w -= 1


@njit(cache=True, nogil=True)
def row_starts(key: np.ndarray, n_rows: int) -> np.ndarray:  # pragma: no cover - compiled
    """CSR row pointer of edges sorted by key (``consumer << 32 | host``): row ``c`` is ``[out[c], out[c + 1])``
    (consumers ``< n_rows``; the edges are sorted, so a row is one run)."""
    out = np.zeros(n_rows + 1, np.int64)
    for i in range(key.size):
        c = key[i] >> 32
        if c < n_rows:
            out[c + 1] += 1
    for c in range(n_rows):
        out[c + 1] += out[c]
    return out


@njit(cache=True, nogil=True, inline="always")
def _lower_bound_from(key: np.ndarray, q: int, at: int) -> int:  # pragma: no cover - compiled
    """``np.searchsorted(key, q)``, galloping from a previous answer ``at`` (forward or backward), then
    bisecting the bracket it found: short steps in memory order when queries come nearly sorted."""
    n = key.size
    if at < n and key[at] < q:  # forward: find hi with key[hi] >= q, keeping key[lo - 1] < q
        lo, step = at + 1, 1
        hi = lo
        while hi < n and key[hi] < q:
            lo = hi + 1
            hi += step
            step *= 2
        hi = min(hi, n)
    else:  # backward: find lo with key[lo - 1] < q, keeping key[hi] >= q (or hi = n)
        hi, step = min(at, n), 1
        lo = hi
        while lo > 0 and key[lo - 1] >= q:
            hi = lo - 1
            lo -= step
            step *= 2
            if lo < 0:
                lo = 0
    while lo < hi:  # the lower bound lies in [lo, hi]
        mid = (lo + hi) >> 1
        if key[mid] < q:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, nogil=True)
def _find_sorted(key: np.ndarray, query: np.ndarray, i0: int, i1: int, out: np.ndarray) -> None:  # pragma: no cover
    """Into ``out[i0:i1]``: the index of each ``query[i0:i1]`` in the sorted, unique ``key``, or -1.

    Each search gallops from the previous answer (:func:`_lower_bound_from`): a day's lookups come in
    runs sorted by consumer, with a consumer's few brands in any order.
    """
    at = 0
    for i in range(i0, i1):
        q = query[i]
        at = _lower_bound_from(key, q, at)
        out[i] = at if at < key.size and key[at] == q else -1


def find_sorted(key: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Index of each ``query`` in the sorted, unique ``key``, or -1 (:func:`_find_sorted`, chunks on threads)."""
    out = np.empty(query.size, np.int64)
    run_chunks(_find_sorted, [(key, query, i0, i1, out) for i0, i1 in chunks(query.size)])
    return out


# ------------------------------------------------------------------ per-consumer passes (sim.agents.consumers)
@njit(cache=True, nogil=True)
def _churn(i0: int, i1: int, gen: np.random.Generator, trust: np.ndarray, active: np.ndarray, cheated: np.ndarray,
           threshold: float, hazard: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Slots ``i0 <= i < i1`` of :func:`churn`."""
    haz = np.empty(i1 - i0)
    gone = np.empty(i1 - i0, np.int64)
    m = 0
    g = 0
    for i in range(i0, i1):
        u = gen.random()  # one uniform per slot, active or not
        if not active[i]:
            continue
        h = hazard[1 if trust[i] < threshold else 0, cheated[i]]
        haz[m] = h
        m += 1
        if u < h:
            gone[g] = i
            g += 1
    return haz[:m].copy(), gone[:g].copy()


def churn(gen: np.random.Generator, trust: np.ndarray, active: np.ndarray, cheated: np.ndarray, threshold: float,
          hazard: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each slot's churn draw (one uniform of ``gen`` per slot, in slot order): the active slots' hazards
    ``hazard[trust < threshold, cheated]`` in slot order, and the active slots whose uniform falls below
    theirs (:func:`_churn`, in chunks on threads)."""
    parts = run_chunks(_churn, [(i0, i1, g, trust, active, cheated, threshold, hazard)
                                for i0, i1, g in draw_chunks(gen, trust.size)])
    return joined(parts, 2)  # type: ignore[return-value]


# ------------------------------------------------------------------ per-order updates (sim.agents.consumers)
@njit(cache=True, nogil=True)
def _learn_brand(aware: np.ndarray, known: np.ndarray, c: int, sl: int) -> int:  # pragma: no cover - compiled
    """Set bit ``sl`` of consumer ``c``'s row of ``aware``; count it in ``known`` if new (returns 1, else 0)."""
    byte, bit = sl >> 3, np.uint8(1 << (sl & 7))
    if aware[c, byte] & bit:
        return 0
    aware[c, byte] |= bit
    known[c] += 1
    return 1


@njit(cache=True, nogil=True)
def learn_brands(aware: np.ndarray, known: np.ndarray, consumer: np.ndarray, slot: np.ndarray
                 ) -> int:  # pragma: no cover - compiled
    """Set bit ``slot`` of each consumer's row of the ``aware`` bit matrix (entries with ``slot < 0`` are
    skipped) and count each newly known brand once in ``known``; returns how many pairs were new."""
    new = 0
    for i in range(consumer.size):
        if slot[i] >= 0:
            new += _learn_brand(aware, known, consumer[i], slot[i])
    return new


@njit(cache=True, nogil=True)
def learn_from_views(gen: np.random.Generator, aware: np.ndarray, known: np.ndarray, viewer: np.ndarray,
                     view: np.ndarray, seller: np.ndarray, aware_slot: np.ndarray, p: float
                     ) -> int:  # pragma: no cover - compiled
    """Views ``view`` of sellers ``seller``, in order: each view of a seller with an awareness slot draws one
    uniform of ``gen`` and below ``p`` its viewer (``viewer[view]``) learns the brand (:func:`learn_brands`).
    The same as ``seen = view[aware_slot[seller] >= 0]; learn = seen[gen.random(seen.size) < p]`` then
    ``learn_brands`` of the learned viewers and slots; returns how many pairs were new."""
    new = 0
    for k in range(view.size):
        sl = aware_slot[seller[k]]
        if sl >= 0 and gen.random() < p:
            new += _learn_brand(aware, known, viewer[view[k]], sl)
    return new


@njit(cache=True, nogil=True)
def settle_wallets(wallet: np.ndarray, buyer: np.ndarray, paid: np.ndarray, back: np.ndarray
                   ) -> None:  # pragma: no cover - compiled
    """``np.subtract.at(wallet, buyer, paid)`` then ``np.add.at(wallet, buyer, back)``: the same
    operations in the same order (two passes, so each wallet's sums round as they did)."""
    for i in range(buyer.size):
        wallet[buyer[i]] -= paid[i]
    for i in range(buyer.size):
        wallet[buyer[i]] += back[i]


@njit(cache=True, nogil=True)
def budget_pass(order: np.ndarray, consumer: np.ndarray, price: np.ndarray, r: np.ndarray,
                wallet: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """:func:`sim.choice.budget_gate` after a stable sort by consumer (``order``): each consumer's intents
    sorted by ``r`` (insertion sort, stable; a consumer has a few), which is ``np.lexsort((r, consumer))``;
    then the running spend ``csum - base`` against the wallet, with the sums of the numpy expression
    (one running sum over all intents, ``base`` its value before each consumer's first intent)."""
    n = order.size
    o = order.copy()
    start = 0
    while start < n:
        end = start + 1
        while end < n and consumer[o[end]] == consumer[o[start]]:
            end += 1
        for a in range(start + 1, end):
            x = o[a]
            b = a - 1
            while b >= start and r[o[b]] > r[x]:
                o[b + 1] = o[b]
                b -= 1
            o[b + 1] = x
        start = end
    ok = np.empty(n, np.bool_)
    csum = 0.0
    base = 0.0
    for k in range(n):
        i = o[k]
        p = price[i]
        csum = p if k == 0 else csum + p
        v = csum - p if k == 0 or consumer[i] != consumer[o[k - 1]] else 0.0
        base = v if k == 0 else max(base, v)  # np.maximum.accumulate
        ok[i] = (csum - base) <= wallet[consumer[i]] + 1e-9
    return ok
