"""The consumer-host follow graph, stored as CSR-ordered coordinate triplets.

Edges (consumer, host, trust-in-host) are kept sorted by the key
``consumer << 32 | host``, which is exactly CSR row order, so

* lookups of (consumer, host) pairs are a ``searchsorted``,
* a day's new follows are merged in one pass from the back (no re-sort),
* deletions are one compacting pass, and
* :meth:`to_csr` hands a ``scipy.sparse.csr_array`` to analysts at no cost.

The four arrays live in buffers with spare room (grown by a quarter when full),
and the edits are compiled passes in place (:mod:`sim.kernels`), so a day's edits
of a graph with millions of edges neither allocate nor touch the edges before
the first change.  ``key``, ``trust``, ``consumer`` and ``host`` are views of the
live edges: a view taken before an edit is stale after it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import sparse

from sim import kernels

_SHIFT = np.int64(32)
_FIELDS = (("key", np.int64), ("trust", np.float64), ("consumer", np.int32), ("host", np.int32))
_NONE = np.zeros(0, bool)


def _keys(consumer: np.ndarray, host: np.ndarray) -> np.ndarray:
    return (consumer.astype(np.int64) << _SHIFT) | host.astype(np.int64)


def _mask_of(ids: np.ndarray) -> np.ndarray:
    """A boolean mask that is true at ``ids``."""
    ids = np.asarray(ids, np.int64)
    mask = np.zeros(int(ids.max()) + 1 if ids.size else 0, bool)
    mask[ids] = True
    return mask


class FollowGraph:
    """Who follows whom, with each follower's trust in the host."""

    def __init__(self) -> None:
        self._n = 0
        self._buf = {name: np.zeros(0, dtype) for name, dtype in _FIELDS}
        self._rows: np.ndarray | None = None  # CSR row pointer of the current edges (built on demand)

    # the live edges: views of the buffers' first ``len(self)`` entries
    @property
    def key(self) -> np.ndarray:
        return self._buf["key"][: self._n]

    @property
    def trust(self) -> np.ndarray:
        return self._buf["trust"][: self._n]

    @property
    def consumer(self) -> np.ndarray:
        return self._buf["consumer"][: self._n]

    @property
    def host(self) -> np.ndarray:
        return self._buf["host"][: self._n]

    def __len__(self) -> int:
        return self._n

    def __getstate__(self) -> dict[str, Any]:  # a checkpoint holds the live edges, not the spare room
        return {name: getattr(self, name).copy() for name, _ in _FIELDS}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._buf = {name: np.ascontiguousarray(state[name], dtype) for name, dtype in _FIELDS}
        self._n = int(self._buf["key"].size)
        self._rows = None

    def _reserve(self, size: int) -> None:
        """Buffers that hold at least ``size`` edges."""
        cap = self._buf["key"].size
        if size <= cap:
            return
        cap = max(size, cap + cap // 4 + 1024)
        for name, dtype in _FIELDS:
            grown = np.empty(cap, dtype)
            grown[: self._n] = self._buf[name][: self._n]
            self._buf[name] = grown

    def rows(self) -> np.ndarray:
        """CSR row pointer by consumer: consumer ``c``'s edges are ``[rows[c], rows[c + 1])`` (for ``c``
        up to the largest consumer with an edge)."""
        if self._rows is None:
            self._rows = kernels.row_starts(self.consumer, int(self.consumer[-1]) + 1 if self._n else 0)
        return self._rows

    def find(self, consumer: np.ndarray, host: np.ndarray) -> np.ndarray:
        """Edge index of each (consumer, host) pair, or -1 where it does not follow."""
        if self._rows is not None or 16 * np.size(consumer) >= self._n:  # many lookups: scan the rows
            return kernels.find_in_rows(self.rows(), self.host, np.asarray(consumer, np.int64),
                                        np.asarray(host, np.int64))
        k = _keys(np.asarray(consumer), np.asarray(host))
        key = self.key
        pos = np.searchsorted(key, k)
        pos_c = np.minimum(pos, max(key.size - 1, 0))
        hit = (pos < key.size) & (key[pos_c] == k) if key.size else np.zeros(k.size, bool)
        return np.where(hit, pos, -1)

    def add(self, consumer: np.ndarray, host: np.ndarray, trust: np.ndarray) -> int:
        """Add follows (duplicates and existing edges are ignored); returns how many were new."""
        k = _keys(np.asarray(consumer), np.asarray(host))
        k, first = np.unique(k, return_index=True)
        t = np.asarray(trust, dtype=np.float64)[first]
        new = self.find(k >> _SHIFT, k & np.int64(0xFFFFFFFF)) < 0
        k, t = k[new], t[new]
        if k.size:
            self._reserve(self._n + k.size)
            b = self._buf
            kernels.merge_edges(b["key"], b["trust"], b["consumer"], b["host"], self._n, k, t)
            self._n += int(k.size)
            self._rows = None
        return int(k.size)

    def _drop(self, edges: np.ndarray = _NONE, consumers: np.ndarray = _NONE, hosts: np.ndarray = _NONE) -> int:
        """Drop edges by edge, consumer or host mask (one compacting pass); returns how many were dropped."""
        b, n = self._buf, self._n
        self._n = int(kernels.compact_edges(b["key"], b["trust"], b["consumer"], b["host"], n, edges, consumers,
                                            hosts))
        self._rows = None
        return n - self._n

    def remove(self, mask: np.ndarray) -> int:
        """Drop the edges where ``mask`` is true; returns how many were dropped."""
        return self._drop(edges=np.asarray(mask, bool)) if np.any(mask) else 0

    def remove_consumers(self, consumers: np.ndarray) -> int:
        """Drop every edge of the given consumers (churn)."""
        if not len(consumers) or not self._n:
            return 0
        return self._drop(consumers=_mask_of(consumers))

    def remove_hosts(self, hosts_mask: np.ndarray) -> int:
        """Drop every edge to hosts where ``hosts_mask`` is true (host left the market)."""
        return self._drop(hosts=np.asarray(hosts_mask, bool)) if self._n and np.any(hosts_mask) else 0

    def followers(self, n_hosts: int) -> np.ndarray:
        """Follower count of each host."""
        return np.bincount(self.host, minlength=n_hosts)[:n_hosts]

    def following(self, n_consumers: int) -> np.ndarray:
        """Number of hosts each consumer follows."""
        return np.bincount(self.consumer, minlength=n_consumers)[:n_consumers]

    def to_csr(self, n_consumers: int, n_hosts: int) -> sparse.csr_array:
        """The follow matrix (consumers x hosts) with trust-in-host as values."""
        rows = self.rows()
        indptr = np.full(n_consumers + 1, self._n, np.int64)
        indptr[: min(rows.size, n_consumers + 1)] = rows[: n_consumers + 1]
        return sparse.csr_array((self.trust.copy(), self.host.copy(), indptr), shape=(n_consumers, n_hosts))
