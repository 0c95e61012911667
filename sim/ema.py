"""An EMA Workbench adapter: levers, uncertainties and outcomes of the market, with a paired policy outcome.

    from ema_workbench import perform_experiments, SequentialEvaluator
    from sim.ema import make_model

    model = make_model(base={"consumers": {"n": 20000, "scale": 15000.0}, "days": 183})
    experiments, outcomes = perform_experiments(model, scenarios=20, policies=4)

Parameter names in EMA are the dotted keys with ``__`` for dots (``funds__cash``). Follows EMA Workbench's split of **levers** (what a policy team sets: the three SP funds, the
guarantee package, quality control) from **uncertainties** (what nobody knows well: the
calibration's parameters) and returns **outcomes** of each experiment in one table, as EMA
expects. Each experiment burns one market in with the levers at their baseline (no funds, the
default guarantees and inspections), then branches the policy arm from it, so ``d_*`` outcomes
are paired differences (policy minus baseline, same market, same draws): the policy's effect
without the between-market noise. Install with the ``ema`` extra (``pip install -e .[ema]``;
``make test`` installs it).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from sim.config import ConfigError, get_key, has_key, make_config, merge, set_key, to_dict

#: Levers: (low, high) of each policy setting.
LEVERS: dict[str, tuple[float, float]] = {
    "funds.cash": (0.0, 1e9),
    "funds.traffic": (0.0, 1e12),
    "funds.eco": (0.0, 1e10),
    "platform.quality_control.inspect_prob": (0.005, 0.05),
}
#: Uncertainties: (low, high) of parameters the calibration leaves uncertain.
UNCERTAINTIES: dict[str, tuple[float, float]] = {
    "choice.intercept": (-5.8, -4.8),
    "consumers.growth": (0.0, 0.5),
    "consumers.trust.gain": (0.04, 0.12),
    "providers.invest_capability": (1e-7, 4e-7),
    "consumers.visit_prob": (0.2, 0.6),
}
#: Outcomes of the policy arm (year totals and final levels) and paired differences against the baseline.
OUTCOMES = ("gmv_total", "mean_platform_trust_final", "n_sps_over_threshold_final", "n_sps_capable_final",
            "sp_client_gmv_total", "d_gmv_total", "d_sp_client_gmv_total", "d_n_sps_capable_final")
#: The lever values of the baseline arm (no funds; the default inspections).
BASELINE_LEVERS = {"funds.cash": 0.0, "funds.traffic": 0.0, "funds.eco": 0.0}


def simulate(base: dict[str, Any] | None = None, **params: Any) -> dict[str, float]:
    """One EMA experiment: ``params`` are dotted keys (levers and uncertainties) and ``seed``.

    Returns every name of :data:`OUTCOMES` (and any summary metric ``<metric>_total`` /
    ``<metric>_final`` of the policy arm, with its paired difference ``d_...``).
    """
    from sim.model import MarketModel
    from sim.output import summarise

    cfg = to_dict(make_config(base or {}))
    seed = int(params.pop("seed", cfg.get("seed", 0)))
    levers = {k: v for k, v in params.items() if k in LEVERS}
    for key, value in params.items():
        if key not in levers:
            set_key(cfg, key, _like(get_key(cfg, key), value))
    cfg["seed"] = seed
    baseline = merge(cfg, {})
    for key, value in BASELINE_LEVERS.items():
        set_key(baseline, key, value)
    policy = merge(baseline, {})
    for key, value in levers.items():
        set_key(policy, key, _like(get_key(cfg, key), value))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the adapter's user chose the resolution
        root = MarketModel(make_config(baseline))
        arm = root.branch(policy)
        root.run_for(root.cfg.days)
        arm.run_for(arm.cfg.days)
    b, p = summarise(root.metrics_frame()), summarise(arm.metrics_frame())
    out = dict(p)
    out.update({f"d_{k}": p[k] - b[k] for k in p})
    return {k: float(v) for k, v in out.items()}


def key_ident(key: str) -> str:
    """EMA names must be Python identifiers: ``funds.cash`` is ``funds__cash`` there."""
    return key.replace(".", "__")


def ident_key(name: str) -> str:
    """The dotted config key of an EMA parameter name."""
    return name.replace("__", ".")


def _like(old: Any, value: Any) -> Any:
    """``value`` as the type of the parameter it replaces (EMA passes floats)."""
    return int(round(value)) if isinstance(old, int) and not isinstance(old, bool) else float(value)


def make_model(base: dict[str, Any] | None = None, levers: dict[str, tuple[float, float]] | None = None,
               uncertainties: dict[str, tuple[float, float]] | None = None, outcomes: tuple[str, ...] = OUTCOMES,
               seeds: int = 1, name: str = "livesim") -> Any:
    """An ``ema_workbench.Model`` (``ReplicatorModel`` when ``seeds > 1``) of the market at ``base``'s resolution."""
    from ema_workbench import Model, RealParameter, ReplicatorModel, ScalarOutcome

    levers = LEVERS if levers is None else levers
    uncertainties = UNCERTAINTIES if uncertainties is None else uncertainties
    cfg = to_dict(make_config(base or {}))
    for key in (*levers, *uncertainties):  # a typo fails here, not in the middle of the experiments
        if not has_key(cfg, key):
            raise ConfigError(f"invalid EMA parameter: {key!r}; allowed: a dotted model parameter (e.g. funds.cash)")

    def function(**kwargs: Any) -> dict[str, float]:
        res = simulate(base, **{ident_key(k): v for k, v in kwargs.items()})
        return {k: res[k] for k in outcomes}

    if seeds > 1:
        model = ReplicatorModel(name, function=function)
        model.replications = [{"seed": s} for s in range(seeds)]
    else:
        model = Model(name, function=function)
    model.levers = [RealParameter(key_ident(k), lo, hi) for k, (lo, hi) in levers.items()]
    model.uncertainties = [RealParameter(key_ident(k), lo, hi) for k, (lo, hi) in uncertainties.items()]
    # over seeds (a ReplicatorModel), each outcome is the mean of its replications
    model.outcomes = [ScalarOutcome(k, function=np.mean) if seeds > 1 else ScalarOutcome(k) for k in outcomes]
    return model
