"""Every ```python block of README.md runs as written (each in a fresh interpreter, in an empty folder).

The README keeps its markets small so that this takes seconds; it says so beside the block.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def python_blocks(text: str) -> list[tuple[int, str]]:
    """(first line number, code) of every fenced block whose info string is ``python``."""
    blocks = []
    for m in re.finditer(r"^```python[ \t]*\n(.*?)^```[ \t]*$", text, flags=re.M | re.S):
        blocks.append((text.count("\n", 0, m.start()) + 2, m.group(1)))
    return blocks


BLOCKS = python_blocks(README.read_text(encoding="utf-8"))


def test_the_readme_has_python_blocks():
    assert BLOCKS, "README.md has no ```python block: the test below would check nothing"


@pytest.mark.parametrize(("line", "code"), BLOCKS, ids=[f"README.md:{line}" for line, _ in BLOCKS])
def test_readme_python_block_runs(line, code, tmp_path):
    script = tmp_path / "block.py"
    script.write_text("\n" * (line - 1) + code, encoding="utf-8")  # tracebacks give README.md's line numbers
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    work = tmp_path / "work"
    work.mkdir()
    res = subprocess.run([sys.executable, str(script)], cwd=work, env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, f"README.md block at line {line} failed:\n{res.stderr}"


def model_commands(text: str) -> list[tuple[int, list[str]]]:
    """(line number, arguments) of every ``.venv/bin/python -m sim ...`` command the README gives to run
    (its shell examples; the examples of bad input, written ``$ python -m sim ...``, are not among them)."""
    import shlex

    out = []
    for i, line in enumerate(text.splitlines(), start=1):
        if line.startswith(".venv/bin/python -m sim ") and "--help" not in line:
            out.append((i, shlex.split(line.split(" -m sim ", 1)[1], comments=True)))
    return out


COMMANDS = model_commands(README.read_text(encoding="utf-8"))


@pytest.mark.parametrize(("line", "args"), COMMANDS, ids=[f"README.md:{line}" for line, _ in COMMANDS])
def test_readme_model_commands_validate(line, args):
    """Every model run the README shows passes the checks the command makes before it starts
    (configuration and population plan; each job of a multirun)."""
    from sim.__main__ import preflight, preflight_multirun

    if args[0] == "-m":
        assert preflight_multirun(args[1:]) >= 2
    else:
        preflight(args)


def test_the_readme_shows_model_commands():
    assert len(COMMANDS) >= 4, COMMANDS
