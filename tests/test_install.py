"""Installable anywhere: a non-editable install (``pip install .``) carries its configs as ``sim.configs``.

The package is installed without dependencies into a temporary folder; the same interpreter (whose
environment provides the dependencies) then runs the command line and the config readers from an
empty working folder, with only that folder on ``PYTHONPATH``, so neither the repository's ``sim/``
nor its ``configs/`` can be imported or found.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
#: What building the wheel reads. The build runs on a copy, so that pip's in-tree build leaves no
#: build/ or egg-info in the repository (a stale build/lib/ can leak deleted modules into a later wheel).
BUILD_INPUTS = ("pyproject.toml", "README.md", "LICENSE", "sim", "configs")
#: A market small enough to run in seconds.
TINY = ["days=5", "burn_in=5", "consumers.n=2000"]

_READERS = r"""
import json, sys
import sim
from sim.paths import config_dir
from sim import ensemble
from sim.compare import load_experiment
from sim.config import SimConfig, to_dict
from sim.sweep import load_design
from sim.targets import load_targets

members = ensemble.load("kuaishou2021", to_dict(SimConfig()))
targets = load_targets("kuaishou2021", SimConfig())
exp, _, _ = load_experiment("brand_entry")
design, _ = load_design("demo")
print(json.dumps({"sim": sim.__file__, "configs": str(config_dir()), "ensemble": str(ensemble.ensemble_path("kuaishou2021")),
                  "members": len(members), "targets": len(targets.targets), "experiment": exp.name}))
"""


def _has_build_backend() -> bool:
    """Whether this interpreter can build the wheel itself (else pip builds in an isolated environment)."""
    try:
        import setuptools
    except ImportError:
        return False
    return int(setuptools.__version__.split(".")[0]) >= 77


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """``pip install --no-deps --target <tmp>/site <copy of the repository>``; the site folder."""
    if subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True).returncode != 0:
        pytest.skip("pip is not available to this interpreter")
    tmp = tmp_path_factory.mktemp("install")
    src = tmp / "src"
    for name in BUILD_INPUTS:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            src.mkdir(exist_ok=True)
            shutil.copy2(path, src / name)
    site = tmp / "site"
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-compile", "--target", str(site), str(src)]
    if _has_build_backend():
        cmd.insert(4, "--no-build-isolation")
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    return site


def _run(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(site)}  # only the installed copy: not the repository
    env.pop("PYTHONSAFEPATH", None)
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_the_wheel_holds_every_module_and_config(installed):
    """Every module of sim/ and every file of configs/ is installed (a package or folder missing from
    pyproject.toml's list fails here)."""
    modules = {p.relative_to(ROOT) for p in (ROOT / "sim").rglob("*.py") if "__pycache__" not in p.parts}
    missing = sorted(str(m) for m in modules if not (installed / m).is_file())
    assert not missing, f"not installed: {missing}"
    configs = {p.relative_to(ROOT / "configs") for p in (ROOT / "configs").rglob("*") if p.is_file()}
    missing = sorted(str(c) for c in configs if not (installed / "sim" / "configs" / c).is_file())
    assert not missing, f"configs not installed as sim/configs: {missing}"
    assert not (installed / "configs").exists(), "configs belong inside the package, not top-level"


def test_an_installed_copy_runs_from_an_empty_folder(installed, tmp_path):
    work = tmp_path / "empty"
    work.mkdir()
    out = tmp_path / "out"
    res = _run(installed, work, "-c", _READERS)
    assert res.returncode == 0, res.stderr
    found = json.loads(res.stdout.strip().splitlines()[-1])
    assert Path(found["sim"]).resolve() == (installed / "sim" / "__init__.py").resolve()
    assert Path(found["configs"]).resolve() == (installed / "sim" / "configs").resolve()
    assert Path(found["ensemble"]).resolve() == (installed / "sim" / "configs" / "ensembles" / "kuaishou2021.csv").resolve()
    assert found["members"] >= 20 and found["targets"] > 0 and found["experiment"] == "brand_entry"

    res = _run(installed, work, "-m", "sim", *TINY, f"hydra.run.dir={out}")
    assert res.returncode == 0, res.stderr
    assert str(out) in res.stdout
    for name in ("metrics.csv", "summary.json", "config.yaml", "status.json", ".hydra/config.yaml"):
        assert (out / name).is_file(), name
    assert json.loads((out / "status.json").read_text())["status"] == "ok"
    assert yaml.safe_load((out / "config.yaml").read_text())["consumers"]["n"] == 2000  # the resolved config
    sources = yaml.safe_load((out / ".hydra" / "hydra.yaml").read_text())["hydra"]["runtime"]["config_sources"]
    main = [s for s in sources if s["provider"] == "main"]
    assert [Path(s["path"]).resolve() for s in main] == [(installed / "sim" / "configs").resolve()]
    assert not any(work.iterdir()), "the run wrote into the working folder"
