"""Command line: ``python -m sim [group=option] [key=value ...]`` runs one market (Hydra).

The configuration is composed and validated *before* Hydra starts the job, so
a bad value stops the run with one line naming the key, the value and what is
allowed, a non-zero exit code and no output folder.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from sim.config import ConfigError, make_config

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"
_HYDRA_PREFIXES = ("hydra.", "hydra/", "+hydra", "++hydra", "~hydra")


def _plain(cfg: Any) -> dict[str, Any]:
    """A composed Hydra config as a plain dict without Hydra's own node."""
    from omegaconf import OmegaConf

    data = OmegaConf.to_container(cfg, resolve=False)
    data.pop("hydra", None)
    return data


def _one_line(exc: BaseException, overrides: list[str]) -> str:
    """Hydra/OmegaConf errors span several lines; say the same in one, naming the key."""
    text = str(exc)
    given = dict(o.lstrip("+~").split("=", 1) for o in overrides if "=" in o)
    m = re.search(r"Could not override '([^']+)'", text)
    if m:
        key = m.group(1)
        return f"invalid config: unknown key {key} = {given.get(key, '')!r}: not a model parameter (list them with --help)"
    m = re.search(r"Could not find '([^'/]+)/([^']+)'", text)
    if m:
        group, option = m.groups()
        options = sorted(p.stem for p in (CONFIG_DIR / group).glob("*.yaml"))
        return f"invalid config: {group} = {option!r}: must be one of {', '.join(options)}"
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    keep = [ln for ln in lines if not ln.startswith(("full_key", "object_type", "reference_type"))]
    return "invalid config: " + "; ".join(keep or [type(exc).__name__])


def compose(overrides: list[str], config_name: str = "config") -> dict[str, Any]:
    """Compose ``configs/<config_name>.yaml`` with command-line ``overrides`` (Hydra's compose API).

    Hydra's multi-line errors become one-line ConfigError messages.
    """
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    plain = [o for o in overrides if not o.startswith(_HYDRA_PREFIXES)]
    try:
        with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
            return _plain(hydra_compose(config_name, overrides=plain))
    except (HydraException, OmegaConfBaseException) as exc:
        raise ConfigError(_one_line(exc, plain)) from None


_OTHER_COMMANDS = {"experiment": "sim.compare", "sweep": "sim.sweep", "sensitivity": "sim.sensitivity"}


def preflight(argv: list[str]) -> None:
    """Compose and validate the run's configuration; raise ConfigError on any bad input."""
    for arg in argv:
        group = arg.lstrip("+~").split("=", 1)[0].split(".", 1)[0]
        if group in _OTHER_COMMANDS:
            raise ConfigError(f"invalid config: {arg}: the {group} group belongs to python -m {_OTHER_COMMANDS[group]}")
    make_config(compose(argv))


def _task(cfg: Any) -> None:
    from hydra.core.hydra_config import HydraConfig

    from sim import units
    from sim.run import run

    try:
        sim_cfg = make_config(_plain(cfg))
    except ConfigError as exc:  # reached only in multirun, where preflight does not apply
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None
    out = Path(HydraConfig.get().runtime.output_dir)
    try:
        _, summary = run(sim_cfg, out)
    except ConfigError as exc:  # e.g. a checkpoint of another config or version in the folder
        print(str(exc).splitlines()[0], file=sys.stderr)
        raise SystemExit(2) from None
    except Exception as exc:  # a failed job is recorded for sim.collect; the other jobs of a sweep go on
        import traceback

        from sim.output import write_json

        write_json(out / "status.json", {"status": "failed", "error": f"{type(exc).__name__}: {exc}",
                                         "traceback": traceback.format_exc()})
        print(f"run failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        if HydraConfig.get().mode.name == "RUN":
            raise SystemExit(1) from None
        return
    from sim.output import write_json

    write_json(out / "status.json", {"status": "ok", "error": ""})
    print(f"GMV {units.value(summary['gmv_total'], 'yuan')} over {sim_cfg.days} days; "
          f"platform trust {summary['mean_platform_trust_final']:.3f}; "
          f"repurchase rate {units.value(summary['repurchase_rate_final'], 'share')}; "
          f"GMV trend {100 * summary['gmv_trend']['slope_per_year']:+.1f}% a year after a {sim_cfg.burn_in}-day burn-in")
    if summary["small_populations"]:
        print("small populations (agents): " + ", ".join(f"{k} {v}" for k, v in summary["small_populations"].items()))
    print(out.resolve())


def main() -> None:
    """Entry point of ``python -m sim`` and the ``livesim`` script."""
    import hydra

    argv = sys.argv[1:]
    if not any(a.startswith("-") for a in argv):  # plain runs: validate before anything is written
        try:
            preflight(argv)
        except ConfigError as exc:
            print(exc, file=sys.stderr)
            raise SystemExit(2) from None
    hydra.main(config_path=str(CONFIG_DIR), config_name="config", version_base="1.3")(_task)()


if __name__ == "__main__":
    main()
