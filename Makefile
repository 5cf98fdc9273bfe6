# Everything runs from the project venv; `make test` on a fresh machine builds it first.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := all

# The CDK's jsii runtime nags on every call about Node versions it has not yet certified.
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

VENV := .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The CDK command line, pinned by package-lock.json and installed into the project.
CDK := node_modules/.bin/cdk
# Empty folders do not survive a clone; lint only the ones that exist.
LINT_DIRS := $(wildcard src tests bench functions infra)
FORMAT_DIRS := $(wildcard src tests bench)

.PHONY: all setup dynamodb-local dev test lint bench bench-load clean assets synth deploy

all: lint test

setup: $(STAMP)

# uv installs in seconds what pip takes a minute for; pip only bootstraps uv into the venv.
# A venv made by `uv venv` has no pip, hence ensurepip.
$(STAMP): pyproject.toml
	test -x $(PYTHON) || python3 -m venv $(VENV)
	if [ ! -x $(VENV)/bin/uv ]; then \
	  $(PYTHON) -m pip --version >/dev/null 2>&1 || $(PYTHON) -m ensurepip --upgrade >/dev/null; \
	  $(PYTHON) -m pip install -q --disable-pip-version-check uv; \
	fi
	$(VENV)/bin/uv pip install --python $(PYTHON) -q -e '.[dev]'
	touch $@

dynamodb-local: $(STAMP)
	$(PYTHON) -m ledger.local.dynamodb_local fetch

# `make dev PORT=3222 DATA_DIR=/tmp/book DYNAMODB_PORT=8123`; each is optional, and
# LEDGER_PORT, LEDGER_DATA_DIR and LEDGER_DYNAMODB_PORT in the environment work as well.
dev: dynamodb-local
	$(VENV)/bin/ledger dev $(if $(PORT),--port $(PORT)) $(if $(DYNAMODB_PORT),--dynamodb-port $(DYNAMODB_PORT)) $(if $(DATA_DIR),--data-dir '$(DATA_DIR)')

# Two workers (CI has two cores), each with its own DynamoDB Local; the end-to-end tests
# share one `ledger dev`, so they stay together on one worker (xdist group "e2e").
test: dynamodb-local
	$(VENV)/bin/pytest -n 2 --dist loadgroup --cov=ledger --cov-branch --cov-report=term-missing --cov-fail-under=95

lint: $(STAMP)
	$(VENV)/bin/ruff check $(LINT_DIRS)
	$(VENV)/bin/ruff format --check $(FORMAT_DIRS)
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: dynamodb-local
	$(PYTHON) -m bench.run

# HTTP load on a `ledger dev` of its own on 127.0.0.1, bounded per level by count and time;
# not part of `make test`. Writes bench/load-results.json.
bench-load: dynamodb-local
	$(PYTHON) -m bench.load

# Leaves .venv, the .ledger dev data and the DynamoDB Local cache (outside the repo) alone.
clean:
	rm -rf build dist htmlcov cdk.out node_modules .pytest_cache .mypy_cache .ruff_cache .hypothesis
	rm -rf .coverage .coverage.* src/*.egg-info
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

# Lambda assets under build/assets/, without Docker: `--target twin|both` builds the twin too.
assets: $(STAMP)
	$(PYTHON) -m infra.assets build

$(CDK): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

# The stack's CloudFormation template in cdk.out/, checked by cdk-nag on the way. Context:
# `make synth CONTEXT="ledger:alertEmail=ops@example.com ledger:provisionedConcurrency=2"`.
synth: assets $(CDK)
	$(CDK) synth --quiet $(foreach pair,$(CONTEXT),-c $(pair))

# Deploys to the account and region of the AWS credentials in the environment; needs a
# `cdk bootstrap` of that account and region once (docs/deploy.md).
deploy: assets $(CDK)
	$(CDK) deploy $(foreach pair,$(CONTEXT),-c $(pair))
