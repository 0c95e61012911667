# livesim: two commands for a new user, `make run` and `make test`.
# Both create the virtual environment in .venv/ when it is missing, installing the
# exact versions pinned in requirements.lock (ranges live in pyproject.toml).

VENV      := .venv
PY        := $(VENV)/bin/python
STAMP     := $(VENV)/.installed-stamp
# First interpreter >= 3.12 that actually runs (pyenv shims exist but may refuse to run).
BOOTSTRAP ?= $(shell for p in python3.12 python3.13 python3 $$HOME/.pyenv/versions/3.12*/bin/python3.12 /root/.pyenv/versions/3.12*/bin/python3.12; do \
               $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1 && { echo $$p; break; }; done)

.PHONY: run test bench dashboard notebooks findings lock clean help

help:
	@echo "make run    - simulate the default market for one year (ARGS='key=value ...' to override)"
	@echo "make test   - run the test suite"
	@echo "make bench  - time the model at several sizes (experiments/bench.py)"
	@echo "make dashboard - interactive scenario dashboard (Solara) on http://localhost:8765"
	@echo "make findings - answer the seven contested questions on the calibrated ensemble -> docs/FINDINGS.md (hours; resumes)"
	@echo "make notebooks - re-sync notebooks/*.ipynb with notebooks/*.py after editing either (outputs stripped)"
	@echo "make lock   - re-resolve requirements.lock from pyproject.toml"

$(STAMP): pyproject.toml requirements.lock
	@if [ ! -x $(PY) ]; then \
	  if [ -z "$(BOOTSTRAP)" ]; then echo "error: no Python >= 3.12 found (set BOOTSTRAP=/path/to/python3.12)" >&2; exit 1; fi; \
	  echo "creating $(VENV) with $(BOOTSTRAP)"; $(BOOTSTRAP) -m venv $(VENV); fi
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements.lock -e '.[test]'
	@touch $(STAMP)

run: $(STAMP)
	$(PY) -m sim $(ARGS)

# The suite runs on TEST_WORKERS processes (pytest-xdist; default 2, the benchmark machine's cores), a test
# file per worker at a time so module fixtures are built once; TEST_WORKERS=0 runs it in this process.
TEST_WORKERS ?= 2
test: $(STAMP)
	$(PY) -m pytest -q $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile) $(PYTEST_ARGS)

dashboard: $(STAMP)
	$(PY) -m solara run sim.dashboard --port 8765 --host localhost

bench: $(STAMP)
	$(PY) experiments/bench.py $(ARGS)

# docs/FINDINGS.md from the comparisons of configs/findings.yaml (sim/findings.py); finished
# replications are kept under experiments/results/findings/, so an interrupted run resumes.
findings: $(STAMP)
	$(PY) -m sim.findings --workers $(or $(WORKERS),2) $(ARGS)

# notebooks/*.py (jupytext percent scripts, the source) are paired with notebooks/*.ipynb for plain
# Jupyter (notebooks/jupytext.toml): the side edited last wins, then each .ipynb is rewritten from its
# script without outputs, execution counts or local metadata (tests/test_notebooks.py checks this).
notebooks: $(STAMP)
	$(PY) -m jupytext --sync notebooks/*.py
	$(PY) experiments/strip_notebooks.py notebooks/*.py

lock: $(STAMP)
	$(PY) -m pip freeze --exclude-editable | grep -v '^pip==' > requirements.lock

clean:
	rm -rf $(VENV) outputs multirun .pytest_cache
