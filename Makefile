# Every target sets up what it needs first: a virtual environment in .venv with exactly the versions
# pinned in requirements.lock (the package's dependencies and its dev extras, each with its hashes),
# then the package itself, editable. It is re-installed when pyproject.toml or requirements.lock changes.
#
# requirements.lock pins every dependency, so a fresh machine installs what was tested. After changing
# the dependencies in pyproject.toml, run `make lock`: it re-resolves with uv (installed from PyPI into
# .cache/lock-tools, pinned below), keeping every pin already in the lock that still fits and adding only
# what is new. To move pins on: `make lock LOCK_FLAGS=--upgrade` (everything) or
# `make lock LOCK_FLAGS="--upgrade-package mlflow"` (one package and what it needs).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements.lock
# The installers, pinned too: pip in the project's venv, setuptools to build the editable package
# (pyproject's build-system), uv to write the lock.
PIP_VERSION := 26.3
BUILD_SETUPTOOLS_VERSION := 84.2.1
UV_VERSION := 0.13.9
LOCK_TOOLS := .cache/lock-tools
LOCK_FLAGS ?=

export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: setup lock run demo test test-fast test-slow test-all lint benchmark ui clean-venv

setup: $(STAMP)

$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet pip==$(PIP_VERSION)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	echo "setuptools==$(BUILD_SETUPTOOLS_VERSION)" > $(VENV)/build-constraints.txt
	$(BIN)/python -m pip install --quiet --no-deps --build-constraint $(VENV)/build-constraints.txt -e .
	$(BIN)/python -m pip check
	touch $(STAMP)

## Re-resolve requirements.lock from pyproject.toml (its dependencies and the dev extra), for every
## platform, Python 3.11, with the hashes of every file; see the comment at the top.
lock:
	test -x $(LOCK_TOOLS)/bin/uv || ( $(PYTHON) -m venv $(LOCK_TOOLS) && \
		$(LOCK_TOOLS)/bin/python -m pip install --quiet uv==$(UV_VERSION) )
	$(LOCK_TOOLS)/bin/uv pip compile pyproject.toml --extra dev --universal --generate-hashes \
		--custom-compile-command "make lock" --quiet $(LOCK_FLAGS) -o $(LOCK)

## The main job on the real IMDB reviews: download (or IMDB_ARCHIVE=/path/to/archive), then dvc repro.
run: $(STAMP)
	sentiment fetch
	dvc repro

## The same pipeline on synthetic reviews, offline (about 5 minutes on 2 cores, 2026-12-02: see README).
demo: $(STAMP)
	sentiment fetch --synthetic
	dvc repro

## The test suite: every test not marked `slow` (the unit tier; real dvc repro, MLflow, Great
## Expectations and the Prefect harness on tiny data), under ten minutes on 2 cores.
test: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

## The unit tier only (tests/unit): pure functions, no training, no servers.
test-fast: $(STAMP)
	$(BIN)/python -m pytest tests/unit -q

## The tests marked `slow`: whole pipelines trained with dvc repro, real Prefect and MLflow servers,
## deployments and workers, Dask clusters, processes killed at every stage and registry write (about
## half an hour on 2 cores). CI runs them after `make test`.
test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow

## Every test.
test-all: $(STAMP)
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
	@echo "MLflow UI: http://127.0.0.1:5000/#/experiments/1?workflowType=machine_learning (the training runs)"
	mlflow ui --backend-store-uri sqlite:///mlflow.db

lint: $(STAMP)
	$(BIN)/ruff check src flows tests benchmarks
	$(BIN)/ruff format --check src flows tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports --no-logo

clean-venv:
	rm -rf $(VENV)
