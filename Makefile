# CoopMatch: `make run` serves the demo, `make test` runs every test. See README.md.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app web
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install run test lint fuzz bench bench-all clean

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

install: $(VENV)/.installed

# axe-core for the browser tests' accessibility checks, pinned in tests/package-lock.json.
AXE := tests/node_modules/axe-core/axe.min.js
$(AXE): tests/package.json tests/package-lock.json
	npm ci --prefix tests --no-audit --no-fund --loglevel=error
	touch $@

run: install
	$(FLASK) db upgrade
	$(FLASK) load-demo --if-empty
	$(FLASK) rebuild-matches
	$(FLASK) demo-accounts
	$(FLASK) run --host $(HOST) --port $(PORT)

test: install $(AXE)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# schemathesis over /api/v1/openapi.json (staff and partner tokens, every phase) against
# `make run`'s server, then an export/import round trip: a random seed, printed first.
# Replay one with `make fuzz FUZZ_ARGS="--seed N"`.
FUZZ_ARGS ?= --max-examples 100
fuzz: install
	$(BIN)/python scripts/fuzz_api.py $(FUZZ_ARGS)

bench: install
	$(BIN)/python bench/rank_speed.py

# Every benchmark; the database ones need the PostgreSQL server of TEST_DATABASE_URL.
bench-all: bench
	$(BIN)/python bench/evaluate_bilingual.py
	$(BIN)/python bench/evaluate_bilingual.py --data bench/data/bilingual_unseen
	$(BIN)/python bench/profile_mix.py
	$(BIN)/python bench/rebuild_speed.py
	$(BIN)/python bench/queue_speed.py
	$(BIN)/python bench/digest_speed.py
	$(BIN)/python bench/load.py
	$(BIN)/python bench/load.py --restart-redis-at 40
	$(BIN)/python bench/opportunities_speed.py
	$(BIN)/python bench/feed_import.py
	$(BIN)/python bench/quality_speed.py
	$(BIN)/python bench/retrain_run.py
	$(BIN)/python bench/retrain_run.py --data ../shared/benchdata/iati_covid_donors/dev

# Style and the layer contract (pyproject.toml [tool.importlinter]); CI runs it before the tests.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) instance test-output .pytest_cache tests/node_modules
