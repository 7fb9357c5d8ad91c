# LeadFlow — two commands: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
VENDOR  := src/leadflow/web/static/vendor
ASSETS  := $(VENDOR)/.built-$(shell cat package-lock.json | cksum | cut -d' ' -f1)

# Django 6 needs Python >= 3.12: take the first suitable interpreter on PATH, then pyenv's.
PYTHON ?= $(shell for p in python3.13 python3.12 python3 python \
	$$(ls -d /root/.pyenv/versions/3.1[2-9]*/bin/python3 $$HOME/.pyenv/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV); do \
	  command -v $$p >/dev/null 2>&1 || [ -x "$$p" ] || continue; \
	  $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { command -v $$p || echo $$p; } && break; \
	done)

# The demo and the test suite run without a SECRET_KEY of their own; production never does.
export LEADFLOW_INSECURE_DEV ?= 1

.PHONY: help run test lint install assets clean lock messages bench bench-import bench-assign bench-sweep bench-analytics
help:
	@echo "make run   — set up and serve LeadFlow with demo data at http://127.0.0.1:8000"
	@echo "make test  — ruff, then the whole suite on SQLite (and PostgreSQL when LEADFLOW_TEST_POSTGRES_URL is set)"

$(STAMP): requirements.lock pyproject.toml
	@if [ -z "$(PYTHON)" ]; then \
	  echo "LeadFlow needs Python 3.12 or newer (Django 6). None found on PATH or under ~/.pyenv/versions/."; \
	  echo "Install one, or run: make PYTHON=/path/to/python3.12 ..."; exit 1; fi
	@echo "Using $(PYTHON) ($$($(PYTHON) --version))"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	rm -f $(VENV)/.installed-*; touch $@

install: $(STAMP)

$(ASSETS): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/
	cp node_modules/bootstrap/dist/css/bootstrap.min.css $(VENDOR)/
	cp node_modules/echarts/dist/echarts.min.js $(VENDOR)/
	rm -f $(VENDOR)/.built-*; touch $@

assets: $(ASSETS)

run: install assets
	mkdir -p var
	$(BIN)/leadflow migrate --no-input -v 0
	$(BIN)/leadflow demo --if-empty
	$(BIN)/leadflow serve

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

test: install assets lint
	$(BIN)/pytest -p no:cacheprovider
	@if [ -n "$$LEADFLOW_TEST_POSTGRES_URL" ]; then \
	  echo "== the same suite on PostgreSQL ($$LEADFLOW_TEST_POSTGRES_URL)"; \
	  DATABASE_URL="$$LEADFLOW_TEST_POSTGRES_URL" $(BIN)/pytest -p no:cacheprovider; \
	else echo "LEADFLOW_TEST_POSTGRES_URL is not set: PostgreSQL pass skipped."; fi

bench: install
	$(BIN)/python bench/intake.py

bench-import: install
	$(BIN)/python bench/import.py

bench-assign: install
	$(BIN)/python bench/assign.py

bench-sweep: install
	$(BIN)/python bench/sweep.py

bench-analytics: install
	$(BIN)/python bench/analytics.py

# Regenerate the pinned, hashed requirements from pyproject.toml.
lock: install
	$(BIN)/uv pip compile pyproject.toml --group dev --generate-hashes --python-version 3.12 \
	  --universal --no-header -o requirements.lock

# Refresh and compile the English catalogue (needs GNU gettext).
messages: install
	cd src/leadflow && ../../$(BIN)/leadflow makemessages -l en --no-location --no-wrap -i "migrations/*"
	cd src/leadflow && ../../$(BIN)/leadflow compilemessages

clean:
	rm -rf $(VENV) node_modules $(VENDOR) var/*.sqlite3*
