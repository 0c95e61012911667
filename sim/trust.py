"""Trust dynamics: asymmetric learning from orders, shared by platform and host trust.

A satisfying order moves trust a step ``gain`` towards 1; a cheating order
moves it towards 0 by ``gain * loss_aversion`` (losses weigh more than gains,
Kahneman & Tversky's ~2.25), softened by a refund or compensation.  With
``n`` orders in a day the steps compound, so the update has a closed form and
is applied to whole arrays at once.  Trust also forgets (drifts back to each
consumer's initial level) and hears word of mouth: the platform's recent share of
orders that met expectation moves everyone's platform trust a little each day.
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


def drift(trust: np.ndarray, anchor: np.ndarray, cfg: TrustConfig, reputation: float,
          out: np.ndarray | None = None) -> np.ndarray:
    """Daily forgetting towards each consumer's anchor plus word of mouth.

    ``t += drift * (anchor - t) + word_of_mouth * (reputation - satisfaction_ref)``:
    consumers hear how others' orders went (``reputation``, the platform-wide
    share of orders that met expectation, smoothed) even on days they do not buy.
    """
    step = cfg.word_of_mouth * (reputation - cfg.satisfaction_ref)
    out = np.add(trust, cfg.drift * (anchor - trust), out=out)
    out += step
    return out


def update_reputation(reputation: float, satisfied: int, orders: int, cfg: TrustConfig) -> float:
    """EWMA of the share of orders that met expectation (unchanged on a day without orders)."""
    if orders == 0:
        return reputation
    return reputation + (satisfied / orders - reputation) / cfg.reputation_memory


def endorse(trust: np.ndarray, who: np.ndarray, strength: float) -> None:
    """Brand endorsement spillover: each satisfying brand order moves ``who``'s trust ``strength`` towards 1."""
    if who.size == 0:
        return
    ids, n = np.unique(who, return_counts=True)
    trust[ids] = 1.0 - (1.0 - trust[ids]) * np.power(1.0 - strength, n)
