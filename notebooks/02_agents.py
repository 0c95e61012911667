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
# # Inside the market: consumers, brands, hosts and service providers
#
# Follow a few consumers' trust, a brand through its STEPS stages, a host's followers and income,
# a service provider's clients; then look at distributions across the population.
#
# Every simulated host, seller or SP stands for `weight` real ones (the populations are samples of the
# real platform at the consumers' ratio); the agents report one real agent's figures (followers in real
# users, GMV and income in yuan). The full-size run uses 300,000 consumers (about 360 hosts, 1,000
# merchants, 10 brands) and 10x the real SP density (10 SP agents); the burn-in (720 days by default) runs inside
# `MarketModel(...)` and day 1 is the first reported day.

# %% tags=["parameters"]
import os

SMALL = os.environ.get("LIVESIM_NOTEBOOK_SMALL") == "1"
FIG_DIR = os.environ.get("LIVESIM_FIG_DIR")  # set to save the key figure (the README uses them)
DAYS = 90 if SMALL else 365
# Brands and SPs are rare (1e4 brands and 1e3 SPs among 3e8 users): at 300,000 consumers the market has
# 10 brands; the SPs' density is raised 10x (providers.real_n) to give 10 SP agents instead of 5.
# Small: 5,000 consumers with raised densities (150 hosts, 300 merchants, 6 brands, 8 SPs), short burn-in.
OVERRIDES = ({"burn_in": 30, "consumers": {"n": 5000}, "hosts": {"real_n": 9e6}, "merchants": {"real_n": 1.8e7},
              "brands": {"real_n": 3.6e5}, "providers": {"real_n": 4.8e5}} if SMALL
             else {"consumers": {"n": 300_000}, "providers": {"real_n": 1e4}})

# %%
import matplotlib.pyplot as plt
import numpy as np

from sim import MarketModel
from sim.agents.hosts import HostAgent
from sim.agents.providers import ProviderAgent
from sim.agents.sellers import Kind, SellerAgent
from sim.config import STEPS_STAGES
from sim.plots import COLORS

model = MarketModel(seed=1, days=DAYS, **OVERRIDES)  # builds the market and runs its burn-in
print({name: p["agents"] for name, p in model.sample["populations"].items()}, "simulated agents")
watch = np.flatnonzero(model.consumers.active[: model.consumers.n])[:5]  # five consumers active on day 1
trust, stages = [], []
S = model.sellers
brands = np.flatnonzero((S.kind[: S.n] == Kind.BRAND) & S.active[: S.n])  # the brands active on day 1
for day in range(DAYS):
    model.step()
    trust.append(model.consumers.trust[watch].copy())
    stages.append(model.sellers.stage[brands].copy())

# %% [markdown]
# ## Five consumers' trust in the platform (days)
#
# (A consumer who leaves frees its slot for a newcomer: a jump to a fresh initial trust is a new consumer.)

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
brand = next((a for a in model.agents_by_type[SellerAgent] if a.index == brands[best]), None)
if brand is not None:
    print(f"brand {brand.index} (stands for {brand.weight:,.0f} real brands): price {brand.price:.0f} yuan, "
          f"GMV of one real brand {brand.gmv:.3g} yuan")

# %% [markdown]
# ## The top host: followers and income; a service provider's clients

# %%
hosts = sorted((h for h in model.agents_by_type[HostAgent] if not h.is_store), key=lambda h: h.followers,
               reverse=True)  # talent hosts (store accounts earn no commission)
top = hosts[0]
print(f"host {top.unique_id} (tier {top.tier}, stands for {top.weight:,.0f} real hosts): "
      f"{top.followers:,.0f} followers, income {top.income:.3g} yuan")
sps = sorted((p for p in model.agents_by_type[ProviderAgent] if p.active), key=lambda p: p.annual_client_gmv,
             reverse=True)
if sps:
    sp = sps[0]
    print(f"SP {sp.unique_id} ({sp.tier}, stands for {sp.weight:,.0f} real SPs): client agents {sp.clients}, "
          f"annualised client GMV of one real SP {sp.annual_client_gmv:.3g} yuan")

# %% [markdown]
# ## How heavy are the tails? Followers per host and GMV per seller
#
# Per real host and real seller (an agent's figures divided by the real agents it stands for), each
# agent counted with its weight.

# %%
H, S = model.hosts, model.sellers
followers = model.follows.followers(H.n) / H.mass[: H.n]  # real users following one real host
host_w = H.mass[: H.n]
gmv = S.gmv[: S.n] / S.mass[: S.n]  # yuan of one real seller since its entry
seller_w = S.mass[: S.n]


def ccdf(values, weights):
    """Sorted positive values and the weighted share of real agents with at least each value."""
    keep = values > 0
    order = np.argsort(values[keep])
    v, w = values[keep][order], weights[keep][order]
    return v, (w.sum() - np.cumsum(w) + w) / weights.sum()


fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for ax, values, weights, label in ((axes[0], followers, host_w, "followers of a host (real users)"),
                                   (axes[1], gmv, seller_w, "GMV of a seller since entry (yuan)")):
    v, share = ccdf(values, weights)
    ax.loglog(v, share, ".", ms=3, color=COLORS["total"])
    ax.set_xlabel(label)
    ax.set_ylabel("share of real agents with at least x")
order = np.argsort(gmv)[::-1]
real_cum = np.cumsum(seller_w[order]) / seller_w.sum()
top = order[real_cum <= 0.01] if (real_cum <= 0.01).any() else order[:1]
top_share = (gmv[top] * seller_w[top]).sum() / (gmv * seller_w).sum()
print(f"the top 1% of real sellers take {top_share:.0%} of GMV")
if FIG_DIR:
    fig.savefig(os.path.join(FIG_DIR, "nb02_tails.png"), dpi=90, bbox_inches="tight")
