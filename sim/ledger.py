"""The money ledger: every order's price split exactly, in integer fen.

For each order, GMV (the price) = merchant revenue + host commission +
platform take + refund.  A refunded order's whole price is the refund; a kept
order pays ``round(price * commission)`` to the host, ``round(price * take)``
to the platform and the rest to the seller, so the identity holds to the fen
by construction and is asserted every day.  Flows outside GMV (10x counterfeit
compensation from sellers, return-shipping compensation from the platform)
are booked separately.

Totals are kept by buyer segment x seller type x channel x seller cohort.
"""

from __future__ import annotations

import numpy as np

#: The GMV split, in the order of the ledger's first axis.
FIELDS = ("gmv", "merchant", "commission", "take", "refund")
#: Flows outside GMV.
SIDE_FLOWS = ("compensation", "shipping_comp")
CHANNELS = ("host", "self_broadcast")


class AccountingError(AssertionError):
    """A conservation identity failed: a bug, never a configuration problem."""


def to_fen(yuan: np.ndarray) -> np.ndarray:
    return np.rint(np.asarray(yuan) * 100.0).astype(np.int64)


class Ledger:
    """Cumulative and daily money flows, in fen at model scale."""

    def __init__(self, n_segments: int, n_kinds: int, n_cohorts: int) -> None:
        self.shape = (len(FIELDS), n_segments, n_kinds, len(CHANNELS), n_cohorts)
        self.total = np.zeros(self.shape, dtype=np.int64)
        self.today = np.zeros(self.shape, dtype=np.int64)
        self.side_total = dict.fromkeys(SIDE_FLOWS, 0)
        self.side_today = dict.fromkeys(SIDE_FLOWS, 0)

    def post(self, segment: np.ndarray, kind: np.ndarray, channel: np.ndarray, cohort: np.ndarray,
             price: np.ndarray, commission_rate: np.ndarray, take_rate: float, refunded: np.ndarray,
             compensation: np.ndarray, shipping_comp: np.ndarray) -> dict[str, np.ndarray]:
        """Book one day's orders; returns the per-order split in fen (keys of :data:`FIELDS`)."""
        gmv = to_fen(price)
        kept = ~refunded
        commission = np.where(kept, np.rint(gmv * commission_rate), 0).astype(np.int64)
        take = np.where(kept, np.rint(gmv * take_rate), 0).astype(np.int64)
        refund = np.where(refunded, gmv, 0)
        merchant = gmv - commission - take - refund
        split = {"gmv": gmv, "merchant": merchant, "commission": commission, "take": take, "refund": refund}
        cell = np.ravel_multi_index((segment, kind, channel, cohort), self.shape[1:])
        size = int(np.prod(self.shape[1:]))
        for i, name in enumerate(FIELDS):
            self.today[i] = np.bincount(cell, weights=split[name], minlength=size).round().astype(np.int64).reshape(self.shape[1:])
        for name, flow in (("compensation", compensation), ("shipping_comp", shipping_comp)):
            self.side_today[name] = int(to_fen(flow).sum())
            self.side_total[name] += self.side_today[name]
        self.check(self.today)
        self.total += self.today
        return split

    @staticmethod
    def check(book: np.ndarray) -> None:
        """GMV = merchant + commission + take + refund in every cell, to the fen."""
        if not np.array_equal(book[0], book[1:].sum(axis=0)):
            raise AccountingError("ledger identity broken: GMV != merchant + commission + take + refund")

    def field(self, name: str, today: bool = True) -> np.ndarray:
        """The (segment, kind, channel, cohort) table of one field, in fen."""
        return (self.today if today else self.total)[FIELDS.index(name)]
