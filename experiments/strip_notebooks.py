"""Rewrite each paired notebook notebooks/<name>.ipynb from its script notebooks/<name>.py, keeping its cell ids.

    .venv/bin/python -m jupytext --sync notebooks/*.py          # first: the newer side wins
    .venv/bin/python experiments/strip_notebooks.py notebooks/*.py

``make notebooks`` runs both. ``jupytext --sync`` keeps the outputs a notebook was saved with (and the
metadata Jupyter adds, such as ``language_info`` with the local Python version); this rewrite leaves
exactly what jupytext makes of the script: no outputs, no execution counts, the kernelspec as the only
notebook metadata. After a sync both sides have the same cells, so the notebook's cell ids are kept and
an unchanged notebook is not touched. tests/test_notebooks.py checks the result.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import jupytext


def strip(script: Path) -> bool:
    """Write ``script``'s notebook from the script; return whether the file changed."""
    path = script.with_suffix(".ipynb")
    notebook = jupytext.read(script)
    if path.exists():
        old = jupytext.read(path)
        for cell, old_cell in zip(notebook.cells, old.cells):
            if cell.cell_type == old_cell.cell_type and "id" in old_cell:
                cell.id = old_cell.id
        text = jupytext.writes(notebook, fmt="ipynb").rstrip("\n") + "\n"
        if text == path.read_text(encoding="utf-8"):
            return False
    else:
        text = jupytext.writes(notebook, fmt="ipynb").rstrip("\n") + "\n"
    path.write_text(text, encoding="utf-8")
    os.utime(script)  # the script stays the newer side, as jupytext's Jupyter extension expects
    return True


def main(argv: list[str]) -> int:
    scripts = [Path(a) for a in argv] or sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.py"))
    for script in scripts:
        if strip(script):
            print(f"stripped {script.with_suffix('.ipynb')}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
