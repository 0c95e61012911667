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
# # livesim quickstart
#
# Build the default market from Python, run it, and read the daily metrics into pandas.
# The parameter cell below sets the size; the test suite runs this file with a small market.
#
# Every population is a sample of the real platform (3e8 users) at one ratio: `consumers.n`
# consumers stand for `consumers.n * consumers.scale` users, and hosts, merchants, brands and service
# providers are sampled at the same ratio from their real numbers (`hosts.real_n` ...). The default
# market (100,000 consumers) has about 120 hosts, 333 merchants, 3 brands and 5 SPs. The small test
# market (5,000 consumers) raises the densities (`real_n`) so that it still has 150 hosts and 300
# merchants. `MarketModel(...)` first simulates a burn-in (`burn_in`, 720 days by default; 30 in the
# small market) so that day 1 starts from a settled market; the metrics start at day 1.

# %% tags=["parameters"]
import os

SMALL = os.environ.get("LIVESIM_NOTEBOOK_SMALL") == "1"
FIG_DIR = os.environ.get("LIVESIM_FIG_DIR")  # set to save the key figure (the README uses them)
DAYS = 60 if SMALL else 365
# small: 5,000 consumers with raised densities (150 hosts, 300 merchants, 6 brands, 8 SPs) and a short burn-in
OVERRIDES = ({"burn_in": 30, "consumers": {"n": 5000}, "hosts": {"real_n": 9e6}, "merchants": {"real_n": 1.8e7},
              "brands": {"real_n": 3.6e5}, "providers": {"real_n": 4.8e5}} if SMALL else {})

# %%
import matplotlib.pyplot as plt

from sim import MarketModel
from sim.agents.hosts import HostAgent
from sim.checks import check_invariants
from sim.plots import COLORS

model = MarketModel(seed=0, days=DAYS, **OVERRIDES)  # builds the market and runs its burn-in
print({name: p["agents"] for name, p in model.sample["populations"].items()}, "simulated agents")
model.run_for(DAYS)
check_invariants(model)  # the ledger and traffic identities hold
metrics = model.metrics_frame()  # one row per reported day (1..DAYS); model.burn_in_frame() has the burn-in
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
#
# A simulated host stands for `weight` real hosts; `followers` (real users) and `income` (yuan since it
# entered) are one real host's figures.

# %%
hosts = [h for h in model.agents_by_type[HostAgent] if not h.is_store]  # talent hosts, not store accounts
top = sorted(hosts, key=lambda h: h.followers, reverse=True)[:5]
[(h.unique_id, h.tier, round(h.weight, 1), round(h.followers), round(h.income)) for h in top]
