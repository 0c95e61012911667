"""Interactive scenario dashboard (Mesa SolaraViz).

    make dashboard                       # = python -m solara run sim.dashboard --port 8765
    # or, inline in Jupyter:  from sim.dashboard import page; page

Levers: the SP funds (as a multiple of the seed's programme), a brand entry wave (size and day),
the guarantee and quality-control package, the traffic allocation rule, whether brands may
self-broadcast and the price-difference compensation for hosts; start / step / reset; live plots
of GMV by seller type and by channel, platform trust, repurchase, brands by STEPS stage and SPs
over the 100-million-yuan threshold. Changing a lever rebuilds the market with the same seed, so
what changes on screen is the lever's doing.
"""

from __future__ import annotations

from typing import Any

from sim.config import ALLOCATION_RULES, STEPS_STAGES
from sim.model import MarketModel
from sim.plots import COLORS, STAGE_COLORS

GUARANTEE_PACKAGES: dict[str, dict[str, Any]] = {
    "none": {"guarantees": {"return_shipping": False, "counterfeit_10x": False, "no_reason_7d": False},
             "quality_control": {"enabled": False}},
    "seed": {},
    "stronger": {"quality_control": {"inspect_prob": 0.03, "fraud_detect_prob": 0.9, "demotion_factor": 0.05,
                                     "inflation_threshold": 0.1}},
}


class DashboardModel(MarketModel):
    """The market with flat, slider-friendly keyword arguments (SolaraViz passes levers as keywords)."""

    def __init__(self, seed: int = 0, consumers: int = 20000, fund_scale: float = 1.0, wave_size: int = 0,
                 wave_day: int = 60, guarantees: str = "seed", allocation: str = "conversion",
                 self_broadcast: bool = True, price_comp: float = 0.0, days: int = 365, burn_in: int = 180) -> None:
        platform = {"allocation": allocation, **GUARANTEE_PACKAGES[guarantees]}
        n = int(consumers)
        super().__init__(
            seed=int(seed), days=int(days), burn_in=int(burn_in),
            # the whole platform at the chosen resolution: every population follows it
            consumers={"n": n, "scale": 3e8 / n},
            brands={"entry_waves": [[int(wave_day), int(wave_size)]] if wave_size else [],
                    "self_broadcast": bool(self_broadcast), "price_comp": float(price_comp)},
            funds={"cash": 1e8 * fund_scale, "traffic": 1e11 * fund_scale, "eco": 1e9 * fund_scale},
            platform=platform,
        )


MODEL_PARAMS: dict[str, Any] = {
    "seed": {"type": "InputText", "value": 0, "label": "Seed"},
    "consumers": {"type": "SliderInt", "value": 20000, "min": 2000, "max": 100000, "step": 2000,
                  "label": "Resolution: simulated consumers for the 3e8-user platform"},
    "burn_in": {"type": "SliderInt", "value": 180, "min": 0, "max": 720, "step": 60,
                "label": "Burn-in days (the default run uses 720; shorter here to keep levers quick)"},
    "fund_scale": {"type": "SliderFloat", "value": 1.0, "min": 0.0, "max": 4.0, "step": 0.5,
                   "label": "SP funds (x the seed's programme)"},
    "wave_size": {"type": "SliderInt", "value": 0, "min": 0, "max": 20000, "step": 1000,
                  "label": "Brand entry wave: real brands entering the platform"},
    "wave_day": {"type": "SliderInt", "value": 60, "min": 1, "max": 300, "step": 1, "label": "Brand entry wave: day"},
    "guarantees": {"type": "Select", "value": "seed", "values": list(GUARANTEE_PACKAGES),
                   "label": "Guarantees and quality control"},
    "allocation": {"type": "Select", "value": "conversion", "values": list(ALLOCATION_RULES),
                   "label": "Traffic allocation rule"},
    "self_broadcast": {"type": "Checkbox", "value": True, "label": "Brands may self-broadcast"},
    "price_comp": {"type": "SliderFloat", "value": 0.0, "min": 0.0, "max": 1.0, "step": 0.25,
                   "label": "Price-difference compensation for hosts"},
}


def components() -> list:
    """The live plots (one Mesa plot component per panel)."""
    from mesa.visualization import make_plot_component

    return [
        make_plot_component({"gmv_white_label": COLORS["white_label"], "gmv_brand": COLORS["brand"],
                             "gmv_new_brand": COLORS["new_brand"]}),
        make_plot_component({"gmv_host_channel": COLORS["host_channel"], "gmv_self_broadcast": COLORS["self_broadcast"]}),
        make_plot_component({"mean_platform_trust": COLORS["brand"], "repurchase_rate": COLORS["white_label"]}),
        make_plot_component({f"brands_stage_{s}": c for s, c in zip(STEPS_STAGES, STAGE_COLORS)}),
        make_plot_component({"n_sps_over_threshold": COLORS["total"]}),
    ]


def make_page(model: MarketModel | None = None):  # noqa: ANN201 - a solara component
    """The SolaraViz page (usable inline in Jupyter)."""
    from mesa.visualization import SolaraViz

    model = model if model is not None else DashboardModel()
    return SolaraViz(model, components=components(), model_params=MODEL_PARAMS, name="livesim: scenario dashboard",
                     play_interval=150)


page = make_page()
