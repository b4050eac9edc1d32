# CoopMatch: `make run` serves the demo, `make test` runs every test. See README.md.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app web
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install run test lint bench clean

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

clean:
	rm -rf $(VENV) instance test-output .pytest_cache
