# Quick start: `make demo` runs the whole system on embedded services; `make test` runs the suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ARGS   ?=

.PHONY: demo test soak test-future test-embedded test-timescale lint bench install clean

# Reinstall only when the project's dependency list changes; editable install keeps code live.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' --config-settings editable_mode=compat
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/wrenchlight demo $(ARGS)

# The whole suite in a shuffled order (pytest-random-order, one bucket: any test may follow any
# other), so a test that leans on what another left behind fails. The seed is printed; rerun an
# order with `make test WL_ORDER_SEED=N`. Every xdist worker must shuffle with the same seed or
# their collections differ, so it is drawn here, once, rather than by each worker.
ifndef WL_ORDER_SEED
WL_ORDER_SEED := $(shell od -An -N3 -tu4 /dev/urandom | tr -d ' ')
endif
SHUFFLE := --random-order-bucket=global --random-order-seed=$(WL_ORDER_SEED)

# pytest exits 5 when it collects nothing; treat that as the failure it is. Four processes
# (pytest-xdist) on two cores: most tests wait on brokers, servers and subprocesses rather than
# the CPU (a whole run keeps the cores ~40 % busy with two), and the long ones start first on
# each (tests/conftest.py) so that none of them ends the run alone. TEST_WORKERS=2 for fewer.
TEST_WORKERS ?= 4
test: $(STAMP)
	@echo "test order seed: WL_ORDER_SEED=$(WL_ORDER_SEED)"
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal $(SHUFFLE) $(ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$rc

# The long runs the default suite shortens (a three-minute broker outage instead of 20 s);
# `make soak WL_OUTAGE_S=600` stays down longer.
soak: $(STAMP)
	$(BIN)/python -m pytest -m soak $(ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no soak tests" >&2; exit 1; fi; exit $$rc

# The whole suite with the tests' clock a year ahead (WL_CLOCK_SHIFT_DAYS, tests/conftest.py):
# Python's date moves, the database's now() and every sleep stay real. Shuffled like `test`.
FUTURE_DAYS ?= 365
test-future: $(STAMP)
	@echo "test order seed: WL_ORDER_SEED=$(WL_ORDER_SEED)"
	WL_CLOCK_SHIFT_DAYS=$(FUTURE_DAYS) $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal $(SHUFFLE) \
	  $(ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$rc

# The storage `make demo` uses when no URL is set: the database, ingest and orders tests with
# TEST_DATABASE_URL unset, so each worker starts the embedded PostgreSQL 18 (tests/conftest.py),
# required to take the plain-PostgreSQL path. Two workers: each runs a server of its own.
EMBEDDED_TESTS   ?= tests/db tests/ingest tests/orders
EMBEDDED_WORKERS ?= 2
test-embedded: $(STAMP)
	@echo "test order seed: WL_ORDER_SEED=$(WL_ORDER_SEED)"
	env -u TEST_DATABASE_URL WL_EXPECT_TIMESCALEDB=0 $(BIN)/python -m pytest -n $(EMBEDDED_WORKERS) \
	  --dist worksteal $(SHUFFLE) $(EMBEDDED_TESTS) $(ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$rc

# The whole suite against a real TimescaleDB (TEST_DATABASE_URL; README's Testing section has a
# recipe): tests/db/test_migrations.py fails unless the migrations took the TimescaleDB path.
test-timescale: $(STAMP)
	@test -n "$$TEST_DATABASE_URL" || { echo "set TEST_DATABASE_URL to a TimescaleDB server" >&2; exit 2; }
	@echo "test order seed: WL_ORDER_SEED=$(WL_ORDER_SEED)"
	WL_EXPECT_TIMESCALEDB=1 $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal $(SHUFFLE) \
	  $(ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$rc

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

# The benchmarks (benchmarks/, see BENCHMARKS.md) run from this checkout: the wheel leaves them out.
bench: $(STAMP)
	$(BIN)/wrenchlight bench all $(ARGS)

clean:
	rm -rf $(VENV) .wrenchlight .pytest_cache .ruff_cache .mypy_cache *.egg-info
