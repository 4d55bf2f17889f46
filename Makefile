# The two commands a newcomer needs: `make run` and `make test`. Each does all of its own set-up.
SHELL := /bin/bash
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test setup migrate demo worker lint format lock bench clean

# Test-only JavaScript (axe-core for the page gallery's accessibility check), pinned in package-lock.json.
NODE_STAMP := node_modules/.installed
$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "需要 npm (Node.js) 安装 axe-core: apt-get install npm"; exit 1; }
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

$(STAMP): pyproject.toml requirements.lock
	@if [ -z "$(PYTHON)" ]; then echo "需要 Python ≥ 3.11 (Python 3.11 or newer is required)"; exit 1; fi
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[dev]"
	@touch $@

setup: $(STAMP)
	@scripts/system-deps.sh check

migrate: setup
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_reference
	$(BIN)/python manage.py load_subsidy_policies

demo: migrate
	$(BIN)/python manage.py seed_demo

# Serves on http://127.0.0.1:8000. With CELERY_BROKER_URL set, a worker and beat run beside the server.
run: demo
	@if [ -n "$$CELERY_BROKER_URL" ]; then \
		echo "starting a Celery worker with beat on $$CELERY_BROKER_URL"; \
		$(BIN)/celery -A config worker --beat --loglevel=INFO --concurrency=2 & \
	fi; \
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

worker: setup
	$(BIN)/celery -A config worker --beat --loglevel=INFO

test: setup $(NODE_STAMP)
	@scripts/system-deps.sh install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run >/dev/null
	$(BIN)/lint-imports --no-cache
	$(BIN)/pytest -n auto

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Refresh the pinned versions after changing pyproject.toml's ranges.
lock:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade -e ".[dev]"
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^-e' > requirements.lock

bench: setup
	@ls bench/*.py >/dev/null 2>&1 && for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache node_modules
