# netpol developer entry points. `make demo` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test lint typecheck unit bench components wheel clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Run netpol init + scaffold on a temporary copy of examples/home-ops.
demo: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/demo.sh

## Lint, type-check and run the test suite.
test: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check scaffolder tests benchmarks
	$(BIN)/ruff format --check scaffolder tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/python -m pytest

## Performance targets (not part of `make test`).
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

## Re-render components/ from copier-templates/ with default answers.
components: $(STAMP)
	$(BIN)/python -m scaffolder.dev render-components components

wheel: $(STAMP)
	$(BIN)/python -m build --wheel --no-isolation --outdir dist .

clean:
	rm -rf $(VENV) dist build .pytest_cache .mypy_cache .ruff_cache
