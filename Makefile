# Every target sets up what it needs first: a virtual environment in .venv with the package and
# its dev extras, re-installed when pyproject.toml changes.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: setup run demo test lint benchmark ui clean-venv

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

## The main job on the real IMDB reviews: download (or IMDB_ARCHIVE=/path/to/archive), then dvc repro.
run: $(STAMP)
	sentiment fetch
	dvc repro

## The same pipeline on synthetic reviews, offline, in about four minutes on 2 cores.
demo: $(STAMP)
	sentiment fetch --synthetic
	dvc repro

test: $(STAMP)
	$(BIN)/python -m pytest

## Speed and accuracy figures on the shared IMDB archive (../shared/data/imdb), written to
## BENCHMARKS.md (training all variants takes about 15 minutes on 2 cores).
benchmark: $(STAMP)
	$(BIN)/python benchmarks/preprocessing.py
	$(BIN)/python benchmarks/validation.py
	$(BIN)/python benchmarks/training.py
	$(BIN)/python benchmarks/serving.py

## The MLflow UI on the project's tracking store (the training runs, the registered model).
ui: $(STAMP)
	mlflow ui --backend-store-uri sqlite:///mlflow.db

lint: $(STAMP)
	$(BIN)/ruff check src flows tests benchmarks
	$(BIN)/ruff format --check src flows tests benchmarks
	$(BIN)/mypy

clean-venv:
	rm -rf $(VENV)
