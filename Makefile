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
# Two phases: the parallel-safe tests on TEST_WORKERS processes (pytest-xdist; on PostgreSQL each worker has
# a database of its own, <name>_gw0, …), then the tests marked `serial` alone — threaded engines on a virtual
# clock, process clusters, the browser — which measure the machine if it is busy. Either phase failing, or
# collecting no test (pytest's exit 5), fails the target. With PYTEST_ARGS set, one plain pytest run.
TEST_WORKERS ?= 3
test: $(STAMP)
ifeq ($(strip $(PYTEST_ARGS)),)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not serial"
	$(BIN)/python -m pytest -m serial
else
	$(BIN)/python -m pytest $(PYTEST_ARGS)
endif

test-pg: $(STAMP)
	SOCAP_TEST_DATABASE_URL=$${SOCAP_TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test} \
		$(MAKE) --no-print-directory test

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
