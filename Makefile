# `make train` and `make test` work on a fresh clone: they create .venv and install jaxnets first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
TEST_STAMP := $(VENV)/.installed-test-stamp

.PHONY: train test lint format bench experiments study clean device-check device-deps \
  test-newest test-oldest docs

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

## The device check (jaxnets/bench/device/): the devices and versions, the suite's
## device-facing tests, the book's run against the CPU's, speed against PyTorch, populations up
## to M = 4096 and the largest that fits, in under 8 minutes on one GPU; into
## results/device/DEVICE (json, png, txt). DEVICE=gpu unless given (DEVICE=cpu: the same check);
## QUICK=1: a run of seconds. It installs nothing: the working tree (PYTHONPATH=.) on the
## machine's Python and JAX (this checkout's venv where there is one); pytest from .device-deps
## where the machine lacks it.
CHECK_DEVICE = $(if $(filter file undefined,$(origin DEVICE)),gpu,$(DEVICE))
DEVICE_PYTHON ?= $(if $(wildcard $(PY)),$(PY),python3)
device-check:
	PYTHONPATH=. $(DEVICE_PYTHON) -m jaxnets.bench.device --device $(CHECK_DEVICE) \
	  --out results/device/$(CHECK_DEVICE) $(if $(QUICK),--quick)

## pytest and its pure-Python dependencies (for Python 3.12, as the lent GPU's) in .device-deps,
## for a machine that has JAX but no pytest: carry .device-deps along and device-check finds it.
device-deps:
	rm -rf .device-deps
	$(PYTHON) -m pip install --quiet --target .device-deps --python-version 3.12 \
	  --only-binary=:all: --no-compile pytest pluggy iniconfig packaging hypothesis

## The suite on the newest stack: Debian 13's Python 3.13 and the newest JAX, in a chroot built
## once with debootstrap (as root; cached in /var/cache/jaxnets-newest). See .ci/test-newest.
test-newest:
	$(PYTHON) .ci/test-newest

## The suite on the oldest JAX the package claims (jax, jaxlib, optax and chex at pyproject's
## lower bounds) with this machine's python3, in .venv-oldest. See .ci/test-oldest.
test-oldest:
	$(PYTHON) .ci/test-oldest

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

## README.md and docs/*.md from docs/src/*.md and the numbers under results/ (docs/generate.py).
docs: $(STAMP)
	$(PY) docs/generate.py
