"""docs/MODEL.md describes every parameter, metric, random stream and experiment the code has."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.config import field_docs
from sim.ledger import SIDE_FLOWS
from sim.metrics import METRICS
from sim.rng import PURPOSES

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "MODEL.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("key", [k for k, *_ in field_docs()])
def test_every_parameter_is_documented(key):
    assert f"`{key}`" in DOC


@pytest.mark.parametrize("name", [*METRICS, *PURPOSES, *SIDE_FLOWS])
def test_every_metric_stream_and_side_flow_is_documented(name):
    assert f"`{name}`" in DOC


@pytest.mark.parametrize("name", sorted(p.stem for p in (ROOT / "configs" / "experiment").glob("*.yaml")))
def test_every_experiment_is_documented(name):
    assert f"`{name}`" in DOC and f"`{name}`" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_parameter_table_is_generated_from_the_config():
    """Section 8's key, default, unit and allowed columns equal sim.config.field_docs() (experiments/param_table.py)."""
    import sys

    sys.path.insert(0, str(ROOT / "experiments"))
    import param_table

    assert param_table.render(DOC) == DOC, "run experiments/param_table.py"
