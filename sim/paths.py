"""Where the Hydra configs are: the one place that knows.

The repository keeps them in the top-level ``configs/`` directory; a wheel (``pip install .``)
ships that directory as the package ``sim.configs`` (``pyproject.toml`` maps ``sim.configs`` to
``configs/``).  :func:`config_dir` returns the installed package's ``sim/configs`` when it
exists, else the source tree's ``configs/`` (a checkout, or an editable install such as
``make test``'s ``pip install -e .``, which reads the repository's files directly so that
edits there take effect at once).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


@cache
def config_dir() -> Path:
    """The directory holding ``config.yaml`` and the config groups (``consumers/``, ``ensembles/``, ...)."""
    for candidate in (_PACKAGE / "configs", _PACKAGE.parent / "configs"):  # installed, then source tree
        if (candidate / "config.yaml").is_file():
            return candidate
    raise FileNotFoundError(f"no configs found: neither {_PACKAGE / 'configs'} (installed package) "
                            f"nor {_PACKAGE.parent / 'configs'} (source tree) holds config.yaml")
