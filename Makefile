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

.PHONY: help install up down status env lint test-unit test-integration test-infra test-web test-e2e test deploy bench clean

help: ## list the targets
	@grep -E '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | \
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

CHROMIUM ?= $(shell command -v chromium 2>/dev/null || echo /usr/bin/chromium)
WEB := containers/web

# Node.js (>= 20.19, with npm) builds and tests the web app; Chromium runs the e2e suite.
define NEED_NODE
	@command -v node >/dev/null 2>&1 || { \
		echo "Node.js is not installed: install Node.js >= 20.19 with npm" >&2; \
		echo "(Debian: 'apt-get install -y nodejs npm', or https://nodejs.org), then retry" >&2; \
		exit 1; }
endef

$(WEB)/node_modules/.aia-lock.sha256: $(WEB)/package-lock.json
	$(NEED_NODE)
	cd $(WEB) && npm ci --no-audit --no-fund --loglevel=error
	sha256sum $(WEB)/package-lock.json | cut -d' ' -f1 > $@

test-web: $(WEB)/node_modules/.aia-lock.sha256 ## web app: type check and component tests (Vitest)
	cd $(WEB) && npm run --silent typecheck && npm test --silent

test-e2e: install $(WEB)/node_modules/.aia-lock.sha256 ## the whole stack in headless Chromium (screenshots in var/e2e-screenshots)
	@if [ ! -x "$(CHROMIUM)" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian's chromium for the end-to-end tests"; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; \
	fi
	@test -x "$(CHROMIUM)" || { \
		echo "Chromium is missing: as root run 'apt-get update && apt-get install -y --no-install-recommends chromium'" >&2; \
		echo "(it must end up at /usr/bin/chromium, or set CHROMIUM=/path/to/chromium)" >&2; \
		exit 1; }
	CHROMIUM=$(CHROMIUM) $(VENV)/pytest -p no:cacheprovider tests/e2e

# pytest exits 5 when it collected nothing; make treats that as the failure it is.
test: lint test-unit test-web test-integration test-infra test-e2e ## lint, unit, web, integration, infra and e2e tests

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
