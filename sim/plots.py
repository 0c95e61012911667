"""Figures of a run, in one house style: units on every axis, one colour per seller type."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")  # files only; notebooks pick their own backend before importing pyplot
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim import units  # noqa: E402
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
    units.axis_money(axes[0])  # shared y: both panels
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


def ccdf(values: np.ndarray, path: Path, xlabel: str, title: str, weights: np.ndarray | None = None) -> Path:
    """Complementary CDF on log-log axes: how heavy is the tail?

    ``weights`` (real agents each value stands for) make it the distribution over real agents.
    """
    v = np.asarray(values, float)
    w = np.ones_like(v) if weights is None else np.asarray(weights, float)
    order = np.argsort(v, kind="stable")
    v, w = v[order], w[order]
    keep = v > 0
    v, w = v[keep], w[keep]
    fig, ax = plt.subplots(figsize=(6, 4))
    if v.size:
        share = 1.0 - np.concatenate([[0.0], np.cumsum(w)[:-1]]) / w.sum()
        ax.loglog(v, share, marker=".", ls="none", ms=3, color=COLORS["total"])
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
    ax.axhline(threshold, color=COLORS["total"], ls="--", label=f"threshold {units.value(threshold, 'yuan')}/year")
    ax.set_yscale("symlog", linthresh=max(threshold / 100, 1.0))
    units.axis_money(ax)
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
    act = hosts.active[: hosts.n]
    followers = (model.follows.followers(hosts.n) / hosts.mass[: hosts.n])[act] * scale  # of one real host
    S = model.sellers
    return [
        gmv_by_type_and_channel(metrics, folder / "gmv_by_type_and_channel.png"),
        trust_and_repurchase(metrics, folder / "trust_and_repurchase.png"),
        ccdf(followers, folder / "follower_distribution.png", "followers of one real host",
             "Host followers at the end of the run (over real hosts)", hosts.mass[: hosts.n][act]),
        ccdf(S.gmv[: S.n] / S.mass[: S.n], folder / "seller_gmv_distribution.png",
             "cumulative GMV of one real seller (yuan)", "Seller GMV over the run (over real sellers)",
             S.mass[: S.n]),
        brands_by_stage(metrics, folder / "brands_by_stage.png"),
        sp_client_gmv(model.providers.annual_client_gmv()[model.providers.active[: model.providers.n]],
                      model.cfg.providers.gmv_threshold, folder / "sp_client_gmv.png"),
    ]


# ---------------------------------------------------------------------- comparisons
def _band(ax: plt.Axes, x: np.ndarray, runs: np.ndarray, color: str, label: str,
          bounds: tuple[float | None, float | None] = (None, None)) -> None:
    """Mean over replications with a 95% t band, cut to the range the quantity can take (``bounds``)."""
    from scipy import stats

    mean = runs.mean(axis=0)
    ax.plot(x, mean, color=color, label=label)
    if runs.shape[0] > 1:
        half = stats.t.ppf(0.975, runs.shape[0] - 1) * runs.std(axis=0, ddof=1) / np.sqrt(runs.shape[0])
        # a symmetric t band of a small, skewed sample can cross a bound (GMV below zero, trust above one)
        ax.fill_between(x, np.clip(mean - half, *bounds), np.clip(mean + half, *bounds), color=color, alpha=0.2, lw=0)


ARM_COLORS = ("#333333", "#d95f02", "#1b9e77", "#7570b3", "#e7298a", "#66a61e")


def comparison_figures(by: dict, experiment, replications: int, decomposition: pd.DataFrame,  # noqa: ANN001
                       folder: Path) -> list[Path]:
    """GMV and platform trust over time per arm (bands over replications); the decomposition with intervals.

    The decomposition shows what adds up for the experiment's treated rule (:func:`sim.compare.split_terms`):
    the entrants' GMV and where it came from, or the change in total GMV and who gained or lost it.
    """
    from sim.compare import clip, split_terms

    folder = Path(folder)
    arms = ["baseline", *experiment.policies]
    paths = []
    for metric, ylabel, name, bounds in (
            ("gmv", "GMV (yuan/day, platform scale)", "gmv_by_arm.png", (0.0, None)),
            ("gmv_incumbent", "incumbents' GMV (yuan/day, platform scale)", "incumbent_gmv_by_arm.png", (0.0, None)),
            ("mean_platform_trust", "mean platform trust (0-1)", "trust_by_arm.png", (0.0, 1.0))):
        fig, ax = plt.subplots(figsize=(7, 4))
        for i, arm in enumerate(arms):
            runs = np.array([by[r, arm].metrics[metric].to_numpy() for r in range(replications)])
            _band(ax, by[0, arm].metrics.index.to_numpy(), runs, ARM_COLORS[i % len(ARM_COLORS)], arm, bounds)
        ax.set_xlabel("day")
        ax.set_ylabel(ylabel)
        if metric.startswith("gmv"):
            units.axis_money(ax)
        ax.legend(frameon=False)
        paths.append(_save(fig, folder / name))
    total, parts = split_terms(experiment.treated)
    terms = [total, *parts]
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.8 / max(len(experiment.policies), 1)
    for i, policy in enumerate(experiment.policies):
        d = decomposition[decomposition["policy"] == policy].set_index("metric")
        est, low, high = [], [], []
        for metric, sign, _ in terms:
            row = d.loc[metric]
            lo, hi = clip(metric, row.ci_low, row.ci_high)
            lo, hi = (lo, hi) if sign > 0 else (-hi, -lo)
            est.append(sign * row.estimate)
            low.append(lo)
            high.append(hi)
        est_a = np.array(est)
        err = np.vstack([est_a - np.array(low), np.array(high) - est_a])  # no interval (1 replication): no bar
        x = np.arange(len(terms)) + i * width
        ax.bar(x, est_a, width, yerr=np.nan_to_num(np.clip(err, 0, None)), capsize=3, label=policy,
               color=ARM_COLORS[(i + 1) % len(ARM_COLORS)])
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(np.arange(len(terms)) + width * (len(experiment.policies) - 1) / 2)
    ax.set_xticklabels([label.replace(" in ", "\nin ", 1) for *_, label in terms], fontsize=8)
    ax.set_ylabel("yuan over the run (platform scale), 95% CI")
    ax.set_title(f"{terms[0][2]} = " + " + ".join(label for *_, label in parts), fontsize=9)
    units.axis_money(ax)
    ax.legend(frameon=False)
    paths.append(_save(fig, folder / "decomposition.png"))
    return paths


def grid_figure(grid: pd.DataFrame, path: Path) -> Path:
    """Incremental share of treated GMV against the swept parameter, with 95% intervals."""
    fig, ax = plt.subplots(figsize=(7, 4))
    sub = grid[grid["metric"] == "incremental_share"]
    for i, (policy, g) in enumerate(sub.groupby("policy", sort=False)):
        x = np.arange(len(g))
        color = ARM_COLORS[(i + 1) % len(ARM_COLORS)]
        ax.plot(x, g["estimate"], marker="o", color=color, label=policy)
        ax.fill_between(x, g["ci_low"], g["ci_high"], color=color, alpha=0.2, lw=0)
        ax.set_xticks(x)
        ax.set_xticklabels([str(v) for v in g["value"]])
    ax.axhline(0, color="black", lw=0.8)
    ax.axhline(1, color="black", lw=0.8, ls=":")
    ax.set_xlabel(str(sub["parameter"].iloc[0]) if len(sub) else "parameter")
    ax.set_ylabel("incremental share of treated GMV (95% CI)")
    units.axis_percent(ax)
    ax.set_title("0: pure cannibalization, 1: all new demand")
    ax.legend(frameon=False)
    return _save(fig, path)


def sensitivity_figure(table: pd.DataFrame, path: Path) -> Path:
    """Sobol first-order and total indices (or Morris mu*) per parameter, one panel per output."""
    outputs = list(dict.fromkeys(table["output"]))
    fig, axes = plt.subplots(1, len(outputs), figsize=(4.2 * len(outputs), 4), sharey=True, squeeze=False)
    for ax, out in zip(axes[0], outputs):
        t = table[table["output"] == out]
        y = np.arange(len(t))
        if "S1" in t:
            ax.barh(y - 0.2, t["S1"], 0.4, xerr=t["S1_conf"], color=COLORS["brand"], label="first order S1")
            ax.barh(y + 0.2, t["ST"], 0.4, xerr=t["ST_conf"], color=COLORS["white_label"], label="total ST")
            ax.set_xlabel("Sobol index (95% CI)")
        else:
            ax.barh(y, t["mu_star"], 0.6, xerr=t["mu_star_conf"], color=COLORS["brand"], label="Morris mu*")
            ax.set_xlabel("mu* (output units, 95% CI)")
        ax.set_yticks(y)
        ax.set_yticklabels(t["parameter"])
        ax.set_title(out)
        ax.legend(frameon=False, fontsize=8)
    return _save(fig, path)


def response_curve(results: pd.DataFrame, x: str, y: str, path: Path) -> Path:
    """A metric against one swept parameter: mean over seeds with a 95% t band."""
    from scipy import stats

    ok = results[results["status"] == "ok"]
    g = ok.groupby(x)[y]
    mean, sd, n = g.mean(), g.std(ddof=1).fillna(0.0), g.count()
    half = stats.t.ppf(0.975, np.maximum(n - 1, 1)) * sd / np.sqrt(n)
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(mean.index, mean, marker="o", color=COLORS["total"])
    ax.fill_between(mean.index, mean - half, mean + half, color=COLORS["total"], alpha=0.2, lw=0)
    ax.set_xlabel(x)
    ax.set_ylabel(f"{y} (mean over seeds, 95% CI)")
    for axis, name in (("x", x), ("y", y)):
        if _is_money(name):
            units.axis_money(ax, axis)
        else:
            try:  # numbers as they are, not as an offset (+1e8); categorical axes have no such setting
                ax.ticklabel_format(axis=axis, useOffset=False)
            except AttributeError:
                pass
    return _save(fig, path)


def _is_money(column: str) -> bool:
    """Whether a sweep results column holds yuan: a run summary of a yuan metric, or a fund in yuan."""
    from sim.metrics import METRICS

    for suffix in ("_total", "_final", "_mean"):
        if column.endswith(suffix) and METRICS.get(column[: -len(suffix)], "").startswith("yuan"):
            return True
    return column in ("funds.cash", "funds.eco")


def heatmap(results: pd.DataFrame, x: str, y: str, z: str, path: Path) -> Path:
    """Mean of ``z`` over seeds on the (x, y) grid of a sweep."""
    ok = results[results["status"] == "ok"]
    table = ok.pivot_table(index=y, columns=x, values=z, aggfunc="mean")
    fig, ax = plt.subplots(figsize=(7, 5))
    im = ax.imshow(table.to_numpy(), origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(table.shape[1]))
    ax.set_xticklabels([units.money(v) if _is_money(x) else f"{v:.3g}" for v in table.columns])
    ax.set_yticks(range(table.shape[0]))
    ax.set_yticklabels([units.money(v) if _is_money(y) else f"{v:.3g}" for v in table.index])
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    bar = fig.colorbar(im, ax=ax, label=f"{z} (mean over seeds)")
    if _is_money(z):
        units.axis_money(bar.ax)
    return _save(fig, path)
