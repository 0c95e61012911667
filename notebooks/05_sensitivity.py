# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Which parameters drive brand entry's incremental GMV? (Sobol, small design)

# %% tags=["parameters"]
import os
import tempfile

SMALL = os.environ.get("LIVESIM_NOTEBOOK_SMALL") == "1"
FIG_DIR = os.environ.get("LIVESIM_FIG_DIR")  # set to save the key figure (the README uses them)
SAMPLES = 8 if SMALL else 32
BASE = ({"days": 90, "consumers": {"n": 3000}, "hosts": {"n": 100}, "merchants": {"n": 200}, "brands": {"n": 3},
         "providers": {"n": 4}} if SMALL else {"days": 180, "consumers": {"n": 10000}})

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
    "base": {**BASE, "brands": {**BASE.get("brands", {}), "entry_waves": [[30, 10]]}},
}, to_dict(SimConfig()))
out = tempfile.mkdtemp(prefix="livesim-sobol-")
table = run_sensitivity(design, to_dict(SimConfig()), ["gmv_total", "gmv_entrant_total", "gmv_incumbent_total"],
                        out, workers=2, progress=False)
table

# %%
sensitivity_figure(table, os.path.join(out, "sensitivity.png"))
if FIG_DIR:
    sensitivity_figure(table, os.path.join(FIG_DIR, "nb05_sensitivity.png"))
