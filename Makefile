# `make demo` and `make test` work on a fresh machine: both bootstrap .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SCENARIO ?= 1
SPEED ?= 864
PYTEST_ARGS ?=

.PHONY: venv test test-pg demo lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

# The whole suite on SQLite; set SOCAP_TEST_DATABASE_URL=postgresql://… to run it on PostgreSQL.
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-pg: $(STAMP)
	SOCAP_TEST_DATABASE_URL=$${SOCAP_TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test} \
		$(BIN)/python -m pytest $(PYTEST_ARGS)

demo: $(STAMP)
	$(BIN)/socap demo --scenario $(SCENARIO) --speed $(SPEED) --keep-serving

lint: $(STAMP)
	$(BIN)/ruff check src tests bench

clean:
	rm -rf $(VENV) var .pytest_cache
