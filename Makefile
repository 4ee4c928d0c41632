# What a person types. `make test` builds everything it needs from this repo's own files.
SHELL := /bin/bash
# SAM CLI must not phone home from CI or a laptop.
export SAM_CLI_TELEMETRY := 0
.DEFAULT_GOAL := help

# The Lambda runtime is python3.13: the venv and `sam build` use the same interpreter version.
# A pyenv shim answers `command -v` without being runnable, so each candidate must run.
PYTHON313 ?= $(shell for p in $$(command -v python3.13) $$(ls -1 $$HOME/.pyenv/versions/3.13*/bin/python3.13 /usr/local/bin/python3.13 /usr/bin/python3.13 2>/dev/null); do \
	  "$$p" -c 'import sys; assert sys.version_info[:2] == (3, 13)' >/dev/null 2>&1 && { echo "$$p"; break; }; done)
VENV := .venv
SAM_VENV := .venv-sam
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SAM_STAMP := $(SAM_VENV)/.installed
PYTEST_ARGS ?=
# `make test` runs pytest in this many processes (pytest-xdist), one per core of the 2-core machines the
# project runs on: each worker has its own moto server and sandbox. The tier targets below stay serial.
TEST_WORKERS ?= 2

.PHONY: help venv lint typecheck test test-unit contract fault sandbox demo bench specs validate build clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

python313:
	@if [ -z "$(PYTHON313)" ]; then \
	  echo "python3.13 not found: install it (e.g. 'pyenv install 3.13' or your OS package) or run make PYTHON313=/path/to/python3.13"; \
	  exit 1; fi

$(STAMP): requirements-dev.txt layers/bigcommerce/requirements.txt shared/requirements.txt pyproject.toml | python313
	@test -x $(PY) || $(PYTHON313) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $@

venv: $(STAMP) ## create .venv (python3.13) with the pinned dependencies

lint: $(STAMP) ## ruff
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP) ## mypy --strict
	$(VENV)/bin/mypy layers/bigcommerce/bigcommerce_client shared/bcsync local/bigcommerce_sandbox local/local_runtime tests bench examples
	@# Every function's module is `app`, as Lambda imports it: one mypy run each.
	for app in functions/*/app.py; do $(VENV)/bin/mypy "$$app" || exit 1; done

test: lint typecheck validate ## lint, type-check, validate the SAM template and run every test tier (2 workers)
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

test-unit: $(STAMP) ## only the unit tier (no network)
	$(VENV)/bin/pytest -m unit $(PYTEST_ARGS)

contract: $(STAMP) ## only the contract tier
	$(VENV)/bin/pytest -m contract $(PYTEST_ARGS)

fault: $(STAMP) $(SAM_STAMP) ## the fault tier at full size: 2,000 orders, 500 shipments under faults (FAULT_SEED=n repeats a run)
	FAULT_SCALE=$${FAULT_SCALE:-1} $(VENV)/bin/pytest -m fault -s -p no:cacheprovider $(PYTEST_ARGS)

sandbox: $(STAMP) ## run the BigCommerce sandbox on 127.0.0.1 (see --help)
	$(VENV)/bin/bigcommerce-sandbox $(ARGS)

demo: $(STAMP) $(SAM_STAMP) ## bcsync on the local runtime and sandbox (no AWS account, no network)
	$(PY) -m local_runtime.demo

bench: $(STAMP) $(SAM_STAMP) ## BigCommerce calls against their floor and handler memory (minutes; BENCH_SCALE=0.1 for a quick run)
	$(PY) bench/run.py

specs: $(STAMP) ## download BigCommerce's pinned specs, hash-checked, into the repo's ignored cache (.cache/)
	$(PY) -m bigcommerce_sandbox.specs fetch

$(SAM_STAMP): requirements-sam.txt | python313
	@test -x $(SAM_VENV)/bin/python || $(PYTHON313) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet -r requirements-sam.txt
	@touch $@

validate: $(SAM_STAMP) ## sam validate --lint
	$(SAM_VENV)/bin/sam validate --lint

build: $(SAM_STAMP) ## sam build (no Docker: uses python3.13 from PATH)
	PATH="$(dir $(PYTHON313)):$$PATH" $(SAM_VENV)/bin/sam build

clean: ## remove venvs and build output
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache
