# Thin entry points: each target calls a script or a console script of the workspace.
# `make help` lists the targets documented with `## `.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

UV_VERSION := 0.13.9
UV := var/uv/bin/uv
VENV := .venv/bin
# tests/ is left out: [tool.mypy] excludes it, and mypy fails on a folder it may not read.
MYPY_DIRS := $(wildcard libs containers tools bench pulumi)
UNIT_TEST_DIRS := $(wildcard libs/*/tests containers/*/tests tools/*/tests)

.PHONY: help install up down status env lint test-unit test-integration test-infra test deploy bench clean

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}'

$(UV):
	python3 -m venv var/uv
	var/uv/bin/pip install --quiet "uv==$(UV_VERSION)"

install: $(UV) ## create .venv with every workspace package and the dev tools (uv sync)
	@if [ -f uv.lock ]; then $(UV) sync --frozen; else $(UV) sync; fi

up: install ## start PostgreSQL, the S3 emulator, migrations, buckets and the first model
	$(VENV)/devstack up

down: ## stop the local stack (the database stays in var/pgdata)
	$(VENV)/devstack down

status: ## what runs where; fails if anything is down
	$(VENV)/devstack status

env: ## print export lines for the local stack (eval them in a shell)
	@$(VENV)/devstack env

lint: install ## ruff (lint + format check) and mypy
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .
	$(VENV)/mypy $(MYPY_DIRS)

test-unit: install ## unit tests of every package (no services)
	@if [ -z "$(UNIT_TEST_DIRS)" ]; then echo "no unit test folders found" >&2; exit 1; fi
	$(VENV)/pytest --import-mode=importlib $(UNIT_TEST_DIRS)

test-integration: install ## integration tests against the suite's own PostgreSQL and S3 emulator
	$(VENV)/pytest tests/integration

test-infra: install ## Pulumi program unit tests (mocks, offline)
	$(VENV)/pytest pulumi/tests

# pytest exits 5 when it collected nothing; make treats that as the failure it is.
test: lint test-unit test-integration test-infra ## lint, unit, integration and infra tests

deploy: install ## pulumi up (needs the Pulumi CLI and AWS credentials)
	@command -v pulumi >/dev/null 2>&1 || { \
		echo "the pulumi CLI is not installed: run 'curl -fsSL https://get.pulumi.com | sh'" >&2; \
		echo "(or 'brew install pulumi/tap/pulumi'), then open a new shell and retry" >&2; \
		exit 1; }
	cd pulumi && pulumi up

bench: install ## print the benchmark figures
	$(VENV)/python bench/run.py

clean: ## remove caches and logs (keeps var/pgdata and var/uv; `make down` first)
	find . -path ./.venv -prune -o -path ./var -prune -o -path ./node_modules -prune -o \
		-type d \( -name __pycache__ -o -name .pytest_cache -o -name .mypy_cache \
		-o -name .ruff_cache -o -name .hypothesis \) -print0 | xargs -0 rm -rf
	rm -rf var/log build dist
