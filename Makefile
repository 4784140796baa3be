# Quick start: `make demo` runs the whole system on embedded services; `make test` runs the suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ARGS   ?=

.PHONY: demo test soak test-future lint bench install clean

# Reinstall only when the project's dependency list changes; editable install keeps code live.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' --config-settings editable_mode=compat
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/wrenchlight demo $(ARGS)

# pytest exits 5 when it collects nothing; treat that as the failure it is. Two processes
# (pytest-xdist): most tests wait on brokers, servers and subprocesses rather than the CPU, and
# the longest (a three-minute broker outage) then overlaps the rest.
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist worksteal $(ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$rc

# The long runs the default suite shortens (a three-minute broker outage instead of 20 s);
# `make soak WL_OUTAGE_S=600` stays down longer.
soak: $(STAMP)
	$(BIN)/python -m pytest -m soak $(ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no soak tests" >&2; exit 1; fi; exit $$rc

# The whole suite with the tests' clock a year ahead (WL_CLOCK_SHIFT_DAYS, tests/conftest.py):
# Python's date moves, the database's now() and every sleep stay real.
FUTURE_DAYS ?= 365
test-future: $(STAMP)
	WL_CLOCK_SHIFT_DAYS=$(FUTURE_DAYS) $(BIN)/python -m pytest -n 2 --dist worksteal $(ARGS); rc=$$?; \
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
