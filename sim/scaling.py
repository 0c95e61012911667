"""A prototype of the partitioned day (docs/SCALING.md): consumers split over Dask workers, rooms reduced.

The consumer-side core of a day's public domain, computed the way a run of the whole platform
would be spread over a cluster: each worker holds a block of consumers and draws its slice of the
day's random streams (a PCG64 generator advanced to the block's first index, so every draw equals
the single-process draw whatever the number of workers); the driver all-gathers the blocks'
demand totals into impression offsets, broadcasts the allocation rule's alias table, and reduces
the workers' per-room view counts.  ``tests/test_scaling.py`` checks it against the model.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.rng import Streams, uniforms_from
from sim.traffic import alias_table


def bounds(n: int, parts: int) -> list[tuple[int, int]]:
    """``parts`` contiguous blocks ``[a, b)`` covering ``range(n)`` (sizes differ by at most one)."""
    edges = np.linspace(0, n, parts + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]


def stream_slice(seed: int, purpose: str, day: int, start: int, count: int) -> np.ndarray:
    """Uniforms ``start .. start + count - 1`` of the stream ``(seed, purpose, day)``.

    A PCG64 double uses one 64-bit output, so advancing the generator ``start`` steps
    (O(log start)) lands exactly on the ``start``-th uniform of the single-process draw.
    """
    return uniforms_from(Streams(seed).get(purpose, day), start).random(count)


def demand_block(lam: np.ndarray, seed: int, day: int, start: int) -> np.ndarray:
    """Public impressions each consumer of a block asks for: ``floor(lam + u)`` with its slice of ``viewing``."""
    return np.floor(lam + stream_slice(seed, "viewing", day, start, lam.size)).astype(np.int64)


def views_block(prob: np.ndarray, alias: np.ndarray, seed: int, day: int, offset: int, count: int) -> np.ndarray:
    """Views per room of a block's ``count`` impressions, the first being the day's ``offset``-th."""
    u = stream_slice(seed, "allocation", day, offset, count) * prob.size
    col = u.astype(np.int64)
    room = np.where(u - col < prob[col], col, alias[col])
    return np.bincount(room, minlength=prob.size)


def partitioned_public_views(lam: np.ndarray, weights: np.ndarray, seed: int, day: int, parts: int,
                             client: Any) -> tuple[np.ndarray, np.ndarray]:
    """Viewing demand of every consumer and public views of every room, computed over ``parts`` blocks.

    ``lam`` is the day's expected public impressions per consumer and ``weights`` the
    allocation rule's room weights (both computed by the driver from replicated state).
    Returns (demand per consumer, views per room); ``client`` is a ``distributed.Client``.
    """
    blocks = bounds(lam.size, parts)
    lam_f = [client.scatter(lam[a:b]) for a, b in blocks]  # each worker holds its consumers' rates
    demand_f = [client.submit(demand_block, lf, seed, day, a, pure=False) for lf, (a, _) in zip(lam_f, blocks)]
    totals = client.gather([client.submit(np.sum, f, pure=False) for f in demand_f])  # the all-gather
    offsets = np.concatenate([[0], np.cumsum(totals)[:-1]]).astype(np.int64)
    prob, alias = alias_table(weights)
    table = client.scatter((prob, alias), broadcast=True)
    views_f = [client.submit(lambda t, o, c: views_block(t[0], t[1], seed, day, o, c), table, int(o), int(c), pure=False)
               for o, c in zip(offsets, totals)]
    views = client.submit(lambda *parts_: np.sum(parts_, axis=0), *views_f, pure=False).result()  # the reduce
    return np.concatenate(client.gather(demand_f)), views
