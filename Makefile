# Only python3 (3.11+) and make are assumed; every target bootstraps .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo hub test bench lint

# The test extra includes the hub extra; deploy/node_modules holds the proxy the hub starts (node >= 20).
$(STAMP): pyproject.toml deploy/package-lock.json
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	npm ci --prefix deploy --no-audit --no-fund --loglevel=error
	touch $(STAMP)

PORT ?= 8866
# A small preheated pool: the first pages open at once; for a class, POOL = the class size (docs/deployment.md).
POOL ?= 4

demo: $(STAMP)  ## serve the explorer on http://127.0.0.1:$(PORT) with POOL (4) preheated kernels; Ctrl-C stops it all
	$(BIN)/scaling-explorer serve --port $(PORT) --pool-size $(POOL)

hub: $(STAMP)  ## JupyterHub for a class on http://127.0.0.1:8930 (deploy/jupyterhub_config.py); Ctrl-C stops it
	$(BIN)/jupyterhub -f deploy/jupyterhub_config.py

test: $(STAMP)  ## the whole suite: unit, property, CLI, notebooks, browser
	$(BIN)/python -m pytest

bench: $(STAMP)  ## print benchmark figures (never fails the build)
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
