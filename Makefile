# CoopMatch: `make run` serves the demo, `make test` runs every test. See README.md.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app web
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install run test lint bench bench-all clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

install: $(VENV)/.installed

run: install
	$(FLASK) db upgrade
	$(FLASK) load-demo --if-empty
	$(FLASK) rebuild-matches
	$(FLASK) demo-accounts
	$(FLASK) run --host $(HOST) --port $(PORT)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

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
	$(BIN)/python bench/feed_import.py

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) instance test-output .pytest_cache
