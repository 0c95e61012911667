# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # livesim quickstart
#
# Build the default market from Python, run it, and read the daily metrics into pandas.
# The parameter cell below sets the size; the test suite runs this file with a small market.

# %% tags=["parameters"]
import os

SMALL = os.environ.get("LIVESIM_NOTEBOOK_SMALL") == "1"
FIG_DIR = os.environ.get("LIVESIM_FIG_DIR")  # set to save the key figure (the README uses them)
DAYS = 60 if SMALL else 365
OVERRIDES = {"consumers": {"n": 5000}, "hosts": {"n": 150}, "merchants": {"n": 300}} if SMALL else {}

# %%
import matplotlib.pyplot as plt

from sim import MarketModel
from sim.agents.hosts import HostAgent
from sim.checks import check_invariants
from sim.plots import COLORS

model = MarketModel(seed=0, days=DAYS, **OVERRIDES)
model.run_for(DAYS)
check_invariants(model)  # the ledger and traffic identities hold
metrics = model.datacollector.get_model_vars_dataframe()
metrics.index.name = "day"
metrics[["gmv", "orders", "mean_platform_trust", "repurchase_rate"]].describe()

# %% [markdown]
# ## GMV by seller type and channel (yuan per day at platform scale)

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
for kind in ("white_label", "brand", "new_brand"):
    axes[0].plot(metrics.index, metrics[f"gmv_{kind}"], color=COLORS[kind], label=kind)
for ch in ("host_channel", "self_broadcast"):
    axes[1].plot(metrics.index, metrics[f"gmv_{ch}"], color=COLORS[ch], label=ch)
for ax in axes:
    ax.set_xlabel("day")
    ax.legend(frameon=False)
axes[0].set_ylabel("GMV (yuan/day, platform scale)")
if FIG_DIR:
    fig.savefig(os.path.join(FIG_DIR, "nb01_gmv_by_type_and_channel.png"), dpi=90, bbox_inches="tight")

# %% [markdown]
# ## Trust and repurchase

# %%
ax = metrics[["mean_platform_trust", "repurchase_rate", "cheated_rate"]].plot(figsize=(7, 4))
ax.set_xlabel("day")
ax.set_ylabel("share / trust (0-1)")

# %% [markdown]
# ## Agents: hosts are Mesa agents viewing the vectorised books

# %%
hosts = model.agents_by_type[HostAgent]
top = sorted(hosts, key=lambda h: h.followers, reverse=True)[:5]
[(h.unique_id, h.tier, h.followers, round(h.income)) for h in top]
