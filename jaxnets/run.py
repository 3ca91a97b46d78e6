"""A training run from a `TrainConfig`: data, init, `fit`, progress lines and the files it writes.

`--out DIR` receives `config.json`, `metrics.json` (per-epoch lists) and `params.npz`.
"""

import json
import os
import sys
import time

import jax

from jaxnets.checkpoint import save_params, write_atomic
from jaxnets.config import TrainConfig
from jaxnets.data import Splits
from jaxnets.datasets import load_dataset
from jaxnets.network import init_params
from jaxnets.train import History, data_mesh, fit

RUN_FILES = ("config.json", "metrics.json", "params.npz")


class RunError(ValueError):
  """A run that can't start as asked (its data, its output folder): one line, exit status 2."""


def load_splits(config: TrainConfig) -> Splits:
  """The dataset a config names: bundled MNIST, a TFDS name or `idx:PATH` (`load_dataset`)."""
  return load_dataset(config.dataset, data_dir=config.data_dir)


def prepare_out(out: str | None, force: bool) -> None:
  """Creates `out`, refusing a file or a folder holding an earlier run unless `force`."""
  if out is None:
    return
  if os.path.exists(out) and not os.path.isdir(out):
    raise RunError(f"--out {out!r} is a file; expected a folder (new or empty)")
  earlier = [f for f in RUN_FILES if os.path.exists(os.path.join(out, f))]
  if earlier and not force:
    raise RunError(
      f"--out {out!r} holds an earlier run ({', '.join(earlier)}); pass --force to "
      "overwrite it or choose another folder"
    )
  os.makedirs(out, exist_ok=True)


def epoch_line(epoch: int, metrics: dict[str, float]) -> str:
  """The book's line, "Epoch 0: 9129 / 10000", then validation, cost and seconds."""
  line = f"Epoch {epoch}:"
  if "test_correct" in metrics:
    n_test = (
      round(metrics["test_correct"] / metrics["test_accuracy"]) if metrics["test_accuracy"] else 0
    )
    line += f" {metrics['test_correct']} / {n_test}"
  if "validation_accuracy" in metrics:
    line += f"  validation {metrics['validation_accuracy']:.2%}"
  line += f"  cost {metrics['train_cost']:.4f}  {metrics['epoch_seconds']:.2f} s"
  return line


def write_json(path: str, obj) -> None:
  write_atomic(path, (json.dumps(obj, indent=2) + "\n").encode())


def train(config: TrainConfig, out: str | None = None, force: bool = False, quiet: bool = False):
  """Runs `config`, printing one line per epoch; returns (params, history)."""
  start = time.perf_counter()
  prepare_out(out, force)
  splits = load_splits(config)
  n_in = splits.train.x.shape[1]
  n_classes = int(splits.train.y.max()) + 1
  if config.sizes[0] != n_in:
    raise RunError(
      f"sizes {list(config.sizes)} start with {config.sizes[0]} inputs but "
      f"{config.dataset} examples have {n_in}; expected --sizes {n_in} ..."
    )
  if config.sizes[-1] < n_classes:
    raise RunError(
      f"sizes {list(config.sizes)} end with {config.sizes[-1]} outputs but "
      f"{config.dataset} has {n_classes} classes; expected --sizes ... {n_classes}"
    )
  if config.batch_size > len(splits.train.x):
    raise RunError(
      f"batch_size {config.batch_size} is larger than the {len(splits.train.x)} training examples"
    )
  key = jax.random.key(config.seed)
  init_key, shuffle_key = jax.random.split(key)
  params = init_params(init_key, config.sizes, config.init)
  mesh = data_mesh() if config.data_parallel else None
  if mesh is not None and config.batch_size % mesh.size:
    raise RunError(
      f"batch_size {config.batch_size} can't be split over {mesh.size} devices; "
      f"expected a multiple of {mesh.size}"
    )
  if out is not None:
    write_json(os.path.join(out, "config.json"), config.to_dict())
  if not quiet:
    print(
      f"jaxnets: {list(config.sizes)}, eta {config.eta}, mini-batch {config.batch_size}, "
      f"{config.epochs} epochs, seed {config.seed}, on {jax.devices()[0].platform} "
      f"({len(jax.devices()) if mesh else 1} device(s))",
      flush=True,
    )

  def on_epoch(epoch, params, opt_state, metrics):
    if not quiet:
      print(epoch_line(epoch, metrics), flush=True)

  params, history = fit(
    params,
    splits.train,
    epochs=config.epochs,
    batch_size=config.batch_size,
    key=shuffle_key,
    eta=config.eta,
    validation=splits.validation,
    test=splits.test,
    mesh=mesh,
    on_epoch=on_epoch,
  )
  if out is not None:
    save_params(os.path.join(out, "params.npz"), params)
    write_json(os.path.join(out, "metrics.json"), history.as_dict())
  if not quiet:
    _summary(history, time.perf_counter() - start)
  return params, history


def _summary(history: History, seconds: float) -> None:
  best = max(range(len(history.test_accuracy)), key=lambda e: history.test_accuracy[e])
  print(
    f"best test accuracy {history.test_accuracy[best]:.2%} at epoch {best}, final "
    f"{history.test_accuracy[-1]:.2%}; {sum(history.epoch_seconds):.1f} s training, "
    f"{seconds:.1f} s in all",
    file=sys.stdout,
    flush=True,
  )
