# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Incremental pie or cannibalization?
#
# Run the brand-entry comparison with every growth channel on, and the closed-market control
# (the same entry with growth channels off and binding budgets), over paired replications.

# %% tags=["parameters"]
import os

SMALL = os.environ.get("LIVESIM_NOTEBOOK_SMALL") == "1"
FIG_DIR = os.environ.get("LIVESIM_FIG_DIR")  # set to save the key figure (the README uses them)
REPS = 3 if SMALL else 10
SIZE = (["consumers.n=5000", "hosts.n=150", "merchants.n=300", "days=120", "brands.n=5", "providers.n=5"]
        if SMALL else ["consumers.n=20000", "days=365"])

# %%
import matplotlib.pyplot as plt

from sim.compare import compare, load_experiment

results = {}
for name in ("brand_entry", "closed_market"):
    experiment, base, _ = load_experiment(name, SIZE)
    _, decomposition = compare(experiment, base, REPS, workers=1 if SMALL else 2)
    results[name] = decomposition.set_index("metric")
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
