"""The money ledger: every order's price split exactly, in integer fen.

For each order, GMV (the price) = merchant revenue + host commission +
platform take + service-provider fee + refund.  A refunded order's whole price
is the refund; a kept order pays ``round(price * commission)`` to the host,
``round(price * take)`` to the platform, ``round(price * fee)`` to the seller's
service provider and the rest to the seller, so the identity holds to the fen
by construction and is asserted every day.  Flows outside GMV (10x counterfeit
compensation, return-shipping compensation, fund payments, ads, upgrade
subsidies) are booked separately as side flows.

Totals are kept by buyer segment x seller type x channel x seller cohort.
"""

from __future__ import annotations

import numpy as np

#: The GMV split, in the order of the ledger's first axis.
FIELDS = ("gmv", "merchant", "commission", "take", "sp_fee", "refund")
#: Flows outside GMV: who pays whom.
SIDE_FLOWS = {
    "compensation": "sellers -> buyers (10x counterfeit compensation)",
    "shipping_comp": "platform -> buyers (return shipping)",
    "ads": "brands -> platform (ad impressions)",
    "fund_cash": "platform -> service providers (cash fund)",
    "fund_eco": "platform -> service providers (ecosystem fund)",
    "upgrade_subsidy": "platform -> merchants (quality investment top-up)",
}
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

    def add_cohorts(self, n_cohorts: int) -> None:
        """Make room for more seller cohorts (entry waves added by a branch)."""
        extra = n_cohorts - self.shape[-1]
        if extra > 0:
            pad = [(0, 0)] * (len(self.shape) - 1) + [(0, extra)]
            self.total = np.pad(self.total, pad)
            self.today = np.pad(self.today, pad)
            self.shape = self.total.shape

    def begin_day(self) -> None:
        """Reset the day's books (orders and side flows)."""
        self.today[:] = 0
        self.side_today = dict.fromkeys(SIDE_FLOWS, 0)

    def side(self, name: str, yuan: float | np.ndarray) -> int:
        """Book a flow outside GMV (yuan at model scale); returns the fen booked."""
        fen = int(to_fen(np.sum(yuan)))
        self.side_today[name] += fen
        self.side_total[name] += fen
        return fen

    def post(self, segment: np.ndarray, kind: np.ndarray, channel: np.ndarray, cohort: np.ndarray,
             price: np.ndarray, commission_rate: np.ndarray, take_rate: float, fee_rate: np.ndarray,
             refunded: np.ndarray) -> dict[str, np.ndarray]:
        """Book one day's orders; returns the per-order split in fen (keys of :data:`FIELDS`)."""
        gmv = to_fen(price)
        kept = ~refunded
        commission = np.where(kept, np.rint(gmv * commission_rate), 0).astype(np.int64)
        take = np.where(kept, np.rint(gmv * take_rate), 0).astype(np.int64)
        sp_fee = np.where(kept, np.rint(gmv * fee_rate), 0).astype(np.int64)
        refund = np.where(refunded, gmv, 0)
        merchant = gmv - commission - take - sp_fee - refund
        split = {"gmv": gmv, "merchant": merchant, "commission": commission, "take": take, "sp_fee": sp_fee,
                 "refund": refund}
        cell = np.ravel_multi_index((segment, kind, channel, cohort), self.shape[1:])
        size = int(np.prod(self.shape[1:]))
        for i, name in enumerate(FIELDS):
            self.today[i] = np.bincount(cell, weights=split[name], minlength=size).round().astype(np.int64).reshape(self.shape[1:])
        self.check(self.today)
        self.total += self.today
        return split

    @staticmethod
    def check(book: np.ndarray) -> None:
        """GMV = merchant + commission + take + sp_fee + refund in every cell, to the fen."""
        if not np.array_equal(book[0], book[1:].sum(axis=0)):
            raise AccountingError("ledger identity broken: GMV != " + " + ".join(FIELDS[1:]))

    def field(self, name: str, today: bool = True) -> np.ndarray:
        """The (segment, kind, channel, cohort) table of one field, in fen."""
        return (self.today if today else self.total)[FIELDS.index(name)]
