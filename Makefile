# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(STAMP)

## Serve the demo office from config.toml on http://127.0.0.1:8000 (SQLite in ./instance).
run: $(STAMP)
	$(BIN)/motcua db upgrade
	$(BIN)/motcua demo
	$(BIN)/motcua serve

## Lint (ruff, configured in pyproject.toml), then run the whole test suite.
test: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Benchmarks (figures go to docs/benchmarks.md; never part of the tests).
bench: $(TEST_STAMP)
	$(BIN)/python -m bench.all

clean:
	rm -rf $(VENV) instance .pytest_cache test-results
