"""A run's record: `fit`'s `on_epoch` callback that keeps the run's folder, progress and signals.

`Recorder(out, ...)` used as `fit(..., on_epoch=rec)` inside `with rec:` writes into `out`:
`config.json`, `checkpoint.npz` (params, optimizer state, PRNG key, epoch, config, history: every
`checkpoint_every` epochs and at the end), `metrics.json` (per-epoch lists), and on `finish`,
`params.npz` and `curves.png`. Every file is written atomically, so a run killed
at any moment leaves its last complete checkpoint loadable. While inside `with`, the first SIGINT
or SIGTERM ends the run after the current epoch, checkpointed; a second one ends it at once.
It works from a notebook or an experiment as from the command line:

    with Recorder("runs/a", key=shuffle_key, config={"eta": 3.0}) as rec:
      params, history = jn.fit(params, train, epochs=30, batch_size=10, key=shuffle_key,
                               test=test, on_epoch=rec)
      rec.finish(params)
"""

import contextlib
import os
import signal
import time
from typing import Any

import jax
import numpy as np

from jaxnets._files import write_json
from jaxnets.history import History
from jaxnets.runs.checkpoint import Checkpoint, save_checkpoint, save_params
from jaxnets.runs.folder import CHECKPOINT, RUN_FILES
from jaxnets.runs.plots import preload_plotting, write_curves
from jaxnets.runs.progress import Progress, epoch_line, spread
from jaxnets.runs.signals import Aborted, interruptible_wait, stop_on_signals


class RunDiverged(RuntimeError):
  """Training hit NaN or Inf; the last good checkpoint was kept."""


class RunInterrupted(RuntimeError):
  """SIGINT or SIGTERM stopped the run: after its epoch, checkpointed, or `at_once` (a second
  signal), the epoch in progress lost."""

  def __init__(self, signum: int, message: str, at_once: bool = False):
    super().__init__(message)
    self.signum, self.at_once = signum, at_once


class RunWriteFailed(RuntimeError):
  """A file of the run could not be written (no space, read-only, ...); the last complete
  checkpoint was kept."""


class Recorder:
  """Checkpoints, metrics, progress and signal handling for a run, as `fit`'s `on_epoch`.

  Args:
    out: the run's folder, or None to write nothing (progress and signals only).
    key: the shuffle key `fit` is given (saved in each checkpoint, for resuming).
    config: what the run is, JSON-ready; saved as config.json and in each checkpoint.
    checkpoint_every: save a checkpoint every this many epochs.
    progress: "auto" (a bar on a terminal, else lines), "bar", "lines" or "quiet".
    header: a line printed when training begins.
    title: the curves' title.
    n_test: the test set's size, for the book's "9129 / 10000".

  `fit` tells it, through `begin`, the epochs of the run (the last one is always checkpointed)
  and the history it extends.
    clear: remove an earlier run's files from `out` when training begins (--force).
    members: for a population, what each member is (e.g. {"seed": 0, "eta": 3.0}), saved in
      metrics.json beside its per-member lists; None for one network.
  """

  def __init__(
    self,
    out: str | None,
    *,
    key: jax.Array,
    config: dict[str, Any] | None = None,
    checkpoint_every: int = 1,
    progress: str = "auto",
    header: str | None = None,
    title: str = "",
    n_test: int = 0,
    clear: bool = False,
    members: list[dict[str, Any]] | None = None,
  ):
    self.out, self.key, self.epochs = out, key, 0
    self.config = config or {}
    self.history = History()
    self.checkpoint_every, self.progress_mode = checkpoint_every, progress
    self.header, self.title, self.n_test, self.clear = header, title, n_test, clear
    self.members = members
    self.saved_epoch = 0  # the epochs of the last complete checkpoint
    self.report: Progress | None = None
    self._signals: Any = None
    self._stop: Any = None
    self._first_epoch: int | None = None

  def path(self, name: str) -> str:
    assert self.out is not None
    return os.path.join(self.out, name)

  def __enter__(self) -> "Recorder":
    self._signals = stop_on_signals(
      notice="stopping after this epoch, with a checkpoint; press Ctrl-C again to stop at once"
    )
    self._stop = self._signals.__enter__()
    return self

  def __exit__(self, *exc) -> None:
    if self.report is not None:
      self.report.close()
    assert self._signals is not None
    self._signals.__exit__(*exc)

  def begin(self, start_epoch: int, end_epoch: int, history: History) -> None:
    """Called by `fit` once its arguments are checked: the run's folder is written from here."""
    self._first_epoch, self.epochs, self.history = start_epoch, end_epoch, history
    self.saved_epoch = start_epoch
    if self.out is not None:
      os.makedirs(self.out, exist_ok=True)
      if self.clear:  # no file of the earlier run may outlive it
        for name in RUN_FILES:
          with contextlib.suppress(FileNotFoundError):
            os.remove(self.path(name))
      write_json(self.path("config.json"), self.config)
    self.report = Progress(self.progress_mode, total=end_epoch, initial=start_epoch)
    if self.header:
      self.report.print(self.header)

  def wait(self, arrays: Any) -> None:
    """Called by `fit` to wait for the device: a wait that a signal interrupts."""
    interruptible_wait(arrays)

  def within(self, epoch: int, done: int, total: int) -> None:
    """Called by `fit` within a long epoch: `done` of its `total` examples trained."""
    if self.report is not None:
      self.report.within(epoch, done, total)

  def __call__(self, epoch: int, params: Any, opt_state: Any, metrics: dict[str, float]) -> None:
    if self.out is not None and epoch == self._first_epoch:  # once this process has compiled
      preload_plotting()
    assert self.report is not None
    self.report.epoch(epoch_line(epoch, metrics, self.n_test), metrics)
    signum = self._stop.signum if self._stop is not None else None
    if (epoch + 1) % self.checkpoint_every == 0 or epoch + 1 == self.epochs or signum:
      self.checkpoint(params, opt_state, epoch + 1)
    if signum:
      self.write_metrics()
      raise RunInterrupted(
        signum,
        f"stopped by {signal.Signals(signum).name} after epoch {epoch}"
        + (f"; checkpoint saved: resume with --resume --out {self.out}" if self.out else ""),
      )

  def checkpoint(self, params: Any, opt_state: Any, epochs_done: int) -> None:
    if self.out is not None and self.saved_epoch != epochs_done:
      ckpt = Checkpoint(
        params, opt_state, epochs_done, self.key, self.config, self.history.as_dict()
      )
      save_checkpoint(self.path(CHECKPOINT), ckpt)
      self.saved_epoch = epochs_done

  def write_metrics(self) -> None:
    if self.out is not None:
      metrics = self.history.as_dict()
      if self.members is not None:
        metrics = {"members": self.members, **metrics}
      write_json(self.path("metrics.json"), metrics)

  def kept(self) -> str:
    """Where the last complete checkpoint is, for a message ("" if none was written)."""
    if self.out is None or not self.saved_epoch:
      return ""
    epochs = f"{self.saved_epoch} epoch" + ("s" if self.saved_epoch != 1 else "")
    return f"the last complete checkpoint (after {epochs}) is {self.path(CHECKPOINT)}"

  def diverged(self, error: Exception) -> RunDiverged:
    """The run's error for `TrainingDiverged`, after saving the metrics so far."""
    self.write_metrics()
    kept = self.kept().replace("the last complete", "the last good")
    return RunDiverged(f"{error}{self._which(error)}" + (f"; {kept}" if kept else ""))

  def _which(self, error: Exception) -> str:
    """What the diverged members of a population are: " (member 3: seed 3, eta 100.0)"."""
    bad = getattr(error, "members", None)
    if self.members is None or not bad:
      return ""
    return (
      " ("
      + "; ".join(
        f"member {k}: " + ", ".join(f"{n} {v}" for n, v in self.members[k].items()) for k in bad
      )
      + ")"
    )

  def aborted(self, error: Aborted) -> RunInterrupted:
    """The run's error when a second signal stopped it within an epoch."""
    kept = self.kept()
    return RunInterrupted(
      error.signum,
      f"stopped at once by a second {signal.Signals(error.signum).name}: the current epoch was "
      "lost" + (f"; {kept}: resume with --resume --out {self.out}" if kept else ""),
      at_once=True,
    )

  def write_failed(self, error: OSError) -> str:
    """The run's one line for a file it could not write."""
    kept = self.kept() or "no checkpoint was written yet"
    return f"{error}; {kept}"

  def finish(self, params: Any, started: float | None = None) -> None:
    """Writes params.npz, metrics.json and curves.png, and prints the run's summary."""
    if self.out is not None:
      save_params(self.path("params.npz"), params)
      self.write_metrics()
      write_curves(self.path("curves.png"), self.history, self.title)
    line = final_line(self.history)
    if self.report is not None and line:
      line += f"; {sum(self.history.epoch_seconds):.1f} s training"
      if started is not None:
        line += f", {time.perf_counter() - started:.1f} s in all"
      self.report.print(line)


def final_line(history: History) -> str:
  """The run's summary: the best test accuracy and its epoch, and the final one; for a
  population, the members' best and final accuracies, mean ± sd (min–max)."""
  accuracy_ExM = np.array(history.test_accuracy, dtype=np.float64)
  if accuracy_ExM.size == 0 or np.isnan(accuracy_ExM).all():
    return ""
  if accuracy_ExM.ndim == 1:
    best = int(np.nanargmax(accuracy_ExM))
    return (
      f"best test accuracy {accuracy_ExM[best]:.2%} at epoch {best}, final {accuracy_ExM[-1]:.2%}"
    )
  return (
    f"{accuracy_ExM.shape[1]} networks: best test accuracy {spread(np.nanmax(accuracy_ExM, 0))}, "
    f"final {spread(accuracy_ExM[-1])}"
  )
