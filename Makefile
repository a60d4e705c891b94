# Vendas Hub — the README's two commands are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000
# Two pytest-xdist workers (each with its own PostgreSQL database, tests/conftest.py);
# `make test PYTEST_ARGS=` runs serially, `PYTEST_ARGS="-n 4"` uses more cores.
PYTEST_ARGS ?= -n 2
PAGES_SIZES ?= 1000 100000

.PHONY: run demo test lint format audit bench bench-full bench-deps clean deps dev-deps browser-deps

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.runtime $@

deps: $(VENV)/.runtime
dev-deps: $(VENV)/.dev

# Debian's chromium for the Playwright browser tests (Playwright cannot download its own here).
browser-deps:
	@bash scripts/ensure-chromium.sh

run: deps
	$(FLASK) db upgrade
	SCHEDULER_ENABLED=$${SCHEDULER_ENABLED:-true} $(FLASK) run --host $(HOST) --port $(PORT)

# App + platform emulator + a local mail catcher + demo credentials + sample webhooks
# (see scripts/demo.sh). The mail catcher is aiosmtpd, a development requirement.
demo: dev-deps
	bash scripts/demo.sh

test: dev-deps browser-deps
	$(PY) -m pytest $(PYTEST_ARGS)
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== again on PostgreSQL ($$TEST_DATABASE_URL) =="; \
		$(PY) -m pytest --postgres $(PYTEST_ARGS); \
	fi

# Benchmarks print figures as ratios against a baseline measured in the same run.
bench-deps:
	@bash scripts/ensure-wrk.sh

bench: dev-deps bench-deps
	$(PY) bench/bench_webhooks.py 500
	$(PY) bench/bench_ingest.py
	$(PY) bench/bench_stats.py 50000
	$(PY) bench/bench_pages.py $(PAGES_SIZES)
	$(PY) bench/bench_sync.py

# The issue's full runs: operator pages also at 1M rows (minutes of seeding), 20 s per ingest
# level and 60 s of webhook -> e-mail at 100/s (on an empty and on a 100k-sale database),
# syncs at 100k records per API resource (tens of minutes in all).
bench-full: dev-deps bench-deps
	$(PY) bench/bench_webhooks.py 500
	$(PY) bench/bench_ingest.py --duration 20 --e2e-seconds 60
	$(PY) bench/bench_ingest.py --duration 20 --e2e-seconds 60 --preload 100000
	$(PY) bench/bench_stats.py 50000
	$(PY) bench/bench_pages.py 1000 100000 1000000
	$(PY) bench/bench_sync.py --full

lint: dev-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# pip-audit of the pinned requirements: fails on a known vulnerability, only warns when the
# vulnerability service cannot be reached (see docs/deploy.md, "Dependências").
audit: dev-deps
	$(PY) scripts/audit_deps.py $(AUDIT_ARGS)

format: dev-deps
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
