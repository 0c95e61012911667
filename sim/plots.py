"""Figures of a run, in one house style: units on every axis, one colour per seller type."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")  # files only; notebooks pick their own backend before importing pyplot
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim.output import write_atomic  # noqa: E402

if TYPE_CHECKING:  # pragma: no cover
    from sim.model import MarketModel

#: Colours used for seller types and channels in every figure.
COLORS = {
    "white_label": "#d95f02",
    "brand": "#1b9e77",
    "new_brand": "#7570b3",
    "host_channel": "#e7298a",
    "self_broadcast": "#66a61e",
    "total": "#333333",
}


def _save(fig: plt.Figure, path: Path) -> Path:
    fig.tight_layout()
    write_atomic(path, lambda p: fig.savefig(p, dpi=110, format="png"))
    plt.close(fig)
    return path


def gmv_by_type_and_channel(metrics: pd.DataFrame, path: Path) -> Path:
    """Daily GMV by seller type (left) and by channel (right), yuan at platform scale."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    day = metrics.index
    axes[0].plot(day, metrics["gmv"], color=COLORS["total"], label="total")
    for kind in ("white_label", "brand", "new_brand"):
        col = metrics[f"gmv_{kind}"]
        if col.any():
            axes[0].plot(day, col, color=COLORS[kind], label=kind.replace("_", "-"))
    for ch in ("host_channel", "self_broadcast"):
        axes[1].plot(day, metrics[f"gmv_{ch}"], color=COLORS[ch], label=ch.replace("_", " "))
    axes[0].set_title("GMV by seller type")
    axes[1].set_title("GMV by channel")
    for ax in axes:
        ax.set_xlabel("day")
        ax.legend(frameon=False)
    axes[0].set_ylabel("GMV (yuan/day, platform scale)")
    return _save(fig, path)


def trust_and_repurchase(metrics: pd.DataFrame, path: Path) -> Path:
    """Mean platform trust and the 90-day repurchase rate over time."""
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(metrics.index, metrics["mean_platform_trust"], color=COLORS["brand"], label="mean platform trust")
    ax.plot(metrics.index, metrics["repurchase_rate"], color=COLORS["white_label"], label="repurchase rate (90 days)")
    ax.plot(metrics.index, metrics["cheated_rate"], color=COLORS["host_channel"], ls="--", label="cheated share of orders")
    ax.set_ylim(0, 1)
    ax.set_xlabel("day")
    ax.set_ylabel("trust (0-1) / share of buyers or orders")
    ax.legend(frameon=False)
    return _save(fig, path)


def ccdf(values: np.ndarray, path: Path, xlabel: str, title: str) -> Path:
    """Complementary CDF on log-log axes: how heavy is the tail?"""
    v = np.sort(np.asarray(values, float))
    v = v[v > 0]
    fig, ax = plt.subplots(figsize=(6, 4))
    if v.size:
        ax.loglog(v, 1.0 - np.arange(v.size) / v.size, marker=".", ls="none", ms=3, color=COLORS["total"])
    ax.set_xlabel(xlabel)
    ax.set_ylabel("share with at least x")
    ax.set_title(title)
    return _save(fig, path)


STAGE_COLORS = ("#a6cee3", "#1f78b4", "#b2df8a", "#33a02c")


def brands_by_stage(metrics: pd.DataFrame, path: Path) -> Path:
    """Active traditional brands in each STEPS stage over time (stacked)."""
    from sim.config import STEPS_STAGES

    fig, ax = plt.subplots(figsize=(7, 4))
    cols = [metrics[f"brands_stage_{s}"].to_numpy() for s in STEPS_STAGES]
    ax.stackplot(metrics.index, *cols, labels=[s.replace("_", " ") for s in STEPS_STAGES], colors=STAGE_COLORS)
    ax.set_xlabel("day")
    ax.set_ylabel("active brands")
    ax.set_title("Brands by STEPS stage")
    ax.legend(frameon=False, loc="upper left")
    return _save(fig, path)


def sp_client_gmv(annual: np.ndarray, threshold: float, path: Path) -> Path:
    """Distribution of service providers' annualised client GMV, with the seed's threshold."""
    fig, ax = plt.subplots(figsize=(7, 4))
    v = np.sort(np.asarray(annual, float))[::-1]
    ax.bar(np.arange(v.size), v, color=COLORS["brand"], width=1.0)
    ax.axhline(threshold, color=COLORS["total"], ls="--", label=f"threshold {threshold:.3g} yuan/year")
    ax.set_yscale("symlog", linthresh=max(threshold / 100, 1.0))
    ax.set_xlabel("service providers, ranked")
    ax.set_ylabel("annualised client GMV (yuan/year, platform scale)")
    ax.set_title(f"{int((v >= threshold).sum())} of {v.size} active SPs over the threshold")
    ax.legend(frameon=False)
    return _save(fig, path)


def run_figures(model: MarketModel, metrics: pd.DataFrame, folder: Path) -> list[Path]:
    """The figures a policy reader wants first from one run."""
    folder = Path(folder)
    scale = model.cfg.consumers.scale
    hosts = model.hosts
    followers = model.follows.followers(hosts.n)[hosts.active[: hosts.n]] * scale
    S = model.sellers
    return [
        gmv_by_type_and_channel(metrics, folder / "gmv_by_type_and_channel.png"),
        trust_and_repurchase(metrics, folder / "trust_and_repurchase.png"),
        ccdf(followers, folder / "follower_distribution.png", "followers (platform scale)",
             "Host followers at the end of the run"),
        ccdf(S.gmv[: S.n] * scale, folder / "seller_gmv_distribution.png", "cumulative GMV (yuan, platform scale)",
             "Seller GMV over the run"),
        brands_by_stage(metrics, folder / "brands_by_stage.png"),
        sp_client_gmv(model.providers.annual_client_gmv(scale)[model.providers.active[: model.providers.n]],
                      model.cfg.providers.gmv_threshold, folder / "sp_client_gmv.png"),
    ]
