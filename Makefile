# `make demo` and `make test` work on a fresh machine: both bootstrap .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SCENARIO ?= 1
SPEED ?= 864
PYTEST_ARGS ?=

.PHONY: venv test test-pg demo lint bench clean

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

# Every benchmark, one JSON table on stdout (bench/README.md): ~30 min; QUICK=1 smaller sizes, a few minutes.
# PostgreSQL at 127.0.0.1:5432 (SOCAP_BENCH_PG_SERVER), databases socap_bench_runner_* only.
# stdout carries only the JSON: the venv's bootstrap (if any) reports on stderr.
bench:
	@$(MAKE) --no-print-directory -s venv >&2
	@$(BIN)/python bench/run_all.py $(if $(QUICK),--quick)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench

clean:
	rm -rf $(VENV) var .pytest_cache
