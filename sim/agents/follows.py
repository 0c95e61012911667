"""The consumer-host follow graph, stored as CSR-ordered coordinate triplets.

Edges (consumer, host, trust-in-host) are kept sorted by the key
``consumer << 32 | host``, which is exactly CSR row order, so

* lookups of (consumer, host) pairs are a ``searchsorted``,
* a day's new follows are merged in O(E) with ``np.insert`` (no re-sort),
* deletions are one boolean mask, and
* :meth:`to_csr` hands a ``scipy.sparse.csr_array`` to analysts at no cost.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

_SHIFT = np.int64(32)


def _keys(consumer: np.ndarray, host: np.ndarray) -> np.ndarray:
    return (consumer.astype(np.int64) << _SHIFT) | host.astype(np.int64)


class FollowGraph:
    """Who follows whom, with each follower's trust in the host."""

    def __init__(self) -> None:
        self.key = np.zeros(0, dtype=np.int64)
        self.trust = np.zeros(0, dtype=np.float64)
        # the key's two halves, kept alongside because every day reads them
        self.consumer = np.zeros(0, dtype=np.int32)
        self.host = np.zeros(0, dtype=np.int32)

    def __len__(self) -> int:
        return int(self.key.size)

    def find(self, consumer: np.ndarray, host: np.ndarray) -> np.ndarray:
        """Edge index of each (consumer, host) pair, or -1 where it does not follow."""
        k = _keys(np.asarray(consumer), np.asarray(host))
        pos = np.searchsorted(self.key, k)
        pos_c = np.minimum(pos, max(self.key.size - 1, 0))
        hit = (pos < self.key.size) & (self.key[pos_c] == k) if self.key.size else np.zeros(k.size, bool)
        return np.where(hit, pos, -1)

    def add(self, consumer: np.ndarray, host: np.ndarray, trust: np.ndarray) -> int:
        """Add follows (duplicates and existing edges are ignored); returns how many were new."""
        k = _keys(np.asarray(consumer), np.asarray(host))
        k, first = np.unique(k, return_index=True)
        t = np.asarray(trust, dtype=np.float64)[first]
        new = self.find(k >> _SHIFT, k & np.int64(0xFFFFFFFF)) < 0
        k, t = k[new], t[new]
        if k.size:
            pos = np.searchsorted(self.key, k)
            self.key = np.insert(self.key, pos, k)
            self.trust = np.insert(self.trust, pos, t)
            self.consumer = np.insert(self.consumer, pos, (k >> _SHIFT).astype(np.int32))
            self.host = np.insert(self.host, pos, (k & np.int64(0xFFFFFFFF)).astype(np.int32))
        return int(k.size)

    def remove(self, mask: np.ndarray) -> int:
        """Drop the edges where ``mask`` is true; returns how many were dropped."""
        n = int(np.count_nonzero(mask))
        if n:
            keep = ~mask
            self.key, self.trust = self.key[keep], self.trust[keep]
            self.consumer, self.host = self.consumer[keep], self.host[keep]
        return n

    def remove_consumers(self, consumers: np.ndarray) -> int:
        """Drop every edge of the given consumers (churn)."""
        if not len(consumers) or not self.key.size:
            return 0
        lo = np.searchsorted(self.key, np.asarray(consumers, np.int64) << _SHIFT)
        hi = np.searchsorted(self.key, (np.asarray(consumers, np.int64) + 1) << _SHIFT)
        # mark [lo, hi) ranges with a difference array: O(E + k), no Python loop
        diff = np.zeros(self.key.size + 1, dtype=np.int64)
        np.add.at(diff, lo, 1)
        np.add.at(diff, hi, -1)
        mask = np.cumsum(diff[:-1]) > 0
        return self.remove(mask)

    def remove_hosts(self, hosts_mask: np.ndarray) -> int:
        """Drop every edge to hosts where ``hosts_mask`` is true (host left the market)."""
        return self.remove(hosts_mask[self.host])

    def followers(self, n_hosts: int) -> np.ndarray:
        """Follower count of each host."""
        return np.bincount(self.host, minlength=n_hosts)[:n_hosts]

    def following(self, n_consumers: int) -> np.ndarray:
        """Number of hosts each consumer follows."""
        return np.bincount(self.consumer, minlength=n_consumers)[:n_consumers]

    def to_csr(self, n_consumers: int, n_hosts: int) -> sparse.csr_array:
        """The follow matrix (consumers x hosts) with trust-in-host as values."""
        indptr = np.searchsorted(self.key, np.arange(n_consumers + 1, dtype=np.int64) << _SHIFT)
        return sparse.csr_array((self.trust.copy(), self.host, indptr), shape=(n_consumers, n_hosts))
