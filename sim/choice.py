"""The purchase decision: a binary logit of buying the item on screen against the outside option.

For a view of seller ``s`` by consumer ``i`` in room ``h``::

    U = intercept + w_trust * T + w_quality * claim_s + w_guarantee * G
        + w_persona * persona_h + w_segment_fit * fit_{s, seg_i}
        + conversion_uplift * room_op_{SP(s)}
        + [s is a brand] * (brand_affinity_i + w_awareness * aware_{i, s})
        - price_sens_i * log(price_{s, h})

where ``price_{s, h}`` is the list price, less the self-broadcast discount in
a brand's own store room.
    P(buy) = 1 / (1 + exp(-U))

``T`` is platform trust in the public domain and a mix
``(1 - w) * platform + w * host`` trust in the private domain.  A buy is
an *intent*: it still has to fit the consumer's budget.
"""

from __future__ import annotations

import numpy as np

from sim import kernels
from sim.agents.sellers import Sellers
from sim.config import ChoiceConfig


def seller_utility(cfg: ChoiceConfig, sellers: Sellers) -> np.ndarray:
    """The seller part of utility for each audience segment: ``w_quality * claim + w_segment_fit * fit``."""
    n = sellers.n
    return cfg.w_quality * sellers.claim[:n, None] + cfg.w_segment_fit * sellers.fit[:n]


def utility(cfg: ChoiceConfig, trust: np.ndarray, seller_term: np.ndarray, room_term: np.ndarray,
            price_sens: np.ndarray, log_price: np.ndarray, n_guarantees: int) -> np.ndarray:
    """Utility ``U`` of buying each view's item (arrays aligned per view; ``seller_term`` is reused)."""
    u = seller_term
    u += cfg.intercept + cfg.w_guarantee * n_guarantees
    u += cfg.w_trust * trust
    u += room_term
    u -= price_sens * log_price
    return u


def logistic(u: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-u))`` in place, written overflow-free (element by element: a subset gives the same bits)."""
    u *= 0.5
    np.tanh(u, out=u)
    u += 1.0
    u *= 0.5
    return u


def buy_probability(cfg: ChoiceConfig, trust: np.ndarray, seller_term: np.ndarray, room_term: np.ndarray,
                    price_sens: np.ndarray, log_price: np.ndarray, n_guarantees: int) -> np.ndarray:
    """Logit purchase probability of each view (arrays aligned per view; ``seller_term`` is reused)."""
    return logistic(utility(cfg, trust, seller_term, room_term, price_sens, log_price, n_guarantees))


def budget_gate(rng: np.random.Generator, consumer: np.ndarray, price: np.ndarray,
                wallet: np.ndarray) -> np.ndarray:
    """Which purchase intents go through: each consumer buys in random order until money runs out.

    Returns a boolean mask over intents: the intents sorted by consumer and, within a consumer, by a
    uniform (``np.lexsort``), then a running sum of prices within each consumer (one compiled pass,
    :func:`sim.kernels.budget_pass`).
    """
    if consumer.size == 0:
        return np.zeros(0, dtype=bool)
    r = rng.random(consumer.size)
    return kernels.budget_pass(np.argsort(consumer, kind="stable"), consumer, price, r, wallet)
