# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Inside the market: consumers, brands, hosts and service providers
#
# Follow a few consumers' trust, a brand through its STEPS stages, a host's followers and income,
# a service provider's clients; then look at distributions across the population.

# %% tags=["parameters"]
import os

SMALL = os.environ.get("LIVESIM_NOTEBOOK_SMALL") == "1"
FIG_DIR = os.environ.get("LIVESIM_FIG_DIR")  # set to save the key figure (the README uses them)
DAYS = 90 if SMALL else 365
OVERRIDES = ({"consumers": {"n": 5000}, "hosts": {"n": 150}, "merchants": {"n": 300}, "brands": {"n": 6},
              "providers": {"n": 8}} if SMALL else {})

# %%
import matplotlib.pyplot as plt
import numpy as np

from sim import MarketModel
from sim.agents.hosts import HostAgent
from sim.agents.providers import ProviderAgent
from sim.agents.sellers import Kind, SellerAgent
from sim.config import STEPS_STAGES
from sim.plots import COLORS

model = MarketModel(seed=1, days=DAYS, **OVERRIDES)
watch = np.arange(5)  # five consumers present from the start
trust, stages = [], []
brands = np.flatnonzero(model.sellers.kind[: model.sellers.n] == Kind.BRAND)
for day in range(DAYS):
    model.step()
    trust.append(model.consumers.trust[watch].copy())
    stages.append(model.sellers.stage[brands].copy())

# %% [markdown]
# ## Five consumers' trust in the platform (days)

# %%
fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(np.arange(1, DAYS + 1), np.array(trust))
ax.set_xlabel("day")
ax.set_ylabel("trust in the platform (0-1)")

# %% [markdown]
# ## A brand's path through STEPS

# %%
stages = np.array(stages)
best = int(np.argmax(stages[-1]))
fig, ax = plt.subplots(figsize=(7, 3))
ax.step(np.arange(1, DAYS + 1), stages[:, best], where="post", color=COLORS["brand"])
ax.set_yticks(range(len(STEPS_STAGES)))
ax.set_yticklabels(STEPS_STAGES)
ax.set_xlabel("day")
brand = next(a for a in model.agents_by_type[SellerAgent] if a.index == brands[best])
print(f"brand {brand.index}: price {brand.price:.0f} yuan, GMV {brand.gmv:.3g} yuan")

# %% [markdown]
# ## The top host: followers and income; a service provider's clients

# %%
hosts = sorted(model.agents_by_type[HostAgent], key=lambda h: h.followers, reverse=True)
top = hosts[0]
print(f"host {top.unique_id}: tier {top.tier}, {top.followers} followers, income {top.income:.3g} yuan")
sps = sorted((p for p in model.agents_by_type[ProviderAgent] if p.active), key=lambda p: p.annual_client_gmv,
             reverse=True)
if sps:
    sp = sps[0]
    print(f"SP {sp.unique_id} ({sp.tier}): clients {sp.clients}, annualised client GMV {sp.annual_client_gmv:.3g} yuan")

# %% [markdown]
# ## How heavy are the tails? Followers per host and GMV per seller

# %%
followers = model.follows.followers(model.hosts.n)
gmv = model.sellers.gmv[: model.sellers.n] * model.cfg.consumers.scale
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for ax, values, label in ((axes[0], followers, "followers"), (axes[1], gmv, "seller GMV (yuan)")):
    v = np.sort(values[values > 0])
    ax.loglog(v, 1 - np.arange(v.size) / v.size, ".", ms=3, color=COLORS["total"])
    ax.set_xlabel(label)
    ax.set_ylabel("share with at least x")
top_share = np.sort(gmv)[::-1][: max(1, gmv.size // 100)].sum() / gmv.sum()
print(f"top 1% of sellers take {top_share:.0%} of GMV")
if FIG_DIR:
    fig.savefig(os.path.join(FIG_DIR, "nb02_tails.png"), dpi=90, bbox_inches="tight")
