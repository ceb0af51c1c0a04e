# Only python3 (3.11+) and make are assumed; every target bootstraps .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo hub test bench bench-load bench-page lint

# The test extra includes the hub extra; deploy/node_modules holds the proxy the hub starts (node >= 20).
$(STAMP): pyproject.toml deploy/package-lock.json
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	npm ci --prefix deploy --no-audit --no-fund --loglevel=error
	touch $(STAMP)

PORT ?= 8866
# Preheated kernels: unset, the CLI's default small pool (serve.DEFAULT_POOL_SIZE, declared once there) so the
# first pages open at once; for a class, POOL = the class size (docs/deployment.md).
POOL ?=

demo: $(STAMP)  ## serve the explorer on http://127.0.0.1:$(PORT) with a small preheated pool (POOL=N to size it); Ctrl-C stops it all
	$(BIN)/scaling-explorer serve --port $(PORT)$(if $(POOL), --pool-size $(POOL))

hub: $(STAMP)  ## JupyterHub for a class on http://127.0.0.1:8930 (deploy/jupyterhub_config.py); Ctrl-C stops it
	$(BIN)/jupyterhub -f deploy/jupyterhub_config.py

# Two sessions: the headless tests spread over the cores (pytest-xdist), then the browser tests, a file
# per worker (Playwright's event loop must not meet the headless tests' asyncio), handed out in the order
# tests/browser_order.py gives: the hub's file first, so its wait on the idle culler overlaps the others'
# work. Both always run; make fails if either does. (The hub's tests run beside the headless session
# made both slower on 2 cores: 240 s headless, 474 s in all, against 181 + 240 s apart.)
# Bytecode is cached even where the environment says not to (PYTHONDONTWRITEBYTECODE): some hundred processes
# (pytest workers, kernels, servers, notebook runs) import the package and the tests, and each would compile
# them again (collection alone 11 s against 7 s per worker).
TEST_WORKERS ?= auto
BROWSER_WORKERS ?= 2
test: $(STAMP)  ## the whole suite: unit, property, CLI, notebooks, docs, then browser and hub
	export PYTHONDONTWRITEBYTECODE=; \
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not browser"; headless=$$?; \
	$(BIN)/python -m pytest -n $(BROWSER_WORKERS) --dist loadfile --no-loadscope-reorder -m browser; browser=$$?; \
	exit $$(( headless || browser ))

# Quick, headless benchmarks (no browser, no server; a few minutes); benchmarks/README.md says what each answers.
QUICK_BENCH := bench_core bench_conventions bench_beyond bench_panels bench_fit bench_step bench_arrival

bench: $(STAMP)  ## the quick headless benchmarks (never fails the build)
	cd benchmarks && for b in $(QUICK_BENCH); do echo "== $$b"; ../$(BIN)/python $$b.py || exit 1; done

VIEWERS ?= 30 60
bench-load: $(STAMP)  ## capacity: VIEWERS arrive with a pool and step at 1 Hz (protocol client, no browser)
	cd benchmarks && ../$(BIN)/python bench_load.py --client protocol --viewers $(VIEWERS) --seconds 20 --pool-only

bench-page: $(STAMP)  ## the page in headless Chromium: load time and slider latency, and Chromium at 1 and 3 viewers
	cd benchmarks && ../$(BIN)/python bench_page.py --quick && ../$(BIN)/python bench_load.py --client browser --viewers 1 3 --seconds 20 --pool-only

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
