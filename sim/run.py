"""Run one market to the end and write its results folder (used by the CLI and from Python)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim import __version__
from sim.config import SimConfig, make_config, to_dict
from sim.model import MarketModel
from sim.output import summarise, write_csv, write_json, write_yaml


def run(config: SimConfig | dict[str, Any] | None = None, out_dir: str | Path | None = None,
        **overrides: Any) -> tuple[MarketModel, dict[str, Any]]:
    """Simulate ``config.days`` days; if ``out_dir`` is given, write the run folder there.

    The folder holds ``config.yaml`` (resolved), ``metrics.csv`` (one row per
    day), ``summary.json`` and ``figures/``.  Returns the model and the summary.
    """
    cfg = make_config(config, **overrides)
    model = MarketModel(cfg)
    model.run_for(cfg.days)
    metrics = model.metrics_frame()
    summary = {"seed": cfg.seed, "days": cfg.days, "version": __version__, **summarise(metrics)}
    if out_dir is not None:
        out = Path(out_dir)
        write_yaml(out / "config.yaml", to_dict(cfg))
        write_csv(out / "metrics.csv", metrics)
        write_json(out / "summary.json", summary)
        if cfg.output.figures:
            from sim.plots import run_figures

            run_figures(model, metrics, out / "figures")
    return model, summary
