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

.PHONY: help venv lock lint typecheck test test-unit contract fault sandbox demo bench specs validate build clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

python313:
	@if [ -z "$(PYTHON313)" ]; then \
	  echo "python3.13 not found: install it (e.g. 'pyenv install 3.13' or your OS package) or run make PYTHON313=/path/to/python3.13"; \
	  exit 1; fi

# requirements-dev.txt is the lock: every package the app, both layers, the tests and the dev tools use, at one
# version each, with its hashes. Each layer's requirements.txt (what `sam build` installs) is the lock's subset for
# that layer, and requirements-sam.txt the SAM CLI's own lock. `make lock` writes all four from the *.in inputs.
$(STAMP): requirements-dev.txt pyproject.toml | python313
	@test -x $(PY) || $(PYTHON313) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $@

venv: $(STAMP) ## create .venv (python3.13) from the lock, hash-checked

# Resolved for any platform (markers), for Python 3.13 as on Lambda. A pin already in a lock stays unless its input
# changed: `make lock LOCK_ARGS=--upgrade` moves every package to the newest its inputs allow,
# `LOCK_ARGS='--upgrade-package botocore'` one.
LOCK_ARGS ?=
UV_COMPILE = $(VENV)/bin/uv pip compile --quiet --universal --python-version 3.13 --generate-hashes \
	--custom-compile-command "make lock" $(LOCK_ARGS)

lock: $(STAMP) ## resolve the *.in inputs into the hashed lock and each layer's subset of it
	$(UV_COMPILE) requirements-dev.in -o requirements-dev.txt
	@# Each layer from its own input, held to the lock's versions: a subset of it, hashes included.
	$(UV_COMPILE) --constraint requirements-dev.txt shared/requirements.in -o shared/requirements.txt
	$(UV_COMPILE) --constraint requirements-dev.txt layers/bigcommerce/requirements.in -o layers/bigcommerce/requirements.txt
	$(UV_COMPILE) requirements-sam.in -o requirements-sam.txt

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
	$(SAM_VENV)/bin/python -m pip install --quiet --require-hashes -r requirements-sam.txt
	@touch $@

validate: $(SAM_STAMP) ## sam validate --lint
	$(SAM_VENV)/bin/sam validate --lint

build: $(SAM_STAMP) ## sam build (no Docker: uses python3.13 from PATH)
	PATH="$(dir $(PYTHON313)):$$PATH" $(SAM_VENV)/bin/sam build

# --- the deploy lifecycle: make deploy | delete | logs ----------------------------------------------------
# ENV is samconfig.toml's environment (default: stack bcsync; prod: stack bcsync-prod), PROFILE an AWS profile
# of ~/.aws/config: every sam command gets both, so each one finds the same stack.
ENV ?= default
PROFILE ?=
FUNCTION ?=
SAM := $(SAM_VENV)/bin/sam
SAM_ENV = --config-env $(ENV)$(if $(PROFILE), --profile $(PROFILE))
STACK = $(shell $(PYTHON313) -c "import tomllib; print(tomllib.load(open('samconfig.toml', 'rb'))['$(ENV)']['global']['parameters']['stack_name'])" 2>/dev/null)
FUNCTIONS := ProductSyncFunction OrderImportFunction TrackingWritebackFunction InventoryPushFunction WebhookReceiverFunction
.PHONY: deploy delete logs

deploy: build ## sam deploy (ENV=prod PROFILE=name); guided the first time, README.md "Deploy" explains each question
	@if $(SAM) list stack-outputs $(SAM_ENV) >/dev/null 2>&1; then \
	  $(SAM) deploy $(SAM_ENV); \
	else \
	  echo "Stack $(STACK) is not deployed yet: sam deploy --guided (README.md, \"Deploy\", explains each question)."; \
	  $(SAM) deploy --guided $(SAM_ENV); \
	fi

delete: $(SAM_STAMP) ## sam delete (ENV=, PROFILE=); says what it keeps on purpose and how to remove that too
	@echo "Remove each store first (its webhooks would keep posting to an API that is gone):"
	@echo "  bcsync --stack $(STACK)$(if $(PROFILE), --profile $(PROFILE)) stores remove STORE"
	@$(SAM) list stack-outputs $(SAM_ENV) 2>/dev/null | grep -E "StateTableName|IdempotencyTableName|PayloadBucketName|SecretPrefix" -A1 || true
	$(SAM) delete $(SAM_ENV)
	@echo "sam delete keeps, on purpose: StateTable and IdempotencyTable (DynamoDB, every store's state), PayloadBucket (S3)"
	@echo "and each store's secret bcsync/$(STACK)/stores/STORE (Secrets Manager, made by bcsync stores connect)."
	@echo "To remove them too: docs/operations.md, \"Removing a stack\" (aws dynamodb delete-table, aws s3 rb, aws secretsmanager delete-secret)."

logs: $(SAM_STAMP) ## sam logs --tail of one function: make logs FUNCTION=OrderImportFunction (ENV=, PROFILE=, SINCE='10min ago')
	@test -n "$(FUNCTION)" || { echo "name a function: make logs FUNCTION=<$(subst $() ,|,$(FUNCTIONS))>"; exit 2; }
	$(SAM) logs $(SAM_ENV) -n $(FUNCTION) $(if $(SINCE),-s '$(SINCE)') --tail

clean: ## remove venvs and build output
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache
