# cica-ld: `make demo` sets up and runs the main job on the embedded dataset; `make test` sets
# up and runs the tests. Both create .venv from scratch when needed and are idempotent.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
JS_DIR := tests/js
# An editable install leaves the package uncompiled, and with PYTHONDONTWRITEBYTECODE set (as on
# this machine class) every start would compile it again (~25 ms); pip compiles a wheel at install.
BYTECODE := $(BIN)/python -m compileall -q cica_ld

.PHONY: demo test lint format bench clean install

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BYTECODE)
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

# jsonld.js for the JSON-LD round-trip tests (npm registry; versions pinned by package-lock.json)
$(JS_DIR)/node_modules/.stamp: $(wildcard $(JS_DIR)/package.json $(JS_DIR)/package-lock.json)
	@if [ -f $(JS_DIR)/package.json ] && command -v npm >/dev/null 2>&1; then \
		cd $(JS_DIR) && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.stamp; \
	else mkdir -p $(JS_DIR)/node_modules && touch $(JS_DIR)/node_modules/.stamp; fi

demo: $(STAMP)
	$(BIN)/cica-ld queries
	$(BIN)/cica-ld query members
	$(BIN)/cica-ld query chairs
	$(BIN)/cica-ld query member-count
	$(BIN)/cica-ld validate

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: $(STAMP) $(JS_DIR)/node_modules/.stamp lint
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BYTECODE)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache $(JS_DIR)/node_modules
