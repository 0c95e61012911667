"""Writing a run's results: atomically, next to its resolved configuration.

Every file is written to a temporary name in the same folder and renamed into
place (``os.replace`` is atomic on POSIX), so an interrupted run never leaves a
truncated ``metrics.csv`` or ``summary.json`` behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable

import pandas as pd
import yaml

from sim.metrics import METRICS


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()  # what open() would give: mkstemp's private 0600 is not meant for results


def write_results(folder: Path, rows: list[dict[str, Any]]) -> pd.DataFrame:
    """``results.parquet`` and ``results.csv`` in ``folder``, one row per run (written atomically); returns the table.

    Mapping-valued entries (e.g. ``small_populations``, often empty) are kept as JSON text: parquet cannot
    store an empty struct, and a struct column's fields would differ from run to run.
    """
    results = pd.DataFrame(rows)
    for col in results.columns[results.map(lambda x: isinstance(x, dict)).any()] if len(results) else []:
        results[col] = results[col].map(lambda x: json.dumps(x, sort_keys=True) if isinstance(x, dict) else x)
    write_atomic(Path(folder) / "results.parquet", lambda p: results.to_parquet(p, index=False))
    write_atomic(Path(folder) / "results.csv", lambda p: results.to_csv(p, index=False, float_format="%.10g"))
    return results


def write_atomic(path: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path`` then rename it to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text(path: Path, text: str) -> Path:
    return write_atomic(path, lambda p: p.write_text(text, encoding="utf-8"))


def digest(data: Any, length: int = 20) -> str:
    """A stable hex key of JSON-like ``data`` (sorted keys; other values by their ``str``): names results
    by the configuration that made them."""
    import hashlib

    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:length]


def write_bytes(path: Path, data: bytes) -> Path:
    return write_atomic(path, lambda p: p.write_bytes(data))


def replace_block(path: Path, start: str, end: str, text: str) -> Path:
    """Replace what lies between the marker lines ``start`` and ``end`` in a text file (atomically).

    Generated figures in the docs live between such markers, so a script can regenerate them.
    """
    doc = Path(path).read_text(encoding="utf-8")
    i, j = doc.index(start) + len(start), doc.index(end)
    return write_text(Path(path), doc[:i] + "\n" + text + "\n" + doc[j:])


def write_json(path: Path, data: Any) -> Path:
    return write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def write_csv(path: Path, frame: pd.DataFrame, index: bool = True) -> Path:
    return write_atomic(path, lambda p: frame.to_csv(p, index=index, float_format="%.10g"))


def write_yaml(path: Path, data: dict[str, Any]) -> Path:
    return write_text(path, yaml.safe_dump(data, sort_keys=False))


def summarise(metrics: pd.DataFrame) -> dict[str, float]:
    """Year totals of flow metrics (``*_total``), end-of-run levels of stocks and rates (``*_final``)."""
    out: dict[str, float] = {}
    for name, unit in METRICS.items():
        col = metrics[name]
        if unit.endswith("/day"):
            out[f"{name}_total"] = float(col.sum())
        else:
            out[f"{name}_final"] = float(col.iloc[-1])
            if "share" in unit or "trust" in unit:
                out[f"{name}_mean"] = float(col.mean())
    return out
