"""Regenerate the README's notebook figures: run each notebook at full size in a Jupyter kernel.

    python experiments/notebook_figures.py                 # every notebook
    python experiments/notebook_figures.py 01_quickstart 04_fund_size

Each notebook (``notebooks/<name>.py``, a jupytext script) runs top to bottom in a real kernel (as
``tests/test_notebooks.py`` runs it at small size) with ``LIVESIM_FIG_DIR=docs/img``, so it saves its
key figure there; prints one JSON line per notebook with its wall time and appends it to
``experiments/results/notebook_figures.jsonl`` (the README's times).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(name: str, fig_dir: Path) -> dict:
    """Execute ``notebooks/<name>.py`` at full size; returns its name, wall time and load average."""
    import jupytext
    import nbclient

    os.environ["LIVESIM_FIG_DIR"] = str(fig_dir)
    os.environ["MPLBACKEND"] = "Agg"
    os.environ.pop("LIVESIM_NOTEBOOK_SMALL", None)
    nb = jupytext.read(ROOT / "notebooks" / f"{name}.py")
    client = nbclient.NotebookClient(nb, timeout=None, kernel_name="python3",
                                     resources={"metadata": {"path": str(ROOT / "notebooks")}})
    t0 = time.perf_counter()
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    if errors:
        raise RuntimeError(f"{name}: {errors[0].get('ename')}: {errors[0].get('evalue')}")
    return {"notebook": name, "wall_s": round(time.perf_counter() - t0, 1), "load_avg_1min": round(os.getloadavg()[0], 2)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*", help="notebooks to run (default: all)")
    ap.add_argument("--out", default=str(ROOT / "experiments" / "results" / "notebook_figures.jsonl"),
                    help="append each notebook's line here too (the README's times come from it)")
    args = ap.parse_args(argv)
    names = args.names or sorted(p.stem for p in (ROOT / "notebooks").glob("*.py"))
    for name in names:
        line = json.dumps({**run(name, ROOT / "docs" / "img"), "date": time.strftime("%Y-%m-%d")})
        print(line, flush=True)
        with open(args.out, "a", encoding="utf-8") as f:  # whole lines: an interrupted run keeps the finished ones
            f.write(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
