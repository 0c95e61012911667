"""The platform's rules for sellers and buyers: guarantees, quality control, take rate.

Guarantees decide what a buyer gets back after a bad (or regretted) order;
quality control inspects sellers, bans fraud rings and demotes exaggerators
in traffic.  Both read and write the seller book; neither knows about traffic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.agents.sellers import Sellers
from sim.config import PlatformConfig


@dataclass
class Settlement:
    """What happened after delivery, one entry per order."""

    refunded: np.ndarray  # bool: price returned to the buyer
    compensated: np.ndarray  # bool: 10x counterfeit compensation paid
    compensation: np.ndarray  # yuan paid by the seller on top of the refund
    shipping_comp: np.ndarray  # yuan of return shipping paid by the platform


def active_guarantees(cfg: PlatformConfig) -> int:
    """How many of the three consumer guarantees are switched on."""
    g = cfg.guarantees
    return int(g.return_shipping) + int(g.counterfeit_10x) + int(g.no_reason_7d)


def settle(cfg: PlatformConfig, rng: np.random.Generator, price: np.ndarray, cheated: np.ndarray,
           counterfeit: np.ndarray) -> Settlement:
    """Refunds and compensation under the active guarantees.

    Without guarantees a cheated buyer gets a refund with ``base_refund_prob``.
    7-day no-reason returns refund every cheated buyer who asks (all do) and a
    ``no_reason_return_prob`` share of satisfied ones.  "Fake one, pay ten"
    refunds every counterfeit and adds 10x the price.  Return-shipping
    compensation pays ``shipping_comp`` yuan per refunded order.
    """
    g = cfg.guarantees
    u = rng.random(price.size)
    if g.no_reason_7d:
        refunded = np.where(cheated, True, u < g.no_reason_return_prob)
    else:
        refunded = cheated & (u < g.base_refund_prob)
    compensated = cheated & counterfeit if g.counterfeit_10x else np.zeros(price.size, bool)
    refunded = refunded | compensated
    compensation = np.where(compensated, 10.0 * price, 0.0)
    shipping = np.where(refunded, g.shipping_comp, 0.0) if g.return_shipping else np.zeros(price.size)
    return Settlement(refunded, compensated, compensation, shipping)


def inspect(cfg: PlatformConfig, sellers: Sellers, rng: np.random.Generator, day: int) -> tuple[np.ndarray, np.ndarray]:
    """Daily quality control; returns (banned, demoted) seller ids.

    Each active seller is inspected with probability
    ``inspect_prob + complaint_inspect * refund_rate``; an inspected fraud ring
    is caught with ``fraud_detect_prob`` and banned; an inspected seller whose
    claim exceeds its true quality by more than ``inflation_threshold`` is
    demoted in traffic for ``demotion_days`` and cuts ``claim_cut`` of its exaggeration.
    """
    qc = cfg.quality_control
    n = sellers.n
    u = rng.random((2, n))
    if not qc.enabled:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    p = np.minimum(1.0, qc.inspect_prob + qc.complaint_inspect * sellers.refund_rate())
    inspected = sellers.active[:n] & (u[0] < p)
    banned = np.flatnonzero(inspected & sellers.fraud[:n] & (u[1] < qc.fraud_detect_prob))
    inflated = inspected & ~sellers.fraud[:n] & (sellers.claim[:n] - sellers.quality[:n] > qc.inflation_threshold)
    demoted = np.flatnonzero(inflated)
    sellers.demoted_until[demoted] = day + qc.demotion_days
    # a demoted seller tones its claims down: it drops claim_cut of its exaggeration
    sellers.claim[demoted] -= qc.claim_cut * (sellers.claim[demoted] - sellers.quality[demoted])
    return banned, demoted


def demotion_multiplier(cfg: PlatformConfig, sellers: Sellers, day: int) -> np.ndarray:
    """Traffic weight multiplier of each seller (``demotion_factor`` while demoted, else 1)."""
    n = sellers.n
    return np.where(sellers.demoted_until[:n] >= day, cfg.quality_control.demotion_factor, 1.0)
