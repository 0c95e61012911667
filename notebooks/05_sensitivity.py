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
# # Which parameters drive brand entry's incremental GMV? (Sobol, small design)

# %% tags=["parameters"]
import os
import tempfile

SMALL = os.environ.get("LIVESIM_NOTEBOOK_SMALL") == "1"
FIG_DIR = os.environ.get("LIVESIM_FIG_DIR")  # set to save the key figure (the README uses them)
SAMPLES = 8 if SMALL else 32
# The market's populations are denser than the real platform's so that a small market has enough agents:
# full, 10,000 consumers with 100 hosts, 200 merchants and 10 brands (densities 10x to 30x the real ones);
# a wave of as many brands again (300,000 real brands on the whole platform: 10 agents) enters on day 30.
# Each run burns its market in first (burn_in days, shorter than the default 720 to keep 160 runs to a
# few minutes). Small: 3,000 consumers (100 hosts, 200 merchants, 3 brands and 3 entrants).
DENSE = {"hosts": {"real_n": 3e6}, "merchants": {"real_n": 6e6}, "brands": {"real_n": 3e5}}
BASE = ({"days": 90, "burn_in": 30, "consumers": {"n": 3000}, "hosts": {"real_n": 1e7}, "merchants": {"real_n": 2e7},
         "brands": {"real_n": 3e5}, "providers": {"real_n": 4e5}} if SMALL
        else {"days": 180, "burn_in": 180, "consumers": {"n": 10000}, **DENSE})
WAVE = [[30, 300_000]]  # [day, real brands entering the whole platform]: doubles the brands

# %%
from sim.config import SimConfig, to_dict
from sim.plots import sensitivity_figure
from sim.sensitivity import run_sensitivity
from sim.sweep import validate_design

design = validate_design({
    "name": "notebook_sobol", "method": "sobol", "samples": SAMPLES, "seeds": 1,
    "parameters": {"platform.feed_load": {"low": 1.0, "high": 3.0},
                   "consumers.budget_mean": {"low": 4.0, "high": 12.0},
                   "brands.spillover_strength": {"low": 0.0, "high": 0.2}},
    "base": {**BASE, "brands": {**BASE.get("brands", {}), "entry_waves": WAVE}},
}, to_dict(SimConfig()))
out = tempfile.mkdtemp(prefix="livesim-sobol-")
table = run_sensitivity(design, to_dict(SimConfig()), ["gmv_total", "gmv_entrant_total", "gmv_incumbent_total"],
                        out, workers=2, progress=False)
table

# %%
sensitivity_figure(table, os.path.join(out, "sensitivity.png"))
if FIG_DIR:
    sensitivity_figure(table, os.path.join(FIG_DIR, "nb05_sensitivity.png"))
