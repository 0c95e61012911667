# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # How big should the service-provider fund be?
#
# The `sp_fund_size` experiment: cash, traffic and ecosystem funds at 0.5x to 4x the seed's
# programme against none, over paired replications (each replication burns the market in once and
# branches the five arms from it). SP and brand counts are real counts at platform scale.

# %% tags=["parameters"]
import os

SMALL = os.environ.get("LIVESIM_NOTEBOOK_SMALL") == "1"
FIG_DIR = os.environ.get("LIVESIM_FIG_DIR")  # set to save the key figure (the README uses them)
REPS = 2 if SMALL else 4
# Full: the default 100,000 consumers with the SPs' density raised 30x (providers.real_n = 3e4: 10 SP
# agents instead of 5, one per tier) and the brands' 10x (brands.real_n = 1e5: 33 brand agents, the
# SPs' first clients), one year after a 360-day burn-in (shorter than the default 720, to keep the
# notebook to a few minutes). Small: 5,000 consumers with raised densities (150 hosts, 300 merchants,
# 6 brands, 8 SPs), a 30-day burn-in and 120 days.
SIZE = (["consumers.n=5000", "hosts.real_n=9e6", "merchants.real_n=1.8e7", "brands.real_n=3.6e5",
         "providers.real_n=4.8e5", "days=120", "burn_in=30"]
        if SMALL else ["providers.real_n=3e4", "brands.real_n=1e5", "days=365", "burn_in=360"])

# %%
import matplotlib.pyplot as plt
import numpy as np

from sim.compare import compare, load_experiment

experiment, base, _ = load_experiment("sp_fund_size", SIZE)
comparison, decomposition = compare(experiment, base, REPS, workers=1 if SMALL else 2)
levels = list(experiment.policies)
table = decomposition[decomposition["metric"].isin(["d_gmv_total", "d_n_sps_over_threshold", "d_n_brands",
                                                    "cost_per_incremental_yuan"])]
table.pivot(index="policy", columns="metric", values="estimate").loc[levels]

# %% [markdown]
# ## Returns to fund size

# %%
mult = np.array([float(p.lstrip("x")) for p in levels])
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for ax, metric, label in ((axes[0], "d_gmv_total", "change in GMV (yuan)"),
                          (axes[1], "d_n_sps_over_threshold", "change in SPs over 100M yuan/year (real)")):
    d = decomposition[decomposition["metric"] == metric].set_index("policy").loc[levels]
    ax.plot(mult, d["estimate"], marker="o")
    ax.fill_between(mult, d["ci_low"], d["ci_high"], alpha=0.2)
    ax.set_xlabel("fund size (x the seed's programme)")
    ax.set_ylabel(label)
    ax.axhline(0, color="black", lw=0.8)
if FIG_DIR:
    fig.savefig(os.path.join(FIG_DIR, "nb04_fund_size.png"), dpi=90, bbox_inches="tight")

# %% [markdown]
# Read the intervals before the curve: with a handful of SP agents at this resolution, the smaller
# funds' GMV gains have intervals that include zero, and the cost per incremental yuan
# (`cost_per_incremental_yuan`, printed above) need not rise with fund size. Each fund acts through
# the SP market (docs/MODEL.md 3.3.30-3.3.33): sellers hire SPs on expected uplift net of fee, SPs
# invest cash and ecosystem money in capacity and capability, enter on expected profit including
# fund income, and the traffic fund's views go to SP clients. `experiments/fund_elasticity.py`
# measures each fund alone at 1x, 4x and 10x (MODEL.md 3.3.34). Questions about individual SPs
# still need a resolution of about 1e7 consumers (docs/MODEL.md section 4).
