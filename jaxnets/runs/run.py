"""A training run from a `TrainConfig`: data, initial network, `fit`, progress, and its files.

`--out DIR` receives `config.json`, `checkpoint.npz` (params, optimizer state, PRNG key, epoch,
config and history: every `checkpoint_every` epochs and at the end), `metrics.json` (per-epoch
lists), `curves.png` (learning curves) and `params.npz` (the final network). Every file is
written atomically, so a run killed at any moment leaves its last complete checkpoint loadable,
and `resume=True` continues it to exactly the parameters an uninterrupted run ends with.
"""

import contextlib
import io
import json
import math
import os
import signal
import sys
import threading
import time

import jax
import numpy as np

from jaxnets.runs.checkpoint import (
  Checkpoint,
  CheckpointError,
  load_checkpoint,
  load_params,
  save_checkpoint,
  save_params,
  write_atomic,
)
from jaxnets.runs.config import ConfigError, TrainConfig
from jaxnets.data import Dataset, Splits, load_dataset
from jaxnets.network import Params, init_params, layer_sizes
from jaxnets._checks import check_dataset
from jaxnets.train import History, TrainingDiverged, data_mesh, fit

RUN_FILES = ("config.json", "checkpoint.npz", "metrics.json", "curves.png", "params.npz")
CHECKPOINT = "checkpoint.npz"


class RunError(ValueError):
  """A run that can't start as asked (its data, its output folder): one line, exit status 2."""


class RunDiverged(RuntimeError):
  """Training hit NaN or Inf; the last good checkpoint was kept."""


class RunInterrupted(RuntimeError):
  """SIGINT or SIGTERM stopped the run after saving a checkpoint."""

  def __init__(self, signum: int, message: str):
    super().__init__(message)
    self.signum = signum


def load_splits(config: TrainConfig) -> Splits:
  """The dataset a config names, cut to `config.train_size` training examples if set."""
  splits = load_dataset(config.dataset, data_dir=config.data_dir)
  if config.train_size is not None:
    n = len(splits.train.x)
    if config.train_size > n:
      raise RunError(
        f"train_size {config.train_size} is larger than the {n} training examples "
        f"of {config.dataset}"
      )
    splits = splits._replace(train=Dataset(*(a[: config.train_size] for a in splits.train)))
  return splits


def check_out(out: str | None, force: bool, resume: bool) -> None:
  """Refuses an `out` that is a file, or holds an earlier run unless `force` or `resume`."""
  if out is None:
    if resume:
      raise RunError("--resume needs --out, the folder of the run to continue")
    return
  if os.path.exists(out) and not os.path.isdir(out):
    raise RunError(f"--out {out!r} is a file; expected a folder (new or empty)")
  if resume:
    if not os.path.exists(os.path.join(out, CHECKPOINT)):
      raise RunError(f"--resume: {out!r} holds no {CHECKPOINT} to continue from")
    return
  earlier = [f for f in RUN_FILES if os.path.exists(os.path.join(out, f))]
  if earlier and not force:
    raise RunError(
      f"--out {out!r} holds an earlier run ({', '.join(earlier)}); pass --resume to continue "
      "it, --force to overwrite it, or choose another folder"
    )


def resume_config(out: str) -> TrainConfig:
  """The config saved in `out`'s checkpoint."""
  ckpt = load_checkpoint(os.path.join(out, CHECKPOINT))
  try:
    return TrainConfig.from_dict(ckpt.config)
  except ConfigError as e:
    raise CheckpointError(f"checkpoint in {out!r} holds an invalid config: {e}") from e


def initial_params(config: TrainConfig, key: jax.Array) -> Params:
  """Random parameters, or `config.init_from`'s network (with a new output layer if asked).

  Transfer learning: when the saved network's last size differs from `config.sizes[-1]`, or
  `reinit_output` is set, its hidden layers are kept and the output layer is drawn afresh.
  """
  if config.init_from is None:
    return init_params(key, config.sizes, config.init)
  params = load_params(config.init_from)
  saved = layer_sizes(params)
  want = tuple(config.sizes)
  if saved == want and not config.reinit_output:
    return params
  if saved[:-1] == want[:-1]:
    return params[:-1] + init_params(key, want[-2:], config.init)
  raise CheckpointError(
    f"--init-from {config.init_from!r} holds a network of sizes {list(saved)} but the run has "
    f"sizes {list(want)}; expected the same sizes, or the same up to the output layer "
    "(transfer learning)"
  )


def epoch_line(epoch: int, metrics: dict[str, float], n_test: int) -> str:
  """The book's line, "Epoch 0: 9129 / 10000", then validation accuracy, cost and seconds."""
  line = f"Epoch {epoch}:"
  if "test_correct" in metrics:
    line += f" {metrics['test_correct']} / {n_test}"
  if "validation_accuracy" in metrics:
    line += f"  validation {metrics['validation_accuracy']:.2%}"
  return line + f"  cost {metrics['train_cost']:.4f}  {metrics['epoch_seconds']:.2f} s"


def write_json(path: str, obj) -> None:
  """Writes JSON atomically; NaN (a metric an epoch lacks) becomes null."""

  def clean(v):
    if isinstance(v, float) and not math.isfinite(v):
      return None
    if isinstance(v, list):
      return [clean(x) for x in v]
    if isinstance(v, dict):
      return {k: clean(x) for k, x in v.items()}
    return v

  write_atomic(path, (json.dumps(clean(obj), indent=2) + "\n").encode())


def preload_plotting() -> threading.Thread:
  """Imports matplotlib in a background thread (0.4 s of CPU) while the device trains, so that
  `write_curves` at the end of a run does not wait for it. Started after the first epoch, whose
  tracing and compiling need the Python interpreter."""

  def load():
    with contextlib.suppress(Exception):  # write_curves imports it again and reports any error
      import matplotlib

      matplotlib.use("Agg")
      import matplotlib.figure  # noqa: F401
      import matplotlib.ticker  # noqa: F401

  thread = threading.Thread(target=load, name="jaxnets-preload-matplotlib", daemon=True)
  thread.start()
  return thread


def write_curves(path: str, history: History, title: str) -> None:
  """The learning curves as a PNG: training cost, and validation and test accuracy per epoch."""
  import matplotlib

  matplotlib.use("Agg")
  from matplotlib.figure import Figure
  from matplotlib.ticker import MaxNLocator

  fig = Figure(figsize=(9, 3.5), layout="constrained")
  cost_ax, acc_ax = fig.subplots(1, 2)
  epochs = np.arange(len(history.train_cost))
  cost_ax.plot(epochs, history.train_cost, label="training (mean over the epoch)")
  cost_ax.plot(epochs, history.validation_cost, label="validation")
  cost_ax.set(xlabel="epoch", ylabel="quadratic cost", title="cost")
  acc_ax.plot(epochs, np.array(history.validation_accuracy) * 100, label="validation")
  acc_ax.plot(epochs, np.array(history.test_accuracy) * 100, label="test")
  acc_ax.set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy")
  for ax in (cost_ax, acc_ax):
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    ax.legend()
  fig.suptitle(title)
  buffer = io.BytesIO()
  fig.savefig(buffer, format="png", dpi=100)
  write_atomic(path, buffer.getvalue())


class Progress:
  """Per-epoch output: a tqdm bar on a terminal, plain lines otherwise, nothing when quiet."""

  def __init__(self, mode: str, total: int, initial: int):
    if mode == "auto":
      mode = "bar" if sys.stderr.isatty() else "lines"
    self.mode = mode
    self.bar = None
    if mode == "bar":
      from tqdm import tqdm

      self.bar = tqdm(total=total, initial=initial, unit="epoch", dynamic_ncols=True)

  def print(self, line: str) -> None:
    if self.bar is not None:
      self.bar.write(line)
    elif self.mode == "lines":
      print(line, flush=True)

  def epoch(self, line: str, metrics: dict[str, float]) -> None:
    self.print(line)
    if self.bar is not None:
      self.bar.set_postfix(
        test=f"{metrics.get('test_accuracy', math.nan):.2%}", cost=f"{metrics['train_cost']:.4f}"
      )
      self.bar.update(1)

  def close(self) -> None:
    if self.bar is not None:
      self.bar.close()


@contextlib.contextmanager
def stop_on_signals():
  """While inside, SIGINT and SIGTERM set `flag["signum"]` instead of killing the process."""
  flag = {"signum": None}
  if threading.current_thread() is not threading.main_thread():
    yield flag
    return

  def handler(signum, frame):
    flag["signum"] = signum

  previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
  try:
    yield flag
  finally:
    for s, h in previous.items():
      signal.signal(s, h)


def train(
  config: TrainConfig,
  out: str | None = None,
  *,
  force: bool = False,
  resume: bool = False,
  progress: str = "auto",
) -> tuple[Params, History]:
  """Runs `config`: checks everything first, then trains, checkpoints and writes its files.

  Args:
    config: the run.
    out: folder for the run's files (None: write nothing).
    force: overwrite an earlier run in `out`.
    resume: continue the run checkpointed in `out` up to `config.epochs`.
    progress: "auto" (a bar on a terminal, else lines), "bar", "lines" or "quiet".

  Returns:
    (params, history) of the whole run, resumed epochs included.
  """
  start = time.perf_counter()
  check_out(out, force, resume)
  splits = load_splits(config)
  sizes = config.sizes
  n_in, n_train = splits.train.x.shape[1], len(splits.train.x)
  n_classes = int(splits.train.y.max()) + 1
  if sizes[0] != n_in:
    raise RunError(
      f"sizes {list(sizes)} start with {sizes[0]} inputs but {config.dataset} "
      f"examples have {n_in}; expected --sizes {n_in} ..."
    )
  if sizes[-1] < n_classes:
    raise RunError(
      f"sizes {list(sizes)} end with {sizes[-1]} outputs but {config.dataset} has "
      f"{n_classes} classes; expected --sizes ... {n_classes}"
    )
  if config.batch_size > n_train:
    raise RunError(f"batch_size {config.batch_size} is larger than the {n_train} training examples")
  mesh = data_mesh() if config.data_parallel else None
  if mesh is not None and config.batch_size % mesh.size:
    raise RunError(
      f"batch_size {config.batch_size} can't be split over {mesh.size} devices; "
      f"expected a multiple of {mesh.size}"
    )

  init_key, shuffle_key = jax.random.split(jax.random.key(config.seed))
  optimizer = config.make_optimizer()
  history = History()
  if resume:
    ckpt = load_checkpoint(
      os.path.join(out, CHECKPOINT),  # the optimizer state's structure, nothing computed:
      jax.eval_shape(lambda: optimizer.init(init_params(init_key, sizes, config.init))),
    )
    if tuple(ckpt.config["sizes"]) != sizes or layer_sizes(ckpt.params) != sizes:
      raise CheckpointError(
        f"checkpoint in {out!r} has sizes {list(layer_sizes(ckpt.params))} "
        f"but the run has sizes {list(sizes)}"
      )
    params, opt_state, done = ckpt.params, ckpt.opt_state, ckpt.epoch
    history = History.from_dict(ckpt.history)
    if done >= config.epochs:
      raise RunError(
        f"--resume: the run in {out!r} has already done {done} of {config.epochs} "
        f"epochs; pass --epochs N with N > {done} to train further"
      )
  else:
    params, opt_state, done = initial_params(config, init_key), None, 0
  for name, data in (
    ("training", splits.train),
    ("validation", splits.validation),
    ("test", splits.test),
  ):
    try:
      check_dataset(layer_sizes(params), data, f"{config.dataset} {name} data")
    except ValueError as e:
      raise RunError(str(e)) from e

  if out is not None:  # Everything checked: only now is anything written.
    os.makedirs(out, exist_ok=True)
    if force and not resume:  # no stale checkpoint of the old run may outlive it
      for name in RUN_FILES:
        with contextlib.suppress(FileNotFoundError):
          os.remove(os.path.join(out, name))
    write_json(os.path.join(out, "config.json"), config.to_dict())
  report = Progress(progress, total=config.epochs, initial=done)
  report.print(
    f"jaxnets: {list(sizes)}, eta {config.eta}, mini-batch {config.batch_size}, "
    f"{config.epochs} epochs, seed {config.seed}, {config.optimizer}, {n_train} training "
    f"examples, on {jax.devices()[0].platform} ({mesh.size if mesh else 1} device(s))"
    + (f"; resuming after epoch {done - 1}" if done else "")
  )
  last_saved = {"epoch": done}

  def checkpoint(params, opt_state, epochs_done):
    if out is not None and last_saved["epoch"] != epochs_done:
      save_checkpoint(
        os.path.join(out, CHECKPOINT),
        Checkpoint(
          params, opt_state, epochs_done, shuffle_key, config.to_dict(), history.as_dict()
        ),
      )
      last_saved["epoch"] = epochs_done

  def write_metrics():
    if out is not None:
      write_json(os.path.join(out, "metrics.json"), history.as_dict())

  with stop_on_signals() as stop:

    def on_epoch(epoch, params, opt_state, metrics):
      if out is not None and epoch == done:  # after this process's first epoch and its compiling
        preload_plotting()
      history.append(metrics)
      report.epoch(epoch_line(epoch, metrics, len(splits.test.x)), metrics)
      last = epoch + 1 == config.epochs
      if (epoch + 1) % config.checkpoint_every == 0 or last or stop["signum"]:
        checkpoint(params, opt_state, epoch + 1)
      if stop["signum"]:
        write_metrics()
        raise RunInterrupted(
          stop["signum"],
          (
            f"stopped by {signal.Signals(stop['signum']).name} after epoch {epoch}"
            + (f"; checkpoint saved: resume with --resume --out {out}" if out else "")
          ),
        )

    try:
      params, _ = fit(
        params,
        splits.train,
        epochs=config.epochs - done,
        batch_size=config.batch_size,
        key=shuffle_key,
        optimizer=optimizer,
        opt_state=opt_state,
        validation=splits.validation,
        test=splits.test,
        start_epoch=done,
        mesh=mesh,
        on_epoch=on_epoch,
      )
    except TrainingDiverged as e:
      write_metrics()
      kept = (
        f"; the last good checkpoint (after {last_saved['epoch']} epochs) is "
        f"{os.path.join(out, CHECKPOINT)}"
        if out and last_saved["epoch"]
        else ""
      )
      raise RunDiverged(f"{e}{kept}") from e
    finally:
      report.close()

  if out is not None:
    save_params(os.path.join(out, "params.npz"), params)
    write_metrics()
    write_curves(
      os.path.join(out, "curves.png"),
      history,
      f"{list(sizes)}, η = {config.eta}, mini-batch {config.batch_size}, seed {config.seed}",
    )
  best = int(np.nanargmax(history.test_accuracy))
  report.print(
    f"best test accuracy {history.test_accuracy[best]:.2%} at epoch {best}, final "
    f"{history.test_accuracy[-1]:.2%}; {sum(history.epoch_seconds):.1f} s training, "
    f"{time.perf_counter() - start:.1f} s in all"
  )
  return params, history
