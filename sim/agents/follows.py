"""The consumer-host follow graph, stored as CSR-ordered (key, trust) pairs.

Edges (consumer, host, trust-in-host) are kept sorted by the key
``consumer << 32 | host``, which is exactly CSR row order (the key is the
edge's consumer and host: 16 bytes an edge, not 24), so

* lookups of (consumer, host) pairs are a search of the sorted keys,
* a day's removals and new follows are one merging pass (no re-sort), and
* :meth:`to_csr` hands a ``scipy.sparse.csr_array`` to analysts at no cost.

The two arrays live in one set of buffers with spare room (grown by a quarter
when full): a day's edits are two compiled passes in place
(:func:`sim.kernels.compact_edges` forward, dropping edges, then
:func:`sim.kernels.insert_edges` backward, merging the new ones), so a graph with
tens of millions of edges is held once, not twice.  ``key`` and ``trust`` are
views of the live edges: a view taken before an edit is stale after it (an edit
rewrites the buffers in place); ``consumer`` and ``host`` are new arrays.

An edit can run in the background (``edit(..., background=True)``): the pass
runs on a thread of its own while the day goes on, and every use of the graph
(its arrays, lookups, length, the next edit, a checkpoint, a ``fork``) waits
for it first.  The pass's inputs are its own, so the result is the same bits
whenever it finishes.
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import Any

import numpy as np
from scipy import sparse

from sim import kernels

_SHIFT = np.int64(32)
_FIELDS = (("key", np.int64), ("trust", np.float64))  # consumer and host are the key's halves, not stored
_NONE = np.zeros(0, bool)
_NO_KEYS, _NO_TRUST = np.zeros(0, np.int64), np.zeros(0, np.float64)


_RUNNING: weakref.WeakSet[FollowGraph] = weakref.WeakSet()  # graphs with an edit in the background


def _finish_all() -> None:
    for g in list(_RUNNING):
        g._wait()


os.register_at_fork(before=_finish_all)  # a forked child must not inherit a half-written graph


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

    def __init__(self, rows: bool = False) -> None:
        self._n = 0
        self._buf = {name: np.zeros(0, dtype) for name, dtype in _FIELDS}
        #: keep the row pointer by consumer (:meth:`rows`) up to date: built by each edit, in its thread
        self.keep_rows = rows
        self._rows: np.ndarray | None = None
        self._pending: tuple[threading.Thread, list] | None = None  # an edit running in the background

    def _wait(self) -> None:
        """Finish an edit running in the background (re-raising what it raised)."""
        if self._pending is not None:
            thread, box = self._pending
            thread.join()
            self._pending = None
            _RUNNING.discard(self)
            if box and isinstance(box[0], BaseException):
                raise box[0]

    # the live edges: views of the buffers' first ``len(self)`` entries
    @property
    def key(self) -> np.ndarray:
        self._wait()
        return self._buf["key"][: self._n]

    @property
    def trust(self) -> np.ndarray:
        self._wait()
        return self._buf["trust"][: self._n]

    @property
    def consumer(self) -> np.ndarray:
        """The edges' consumers (a new array: the high half of each key)."""
        return (self.key >> _SHIFT).astype(np.int32)

    @property
    def host(self) -> np.ndarray:
        """The edges' hosts (a new array: the low half of each key)."""
        return (self.key & 0xFFFFFFFF).astype(np.int32)

    def __len__(self) -> int:
        self._wait()
        return self._n

    def __getstate__(self) -> dict[str, Any]:  # a checkpoint holds the live edges, not the spare room
        self._wait()  # views, not copies: a pickle writes only their elements
        return {"keep_rows": self.keep_rows, **{name: self._buf[name][: self._n] for name, _ in _FIELDS}}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._pending = None
        self.keep_rows, self._rows = bool(state.get("keep_rows", False)), None
        self._n = n = int(state["key"].size)
        cap = n + n // 4 + 1024
        self._buf = {name: np.empty(cap, dtype) for name, dtype in _FIELDS}
        for name, _ in _FIELDS:
            self._buf[name][:n] = state[name]

    def rows(self) -> np.ndarray:
        """CSR row pointer by consumer: consumer ``c``'s edges are ``[rows[c], rows[c + 1])``, for the
        consumers up to the largest with an edge."""
        self._wait()
        if self._rows is None:
            self._rows = self._row_starts()
        return self._rows

    def _row_starts(self) -> np.ndarray:
        k = self._buf["key"][: self._n]
        return kernels.row_starts(k, int(k[-1] >> _SHIFT) + 1 if k.size else 0)

    def find(self, consumer: np.ndarray, host: np.ndarray) -> np.ndarray:
        """Edge index of each (consumer, host) pair, or -1 where it does not follow."""
        self._wait()
        return kernels.find_sorted(self.key, _keys(np.asarray(consumer), np.asarray(host)))

    def edit(self, drop: np.ndarray | None = None, consumer: np.ndarray | None = None,
             host: np.ndarray | None = None, trust: np.ndarray | None = None,
             drop_consumers: np.ndarray | None = None, drop_hosts: np.ndarray | None = None,
             replace: bool = False, background: bool = False) -> int | None:
        """One pass of edits, in this order: drop the edges where ``drop`` is true; add the follows
        (``consumer``, ``host``, ``trust``; duplicates keep their first trust, pairs that already
        follow keep theirs, or take the new one with ``replace``); drop every edge of
        ``drop_consumers`` (ids) and to hosts where the mask ``drop_hosts`` is true.  Returns how many
        follows were new (before the last step), or None with ``background`` (the pass runs on a
        thread; the next use of the graph waits for it)."""
        self._wait()
        if consumer is not None and np.size(consumer):
            k, first = np.unique(_keys(np.asarray(consumer), np.asarray(host)), return_index=True)
            t = np.asarray(trust, dtype=np.float64)[first]
        else:
            k, t = _NO_KEYS, _NO_TRUST
        drop = _NONE if drop is None or not np.any(drop) else np.asarray(drop, bool)
        gone = _NONE if drop_consumers is None or not np.size(drop_consumers) else _mask_of(drop_consumers)
        closed = _NONE if drop_hosts is None or not np.any(drop_hosts) else np.asarray(drop_hosts, bool)
        if not (k.size or drop.size or gone.size or closed.size) or not (self._n or k.size):
            return 0
        buf, n0 = self._buf, self._n
        insert = np.ones(k.size, bool)
        self._rows = None

        def apply() -> int:
            n, added = kernels.compact_edges(buf["key"], buf["trust"], n0, drop, k, t, replace, gone, closed, insert)
            m = n + int(np.count_nonzero(insert))
            if buf["key"].size < m:  # grow by a quarter, one array at a time (the old one goes as it is copied)
                cap = max(m, buf["key"].size + buf["key"].size // 4 + 1024)
                for name, dtype in _FIELDS:
                    grown = np.empty(cap, dtype)
                    grown[:n] = buf[name][:n]
                    buf[name] = grown
            kernels.insert_edges(buf["key"], buf["trust"], n, k, t, insert, m)
            self._n = m
            if self.keep_rows:
                self._rows = self._row_starts()
            return int(added)

        if not background:
            return apply()
        box: list = []

        def run() -> None:
            try:
                apply()
            except BaseException as e:  # noqa: BLE001 - re-raised by _wait
                box.append(e)

        thread = threading.Thread(target=run, name="follow-graph-edit", daemon=True)
        self._pending = (thread, box)
        _RUNNING.add(self)
        thread.start()
        return None

    def add(self, consumer: np.ndarray, host: np.ndarray, trust: np.ndarray) -> int:
        """Add follows (duplicates and existing edges are ignored); returns how many were new."""
        return self.edit(consumer=consumer, host=host, trust=trust)

    def remove(self, mask: np.ndarray) -> int:
        """Drop the edges where ``mask`` is true; returns how many were dropped."""
        n = len(self)
        self.edit(drop=mask)
        return n - self._n

    def remove_consumers(self, consumers: np.ndarray) -> int:
        """Drop every edge of the given consumers (churn)."""
        n = len(self)
        self.edit(drop_consumers=consumers)
        return n - self._n

    def remove_hosts(self, hosts_mask: np.ndarray) -> int:
        """Drop every edge to hosts where ``hosts_mask`` is true (host left the market)."""
        n = len(self)
        self.edit(drop_hosts=hosts_mask)
        return n - self._n

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
