"""The notebooks: each runs top to bottom in a real Jupyter kernel, and its paired .ipynb matches it.

The notebooks are jupytext percent scripts (``notebooks/*.py``, the reviewable source); jupytext turns
each into a notebook and nbclient executes it (small sizes through the parameter cell), so a broken API
breaks the build. Each script is paired (notebooks/jupytext.toml) with ``notebooks/<name>.ipynb`` for
plain Jupyter; the fast tests check that the two hold the same cells and that the .ipynb carries no
outputs (``make notebooks`` re-syncs and strips them).
"""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.py"))
FIX = "run `make notebooks` to re-sync the .ipynb and the .py (the side edited last wins) and strip the outputs"


def _cells(notebook) -> list[tuple[str, str]]:
    """Each cell's type and source, trailing whitespace dropped from every line and from the cell."""
    return [(c.cell_type, "\n".join(line.rstrip() for line in c.source.splitlines()).rstrip()) for c in notebook.cells]


def test_every_script_has_a_paired_notebook():
    scripts = {p.stem for p in NOTEBOOKS}
    notebooks = {p.stem for p in NOTEBOOK_DIR.glob("*.ipynb")}
    assert scripts, "no notebooks/*.py"
    assert scripts == notebooks, f"scripts without an .ipynb: {sorted(scripts - notebooks)}; .ipynb without a script: {sorted(notebooks - scripts)}; {FIX}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_paired_notebook_matches_script(path):
    jupytext = pytest.importorskip("jupytext")
    nbformat = pytest.importorskip("nbformat")
    ipynb = path.with_suffix(".ipynb")
    assert ipynb.exists(), f"{ipynb.name} is missing; {FIX}"
    notebook = nbformat.read(ipynb, as_version=4)
    assert _cells(notebook) == _cells(jupytext.read(path)), f"{ipynb.name} and {path.name} differ; {FIX}"
    executed = [i for i, c in enumerate(notebook.cells)
                if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not executed, f"{ipynb.name} holds outputs or execution counts (cells {executed}); {FIX}"
    assert set(notebook.metadata) <= {"kernelspec", "jupytext"}, (
        f"{ipynb.name} holds local metadata {sorted(set(notebook.metadata) - {'kernelspec', 'jupytext'})}; {FIX}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, tmp_path, monkeypatch):
    jupytext = pytest.importorskip("jupytext")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("LIVESIM_NOTEBOOK_SMALL", "1")  # the kernel inherits the environment
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = jupytext.read(path)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
