"""Run one market to the end and write its results folder (used by the CLI and from Python)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim import __version__
from sim.config import ConfigError, SimConfig, make_config, to_dict
from sim.model import MarketModel
from sim.output import summarise, write_csv, write_json, write_yaml
from sim.warmup import trend

CHECKPOINT = "checkpoint.pkl"


def run(config: SimConfig | dict[str, Any] | None = None, out_dir: str | Path | None = None,
        **overrides: Any) -> tuple[MarketModel, dict[str, Any]]:
    """Simulate the burn-in and ``config.days`` reported days; if ``out_dir`` is given, write the run folder there.

    The folder holds ``config.yaml`` (resolved), ``metrics.csv`` (one row per
    reported day), ``summary.json`` and ``figures/``.  With ``checkpoint_every=N``
    the model is saved to ``out_dir/checkpoint.pkl`` every N reported days; calling
    ``run`` again with the same config and folder resumes from it, bit-identically,
    and the checkpoint is removed when the run completes.  Returns the model and the summary.
    """
    cfg = make_config(config, **overrides)
    out = Path(out_dir) if out_dir is not None else None
    ckpt = out / CHECKPOINT if out is not None and cfg.checkpoint_every else None
    if cfg.checkpoint_every and out is None:
        raise ConfigError(f"invalid config: checkpoint_every = {cfg.checkpoint_every}: needs an output folder "
                          "(out_dir, or hydra.run.dir on the command line)")
    if out is not None:
        held = out / "config.yaml"
        if held.exists():  # never mix two runs' results in one folder
            import yaml

            try:
                other = yaml.safe_load(held.read_text(encoding="utf-8"))
            except yaml.YAMLError:
                other = None
            if other != to_dict(cfg):
                raise ConfigError(f"invalid output folder: {out} holds another run (its config.yaml differs); "
                                  "choose a new folder")
        write_yaml(held, to_dict(cfg))  # first, so a checkpointed folder says what it holds (and it is writable)
    model = MarketModel.load(ckpt, cfg) if ckpt is not None and ckpt.exists() else MarketModel(cfg)
    every = cfg.checkpoint_every or cfg.days
    while model.reported_day < cfg.days:
        r = model.reported_day
        model.run_for(min(every - r % every, cfg.days - r))
        if ckpt is not None and model.reported_day < cfg.days:
            model.save(ckpt)
    metrics = model.metrics_frame()
    summary = {"seed": cfg.seed, "days": cfg.days, "burn_in": cfg.burn_in, "version": __version__,
               **summarise(metrics), **model.sample,
               "gmv_trend": trend(metrics["gmv"].to_numpy())}
    if out is not None:
        write_csv(out / "metrics.csv", model.metrics_frame(dates=True))
        write_json(out / "summary.json", summary)
        if cfg.output.figures:
            from sim.plots import run_figures

            run_figures(model, metrics, out / "figures")
        if ckpt is not None:
            ckpt.unlink(missing_ok=True)
    return model, summary
