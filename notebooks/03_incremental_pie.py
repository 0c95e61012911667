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
# # Incremental pie or cannibalization?
#
# Run the brand-entry comparison with every growth channel on, and the closed-market control
# (the same entry with growth channels off and binding budgets), over paired replications.
# The wave on day 60 brings as many brands as the platform has (10,000 real brands; at 300,000
# consumers that is 10 brand agents joining 10). Each replication burns the market in once and
# branches both arms from it, so they differ only from the wave on.

# %% tags=["parameters"]
import os

SMALL = os.environ.get("LIVESIM_NOTEBOOK_SMALL") == "1"
FIG_DIR = os.environ.get("LIVESIM_FIG_DIR")  # set to save the key figure (the README uses them)
REPS = 3
# Full: the presets' 300,000 consumers (10 brands at start, 10 more in the wave) over 150 reported days
# after a 360-day burn-in (shorter than the default 720, to keep the notebook to a few minutes).
# Small: 5,000 consumers with raised densities (150 hosts, 300 merchants, 6 brands, 8 SPs); the wave
# enters as many real brands as the market's density has (360,000 on the whole platform: 6 agents).
SIZE = (["consumers.n=5000", "hosts.real_n=9e6", "merchants.real_n=1.8e7", "brands.real_n=3.6e5",
         "providers.real_n=4.8e5", "days=120", "burn_in=30", "experiment.policies.entry.brands.entry_waves=[[60,360000]]"]
        if SMALL else ["days=150", "burn_in=360"])

# %%
from concurrent.futures import ThreadPoolExecutor

import matplotlib.pyplot as plt

from sim.compare import compare, load_experiment
from sim.parallel import process_pool

NAMES = ("brand_entry", "closed_market")
pool = None if SMALL else process_pool(2)  # one pool for both experiments: no core idles between them


loaded = [load_experiment(name, SIZE)[:2] for name in NAMES]  # (experiment, base config) each
try:
    with ThreadPoolExecutor(1 if SMALL else 2) as threads:
        runs = threads.map(lambda eb: compare(*eb, REPS, executor=pool)[1].set_index("metric"), loaded)
        results = dict(zip(NAMES, runs))
finally:
    if pool is not None:
        pool.shutdown()
keys = ["d_gmv_total", "cannibalization", "gmv_treated", "incremental_share", "cannibalization_ratio"]
{name: d.loc[keys, ["estimate", "ci_low", "ci_high"]] for name, d in results.items()}

# %% [markdown]
# ## New demand versus sales taken from incumbents

# %%
fig, ax = plt.subplots(figsize=(7, 4))
for i, (name, d) in enumerate(results.items()):
    row = d.loc["incremental_share"]
    ax.errorbar([i], [row.estimate], yerr=[[row.estimate - row.ci_low], [row.ci_high - row.estimate]], fmt="o",
                capsize=5)
ax.set_xticks(range(len(results)))
ax.set_xticklabels(list(results))
ax.axhline(0, color="black", lw=0.8)
ax.set_ylabel("incremental share of entrants' GMV (95% CI)")
if FIG_DIR:
    fig.savefig(os.path.join(FIG_DIR, "nb03_incremental_share.png"), dpi=90, bbox_inches="tight")

# %% [markdown]
# **What separates growth from cannibalization.** Entrants' sales are new to the market only if
# something makes the market bigger: buyers who trust the platform more after buying a known brand
# (the endorsement spillover), people who watch more or join because brands they know are present,
# and budgets that are not already spent. Switch those channels off and hold spending fixed
# (`closed_market`), and whatever entrants sell is taken from incumbents: the cannibalization ratio
# goes to one and the change in total GMV to zero (within its interval).
