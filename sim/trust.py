"""Trust dynamics: asymmetric learning from orders, shared by platform and host trust.

A satisfying order moves trust a step ``gain`` towards 1; a cheating order
moves it towards 0 by ``gain * loss_aversion`` (losses weigh more than gains,
Kahneman & Tversky's ~2.25), softened by a refund or compensation.  With
``n`` orders in a day the steps compound, so the update has a closed form and
is applied to whole arrays at once.
"""

from __future__ import annotations

import numpy as np

from sim.config import TrustConfig


def loss_log_keep(cfg: TrustConfig, refunded: np.ndarray, compensated: np.ndarray) -> np.ndarray:
    """log of the share of trust kept after each cheating order."""
    relief = np.minimum(1.0, cfg.refund_relief * refunded + cfg.compensation_relief * compensated)
    return np.log1p(-cfg.gain * cfg.loss_aversion * (1.0 - relief))


def update(trust: np.ndarray, n_good: np.ndarray, log_keep: np.ndarray, gain: float) -> np.ndarray:
    """Trust after ``n_good`` satisfying orders then losses with summed ``log_keep``."""
    after_good = 1.0 - (1.0 - trust) * np.power(1.0 - gain, n_good)
    return after_good * np.exp(log_keep)


def drift(trust: np.ndarray, anchor: np.ndarray, rate: float, out: np.ndarray | None = None) -> np.ndarray:
    """Daily reversion towards each consumer's own anchor (forgetting)."""
    return np.add(trust, rate * (anchor - trust), out=out)
