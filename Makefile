# Only python3 (3.11+) and make are assumed; every target bootstraps .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench lint

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)  ## serve the explorer on http://127.0.0.1:8866
	$(BIN)/scaling-explorer serve

test: $(STAMP)  ## the whole suite: unit, property, CLI, notebooks, browser
	$(BIN)/python -m pytest

bench: $(STAMP)  ## print benchmark figures (never fails the build)
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
