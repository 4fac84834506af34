# Botram — run `make help` for the targets.
SHELL := /bin/bash
PYTHON ?= python3.11
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "} {printf "  %-12s %s\n", $$1, $$2}'

$(UV):
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 ($(PYTHON)) is required"; exit 1; }
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet "uv>=0.5"

$(VENV)/.synced: $(UV) uv.lock pyproject.toml shared/*/pyproject.toml services/*/pyproject.toml cli/pyproject.toml
	$(UV) sync --all-packages --frozen --python $(PYTHON)
	@touch $@

.PHONY: install
install: $(VENV)/.synced ## Create or update the environment (.venv) from uv.lock

.PHONY: up
up: install ## Run NATS (embedded) and the four services; Ctrl-C stops everything
	$(VENV)/bin/botram up

.PHONY: demo
demo: install ## The system, a simulated Saturday at Sukatani and a Tuesday at Desa Ciantra
	$(VENV)/bin/botram demo

# The suite waits on processes (nats-server, services, Chromium) much of the time, so two
# workers finish it sooner even on two cores; a test file stays on one worker (its module
# fixtures are started once). TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= 2

.PHONY: test
test: install ## Run the whole test suite (TEST_WORKERS=2 processes)
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadfile --durations=20

.PHONY: test-unit
test-unit: install ## Only the unit tests (pure rules and use cases, no I/O): seconds
	$(VENV)/bin/pytest -q tests/*/unit

.PHONY: test-browser
test-browser: install ## Only the browser tests (the pages in Debian's headless Chromium)
	$(VENV)/bin/pytest -q tests/browser

.PHONY: screenshots
screenshots: install ## Refresh docs/screens/*.png from the browser tests
	BOTRAM_SCREENSHOTS_DIR=docs/screens $(VENV)/bin/pytest -q tests/browser

.PHONY: bench
bench: install ## Run the benchmarks (installs wrk if needed): make bench [BENCH="--quick --database postgresql"]
	PYTHONPYCACHEPREFIX=$${PYTHONPYCACHEPREFIX:-/tmp/botram-bench-pycache} $(VENV)/bin/python -m benchmarks $(BENCH)

.PHONY: lint
lint: install ## ruff check + format check, import contracts, strict mypy, dead code (vulture)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(VENV)/bin/vulture

.PHONY: format
format: install ## Format and autofix with ruff
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

.PHONY: schemas
schemas: install ## Regenerate shared/schemas/ and docs/asyncapi/ from the models
	$(VENV)/bin/botram schemas
	$(VENV)/bin/botram asyncapi

.PHONY: check-schemas
check-schemas: install ## Fail when committed schemas or AsyncAPI documents are stale
	$(VENV)/bin/botram schemas --check
	$(VENV)/bin/botram asyncapi --check

.PHONY: check-asyncapi
check-asyncapi: ## Validate docs/asyncapi/ with the official @asyncapi/parser (npm, pinned)
	cd .ci/asyncapi && npm ci --no-audit --no-fund --ignore-scripts --silent
	node .ci/asyncapi/validate.mjs docs/asyncapi

.PHONY: lock
lock: $(UV) ## Re-resolve uv.lock after changing dependencies
	$(UV) lock --python $(PYTHON)

.PHONY: clean
clean: ## Remove local state (SQLite files, NATS store)
	rm -rf var
