# `make train` and `make test` work on a fresh clone: they create .venv and install jaxnets first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
TEST_STAMP := $(VENV)/.installed-test-stamp

.PHONY: train test lint format bench experiments study clean

# jaxnets and its dependencies (about 1 GB): all that training needs.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The tests also prepare and read TFDS datasets (the tfds extra: TensorFlow, about 1.4 GB more)
# and check the benchmark's PyTorch baseline against sgd_step (the bench extra: CPU PyTorch).
$(TEST_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,tfds,bench]'
	touch $(TEST_STAMP)

## The book's run: [784, 30, 10], eta 3.0, mini-batch 10, 30 epochs, on the bundled MNIST.
train: $(STAMP)
	$(PY) -m jaxnets train --sizes 784 30 10 --epochs 30 --batch-size 10 --eta 3.0 --seed 0 \
	  --out runs/book --force

## Every experiment of chapter 1 (experiments/e1_*.py ... e9_*.py), full size: each writes
## results/<name>/results.json and its plots. Add SEED=n for another seed.
experiments: $(STAMP)
	for e in experiments/e[1-9]_*.py; do $(PY) $$e --seed $(or $(SEED),0) || exit 1; done

## The [784, 100, 10] question (experiments/study_wide_net.py, not part of `make experiments`):
## 32 seeds in float32 and in float64 from the same start, 30 epochs each. Writes
## results/study_wide_net/. Add SEED=n for another first seed.
study: $(STAMP)
	$(PY) experiments/study_wide_net.py --seed $(or $(SEED),0)

## The test suite, in parallel over the machine's cores (pytest-xdist).
test: $(TEST_STAMP)
	$(PY) -m pytest -n auto

## Seconds per epoch on DEVICE (cpu, gpu, tpu) vs NumPy and PyTorch: a table, results/bench/*.json, *.png.
DEVICE ?= cpu
bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,bench]' || echo "PyTorch not installed: benchmarking without it"
	$(PY) -m jaxnets bench --device $(DEVICE) --out results/bench

## ruff (lint and layout), mypy (types) on the package, import-linter (the layers: pyproject.toml).
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache
