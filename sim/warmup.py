"""Choosing and checking the burn-in: MSER-5 truncation and the trend over a measurement window.

MSER-5 (White 1997; White, Cobb and Spratt 2000): average a series in batches of
5, and pick the truncation point ``d`` that minimises the marginal standard error
``sum_{i>d} (x_i - mean_{>d})**2 / (k - d)**2`` of the batch means left; searched
over the first half of the series (the usual rule, as a truncation in the second
half means the run is too short).  The burn-in for a set of series and seeds is the
largest of their truncation points.
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def mser5(x: np.ndarray, batch: int = 5) -> int:
    """MSER-5 truncation point of series ``x``, in observations (a multiple of ``batch``)."""
    x = np.asarray(x, float)
    k = x.size // batch
    if k < 4:
        return 0
    b = x[: k * batch].reshape(k, batch).mean(axis=1)
    # suffix sums give every candidate's mean and sum of squares in O(k)
    rev = b[::-1]
    s1 = np.cumsum(rev)[::-1]
    s2 = np.cumsum(rev * rev)[::-1]
    m = k - np.arange(k)  # batches left after truncating d
    sse = s2 - s1 * s1 / m
    stat = sse / (m * m)
    half = k // 2
    return int(np.argmin(stat[:half])) * batch


def trend(y: np.ndarray) -> dict[str, float]:
    """Least-squares trend of a daily series: slope per year relative to the mean, with a 95% interval.

    The interval is widened for autocorrelation (lag-1, the effective-sample-size
    correction ``(1 + rho) / (1 - rho)``), since daily metrics are autocorrelated.
    """
    y = np.asarray(y, float)
    n = y.size
    if n < 3 or not np.isfinite(y).all() or y.mean() == 0:
        return {"slope_per_year": float("nan"), "ci_low": float("nan"), "ci_high": float("nan"), "p_value": float("nan")}
    t = np.arange(n, dtype=float)
    fit = stats.linregress(t, y)
    resid = y - (fit.intercept + fit.slope * t)
    rho = float(np.corrcoef(resid[:-1], resid[1:])[0, 1]) if n > 3 and resid.std() > 0 else 0.0
    rho = min(max(rho, 0.0), 0.99)
    se = fit.stderr * np.sqrt((1 + rho) / (1 - rho))
    dof = max(n * (1 - rho) / (1 + rho) - 2, 1.0)
    half = stats.t.ppf(0.975, dof) * se
    scale = 365.0 / abs(y.mean())
    p = 2 * stats.t.sf(abs(fit.slope) / se, dof) if se > 0 else 0.0
    return {"slope_per_year": float(fit.slope * scale), "ci_low": float((fit.slope - half) * scale),
            "ci_high": float((fit.slope + half) * scale), "p_value": float(p)}
