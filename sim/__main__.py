"""Command line: ``python -m sim [group=option] [key=value ...]`` runs one market (Hydra).

The configuration is composed and validated *before* Hydra starts the job, so
a bad value stops the run with one line naming the key, the value and what is
allowed, a non-zero exit code and no output folder. A multirun (``-m``) is
expanded into its jobs as Hydra's basic sweeper expands it and every job is
validated before the first starts.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from sim import resolution
from sim.config import ConfigError, make_config
from sim.paths import config_dir

CONFIG_DIR = config_dir()  # the repository's configs/, or sim/configs in an installed package
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
    from hydra import initialize_config_dir

    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        return _compose(overrides, config_name)


def _compose(overrides: list[str], config_name: str) -> dict[str, Any]:
    """``compose`` inside an initialised Hydra (so that many jobs share one initialisation)."""
    from hydra import compose as hydra_compose
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    plain = [o for o in overrides if not o.startswith(_HYDRA_PREFIXES)]
    try:
        return _plain(hydra_compose(config_name, overrides=plain))
    except (HydraException, OmegaConfBaseException) as exc:
        raise ConfigError(_one_line(exc, plain)) from None


_BASIC_SWEEPER = "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"


def _sweep_jobs(overrides: list[str], config_name: str) -> list[list[str]] | None:
    """The task overrides of every job of ``python -m sim -m <overrides>``, inside an initialised Hydra.

    Hydra's own steps: compose the multirun config (which applies the non-sweep overrides and
    rejects sweeps over Hydra's keys), then hand ``hydra.sweeper.params`` and the task overrides
    to ``BasicSweeper.split_arguments``. None when another sweeper is configured: it expands the
    sweep its own way, so its jobs are validated only when they start.
    """
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException
    from hydra.types import RunMode
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    gh = GlobalHydra.instance()
    try:
        cfg = gh.hydra.compose_config(config_name, overrides, run_mode=RunMode.MULTIRUN)
        sweeper = cfg.hydra.sweeper
        if sweeper.get("_target_") != _BASIC_SWEEPER:
            return None
        params = [f"{k}={v}" for k, v in (sweeper.get("params") or {}).items()]
        task = OmegaConf.to_container(cfg.hydra.overrides.task, resolve=False)
        parsed = OverridesParser.create(config_loader=gh.config_loader()).parse_overrides(params + task)
        batches = BasicSweeper.split_arguments(parsed, None)
    except (HydraException, OmegaConfBaseException) as exc:
        raise ConfigError(_one_line(exc, overrides)) from None
    return [list(job) for batch in batches for job in batch]


_OTHER_COMMANDS = {"experiment": "sim.compare", "sweep": "sim.sweep", "sensitivity": "sim.sensitivity"}


def _check_groups(overrides: list[str]) -> None:
    """Refuse the groups of the other commands, which the model's config does not have."""
    for arg in overrides:
        group = arg.lstrip("+~").split("=", 1)[0].split(".", 1)[0]
        if group in _OTHER_COMMANDS:
            raise ConfigError(f"invalid config: {arg}: the {group} group belongs to python -m {_OTHER_COMMANDS[group]}")


def preflight(argv: list[str], config_name: str = "config") -> None:
    """Compose and validate the run's configuration; raise ConfigError on any bad input."""
    _check_groups(argv)
    resolution.plan(make_config(compose(argv, config_name)))  # the populations it samples, too


def preflight_multirun(argv: list[str], config_name: str = "config") -> int:
    """Validate every job of the multirun ``python -m sim -m <argv>``; return the number of jobs.

    The first bad job raises a one-line ConfigError naming the job's overrides, the key, the value
    and what is allowed.
    """
    from hydra import initialize_config_dir

    _check_groups(argv)
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        jobs = _sweep_jobs(argv, config_name)
        for num, job in enumerate(jobs or []):
            try:
                resolution.plan(make_config(_compose(job, config_name)))  # its populations too
            except ConfigError as exc:
                raise ConfigError(f"invalid config in multirun job {num} ({' '.join(job)}): "
                                  f"{str(exc).removeprefix('invalid config: ')}") from None
    return len(jobs or [])


def _task(cfg: Any) -> None:
    from hydra.core.hydra_config import HydraConfig

    from sim import units
    from sim.run import run

    try:
        sim_cfg = make_config(_plain(cfg))
    except ConfigError as exc:  # reached only when preflight does not apply (-cp/-cd, another sweeper)
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


def _validate(argv: list[str]) -> None:
    """Validate the run, or every job of a multirun, before Hydra writes anything (exit 2 if bad)."""
    from hydra._internal.utils import get_args_parser

    args = get_args_parser().parse_args(argv)  # Hydra's own parser: the same flags and the same errors
    if (args.help or args.hydra_help or args.cfg or args.info is not None or args.shell_completion
            or args.experimental_rerun):
        return  # Hydra shows something or reruns a saved job: nothing to validate
    if args.config_path is not None or args.config_dir is not None:
        return  # another search path than configs/: the jobs validate their config when they start
    name = args.config_name or "config"
    multirun = args.multirun or any(o.replace(" ", "").lower() == "hydra.mode=multirun" for o in args.overrides)
    try:
        if multirun:
            preflight_multirun(args.overrides, name)
        else:
            preflight(args.overrides, name)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None


def _main() -> None:
    import hydra

    _validate(sys.argv[1:])
    hydra.main(config_path=str(CONFIG_DIR), config_name="config", version_base="1.3")(_task)()


def main() -> None:
    """Entry point of ``python -m sim`` and the ``livesim`` script."""
    from sim.parallel import run_command

    sys.exit(run_command(_main))


if __name__ == "__main__":
    main()
