"""A run's record: `fit`'s `on_epoch` callback that keeps the run's folder, progress and signals.

`Recorder(out, ...)` used as `fit(..., on_epoch=rec)` inside `with rec:` writes into `out`:
`config.json` (the config it was given, else what `fit` was called with), `checkpoint.npz`
(params, optimizer state, PRNG key, epoch, config, history: every `checkpoint_every` epochs and at
the end), `metrics.json` (per-epoch lists), and on `finish`, `params.npz`, `curves.png` and the
pictures of what the network learned (`weights.png`; `mistakes.png` and `confusion.png` of a
classifier's test set: `jaxnets.runs.pictures`). Every file is written atomically, so a run killed
at any moment leaves its last complete checkpoint loadable. A folder that holds another run is
refused unless `replace=True` (the command line's --force) or `resume=True`. While inside `with`,
the first SIGINT or SIGTERM ends the run after the current epoch, checkpointed; a second one ends
it at once. It works from a notebook or an experiment as from the command line; `fit` tells it
the epochs, the sets and the settings of the run:

    with Recorder("runs/a", key=shuffle_key) as rec:
      params, history = jn.fit(params, train, epochs=30, batch_size=10, key=shuffle_key,
                               test=test, on_epoch=rec)
      rec.finish(params, test=test)
"""

import contextlib
import os
import signal
import time
from typing import Any

import jax
import numpy as np

from jaxnets._checks import InputError, network_or_population
from jaxnets._engine.members import gathered
from jaxnets._files import write_json
from jaxnets.history import History
from jaxnets.runs.checkpoint import Checkpoint, save_checkpoint, save_params
from jaxnets.runs.distributed import agree
from jaxnets.runs.folder import CHECKPOINT, RUN_FILES, check_folder
from jaxnets.runs.plots import preload_plotting, write_curves, write_pictures
from jaxnets.runs.progress import Progress, epoch_line, final_line
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
    config: what the run is, a non-empty JSON-ready dict, saved as config.json and in each
      checkpoint; default what `fit` tells `begin` (sizes, dtype, epochs, batch size, η, the
      sets' sizes).
    checkpoint_every: save a checkpoint every this many epochs.
    progress: "auto" (a bar on a terminal, else lines), "bar", "lines" or "quiet".
    header: a line printed when training begins.
    title: the pictures' title; default the sizes, η and mini-batch size `fit` was given.
    replace: `out` may hold another run: its files are removed when training begins (the
      command line's --force). Without it (or `resume`), such a folder is refused.
    resume: `out` holds this run's checkpoint, which `fit` continues (`start_epoch`).
    members: for a population, what each member is (e.g. {"seed": 0, "eta": 3.0}), saved in
      metrics.json beside its per-member lists; None for one network.

  `fit` tells it, through `begin`, the epochs of the run (the last one is always checkpointed),
  the history it extends, and the run's settings.

  Raises:
    RunError: `out` is a file, or holds another run (without `replace` or `resume`).
    InputError: an empty or non-dict `config`.
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
    replace: bool = False,
    resume: bool = False,
    members: list[dict[str, Any]] | None = None,
  ):
    if config is not None and (not isinstance(config, dict) or not config):
      raise InputError(
        f"config={config!r}; expected a non-empty dict of what the run is (JSON-ready), or "
        "None to record the settings fit is called with"
      )
    if out is not None:
      check_folder(os.fspath(out), replace, resume)
    self.out, self.key, self.epochs = None if out is None else os.fspath(out), key, 0
    self.config = config
    self.history = History()
    self.checkpoint_every, self.progress_mode = checkpoint_every, progress
    self.header, self.title, self.clear = header, title, replace and not resume
    self.n_test = 0
    self.members = members
    self.notes: list[str] = []  # pictures left out, and why
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

  def begin(
    self, start_epoch: int, end_epoch: int, history: History, settings: dict | None = None
  ) -> None:
    """Called by `fit` once its arguments are checked: the run's folder is written from here."""
    self._first_epoch, self.epochs, self.history = start_epoch, end_epoch, history
    self.saved_epoch = start_epoch
    settings = settings or {}
    self.n_test = settings.get("test_examples", 0)
    if self.config is None:
      self.config = {"recorded_from": "the arguments of fit", **settings}
    if not self.title and settings:
      eta = settings.get("eta")
      self.title = f"{settings['sizes']}, η = {eta}, mini-batch {settings['batch_size']}"
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
    if jax.process_count() > 1:  # process 0's signal stops every process after the same epoch
      signum = agree(signum)
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
    """Saves the state after `epochs_done` epochs. Its arrays are gathered whole first: a
    collective where they span several processes, which every process makes; one writes."""
    if self.saved_epoch == epochs_done or (self.out is None and jax.process_count() == 1):
      return
    params, opt_state = gathered((params, opt_state))
    if self.out is not None:
      ckpt = Checkpoint(
        params, opt_state, epochs_done, self.key, self.config or {}, self.history.as_dict()
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

  def finish(self, params: Any, started: float | None = None, *, test: Any = None) -> None:
    """Writes params.npz, metrics.json, curves.png and the pictures (`write_pictures`: of `test`,
    a labelled set, where given; of a population's best member), and prints the run's summary
    and the folder it went to.

    Args:
      params: the trained network (or population).
      started: `time.perf_counter()` when the run started, for its seconds in all.
      test: the test set (a `Dataset` or a pair (x, y)), for mistakes.png and confusion.png.
    """
    if jax.process_count() > 1 or self.out is not None:
      params = gathered(params)  # every process: a collective where they span several
    if self.out is not None:
      save_params(self.path("params.npz"), params)
      self.write_metrics()
      write_curves(self.path("curves.png"), self.history, self.title)
      network, which = self.best_member(params)
      _, self.notes = write_pictures(self.out, network, test, self.title + which)
    line = final_line(self.history)
    if self.report is None:
      return
    if line:
      line += f"; {sum(self.history.epoch_seconds):.1f} s training"
      if started is not None:
        line += f", {time.perf_counter() - started:.1f} s in all"
      self.report.print(line)
    for note in self.notes:
      self.report.print(note)
    if self.out is not None:
      kept = [f for f in RUN_FILES if os.path.exists(self.path(f))]
      self.report.print(f"saved in {self.out}: {', '.join(kept)}")

  def best_member(self, params: Any) -> tuple[Any, str]:
    """(the network the pictures show, what it is): the network, or a population's member with
    the best final validation accuracy (else test accuracy; else member 0)."""
    members, _ = network_or_population(params)
    if members is None:
      return params, ""
    final = self.history.validation_accuracy or self.history.test_accuracy
    k = int(np.argmax(final[-1])) if final else 0
    what = ", ".join(f"{n} {v}" for n, v in (self.members or [{}] * members)[k].items())
    by = (
      "the best final validation accuracy" if self.history.validation_accuracy
      else "the best final test accuracy" if final else "the first"
    )  # fmt: skip
    return [type(layer)(*(a[k] for a in layer)) for layer in params], (
      f"\nmember {k}" + (f" ({what})" if what else "") + f": {by} of {members}"
    )
