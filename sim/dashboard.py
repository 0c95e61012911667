"""Interactive scenario dashboard (Mesa SolaraViz).

    make dashboard                       # = python -m solara run sim.dashboard --port 8765
    # or, inline in Jupyter:  from sim.dashboard import page; page

Levers: the SP funds (as a multiple of the seed's programme), a brand entry wave (size and day),
the guarantee and quality-control package, the traffic allocation rule, whether brands may
self-broadcast and the price-difference compensation for hosts; start / step / reset; live plots
of GMV by seller type and by channel, platform trust, repurchase, brands by STEPS stage and SPs
over the 100-million-yuan threshold. Changing a lever rebuilds the market with the same seed, so
what changes on screen is the lever's doing.

Side by side (the ``compare`` checkbox): the model also runs a baseline twin -- the same seed,
resolution, horizon and burn-in with every policy lever at :data:`BASELINE` (the seed's settings) --
steps it with the policy arm, and records for the headline metrics (:data:`COMPARED`) the baseline
value and the difference, ``<metric>_baseline`` and ``<metric>_difference`` = policy - baseline, beside
the policy's own ``<metric>`` column. Two more panels then plot policy against baseline GMV and the
differences (without the checkbox they show a hint). The twin is built, not branched
(:meth:`MarketModel.branch`): the funds spend from day 1 of the burn-in, so a branch could not change
them, and a built twin keeps the policy arm identical to the same levers with ``compare`` off.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import mesa

from sim.config import ALLOCATION_RULES, STEPS_STAGES
from sim.metrics import METRICS
from sim.model import MarketModel, _today
from sim.plots import COLORS, STAGE_COLORS

GUARANTEE_PACKAGES: dict[str, dict[str, Any]] = {
    "none": {"guarantees": {"return_shipping": False, "counterfeit_10x": False, "no_reason_7d": False},
             "quality_control": {"enabled": False}},
    "seed": {},
    "stronger": {"quality_control": {"inspect_prob": 0.03, "fraud_detect_prob": 0.9, "demotion_factor": 0.05,
                                     "inflation_threshold": 0.1}},
}


#: The baseline arm of the side-by-side mode: every policy lever at the seed's settings.
BASELINE: dict[str, Any] = {"fund_scale": 1.0, "wave_size": 0, "guarantees": "seed", "allocation": "conversion",
                            "self_broadcast": True, "price_comp": 0.0}
#: The headline metrics compared side by side (each gets ``_baseline`` and ``_difference`` columns).
COMPARED: tuple[str, ...] = ("gmv", "mean_platform_trust", "gmv_new_brand", "n_sps_over_threshold")


def _baseline(name: str, model: DashboardModel) -> float:
    return model.baseline.today[name]


def _difference(name: str, model: DashboardModel) -> float:
    return model.today[name] - model.baseline.today[name]


class DashboardModel(MarketModel):
    """The market with flat, slider-friendly keyword arguments (SolaraViz passes levers as keywords).

    ``compare=True`` adds the baseline twin (``self.baseline``, levers at :data:`BASELINE`), stepped with
    this model, and the ``<metric>_baseline`` / ``<metric>_difference`` columns for :data:`COMPARED`.
    """

    def __init__(self, seed: int = 0, consumers: int = 20000, fund_scale: float = 1.0, wave_size: int = 0,
                 wave_day: int = 60, guarantees: str = "seed", allocation: str = "conversion",
                 self_broadcast: bool = True, price_comp: float = 0.0, days: int = 365, burn_in: int = 180,
                 compare: bool = False) -> None:
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
        self.compare = bool(compare)
        self.baseline: DashboardModel | None = None
        if self.compare:
            self.baseline = DashboardModel(seed=seed, consumers=consumers, wave_day=wave_day, days=days,
                                           burn_in=burn_in, **BASELINE)
            # nothing is collected before the first reported day, so the collector can be replaced here
            self.datacollector = mesa.DataCollector(model_reporters={
                **{name: partial(_today, name) for name in METRICS},
                **{f"{name}_baseline": partial(_baseline, name) for name in COMPARED},
                **{f"{name}_difference": partial(_difference, name) for name in COMPARED},
            })

    def step(self) -> None:
        """One reported day of the policy arm (and, side by side, of the baseline twin first)."""
        if self.baseline is not None:
            self.baseline.step()
        super().step()


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
    "compare": {"type": "Checkbox", "value": False, "label": "Side by side: policy vs baseline"},
}


def _compare_panel(measure: dict[str, str]):  # noqa: ANN202 - a SolaraViz component function
    """A plot of comparison columns when the model runs side by side, else a hint."""
    from mesa.visualization.components.matplotlib_components import PlotMatplotlib

    def ComparePanel(model):  # noqa: N802, ANN001, ANN202 - a solara component function
        import solara

        if getattr(model, "baseline", None) is None:
            return solara.Markdown("Side by side: tick *Side by side: policy vs baseline* and press Reset to plot the policy "
                                   "against the baseline.")
        return PlotMatplotlib(model, measure)

    return (ComparePanel, 0)


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
        # side by side (shown when compare is on): policy vs baseline GMV, and policy - baseline
        _compare_panel({"gmv": COLORS["brand"], "gmv_baseline": COLORS["white_label"]}),
        _compare_panel({"gmv_difference": COLORS["total"], "gmv_new_brand_difference": COLORS["new_brand"]}),
    ]


def make_page(model: MarketModel | None = None):  # noqa: ANN201 - a solara component
    """The SolaraViz page (usable inline in Jupyter)."""
    from mesa.visualization import SolaraViz

    model = model if model is not None else DashboardModel()
    return SolaraViz(model, components=components(), model_params=MODEL_PARAMS, name="livesim: scenario dashboard",
                     play_interval=150)


page = make_page()
