# make demo: set up .venv and run the policy comparison (report under results/policy_comparison/report/).
# make test: set up .venv with the dev extra, run ruff (lint and format check) and pytest.
# make golden: rewrite the golden test's reference tables (only for a change meant to move results).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo run test bench golden clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/distretto experiment policy_comparison --out results/policy_comparison

run: $(STAMP)
	$(BIN)/distretto run baseline --seed 1 --out results/baseline

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
