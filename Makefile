# make demo: set up .venv and run the policy comparison (report under results/policy_comparison/report/).
# make view: set up .venv with the viz extra and serve the student view (distretto view; VIEW_ARGS="--port 8800").
# make test: set up .venv with the dev extra, run ruff (lint and format check) and pytest.
# make golden: rewrite the golden test's reference tables (only for a change meant to move results).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VIEW_STAMP := $(VENV)/.installed-viz
VIEW_ARGS ?=

.PHONY: demo run view test bench golden clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

$(VIEW_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[viz]"
	touch $(VIEW_STAMP)

demo: $(STAMP)
	$(BIN)/distretto experiment policy_comparison --out results/policy_comparison

run: $(STAMP)
	$(BIN)/distretto run baseline --seed 1 --out results/baseline

view: $(VIEW_STAMP)
	$(BIN)/distretto view $(VIEW_ARGS)

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

golden: $(STAMP)
	$(BIN)/python tests/test_golden.py --regenerate

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_scale.py
	$(BIN)/python benchmarks/bench_runner.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
