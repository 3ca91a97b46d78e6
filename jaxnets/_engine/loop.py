"""The loop over epochs that `jaxnets.fit` and `jaxnets.fit_population` share, with their checks.

`Run.setup` checks every argument before any work and fills in the defaults (the optimizer `SGD`,
its state, η); `Run.loop` runs the epochs. Each epoch: train it on the device (one compiled call,
or several for a long epoch), evaluate, draw the next epoch's order on the host meanwhile, wait
for the device once, check for NaN/Inf, record, report. The book's loop is `fit`'s docstring;
this is how it runs without a host sync inside the epoch.
"""

import dataclasses
import functools
import time
from collections.abc import Callable
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from jaxnets._checks import (
  InputError,
  TrainingDiverged,
  check_batch_size,
  check_dataset,
  check_int,
  check_params,
)
from jaxnets._engine.device import local_values, run_epoch, to_device
from jaxnets.data.dataset import Dataset, as_dataset
from jaxnets.sgd import SGD, with_learning_rate


@dataclasses.dataclass
class EpochLoop:
  """The loop over epochs.

  Attributes:
    epoch: the compiled epoch, (params, opt_state, x, y, order) → (params, opt_state, metrics).
    evaluate: (params, x, y) → (cost, correct): scalars, or one per member (correct < 0: no
      accuracy, for regression targets).
    order: epoch → the epoch's order, a NumPy array: (N,), or (M, N) one per member.
    batch_size: the mini-batch size.
    steps_per_call: None: an epoch is one call; k: calls of about k mini-batches.
    put: arrays (a pytree) onto the device(s) the run trains on: the data, replicated.
    put_state: the parameters and optimizer state onto them (default `put`): split over a
      population's devices, say.
    put_order: an epoch's order onto them (default `put`).
    members: a population padded to a multiple of its devices: its true size, to which the
      metrics and the parameters `on_epoch` sees are cut (None: nothing is padded).
  """

  epoch: Callable
  evaluate: Callable
  order: Callable[[int], np.ndarray]
  batch_size: int
  steps_per_call: int | None
  put: Callable[[Any], Any]
  put_state: Callable[[Any], Any] | None = None
  put_order: Callable[[Any], Any] | None = None
  members: int | None = None

  def run(self, params, opt_state, train, sets, epochs, start_epoch, history, on_epoch, settings):
    """Runs `epochs` epochs from `start_epoch`; `sets` maps "validation"/"test" (and "train", for
    its accuracy alone) to (x, y) to evaluate after each. `history.append` records each epoch;
    `on_epoch` (if given) is told, and its `begin` gets `settings` (what the run is).
    Returns (params, opt_state, history)."""
    begin = getattr(on_epoch, "begin", None)
    if begin is not None:
      begin(start_epoch, start_epoch + epochs, history, settings)
    wait = getattr(on_epoch, "wait", None) or jax.block_until_ready
    report = getattr(on_epoch, "within", None)
    put_state, put_order = self.put_state or self.put, self.put_order or self.put
    params, opt_state = put_state((params, opt_state))
    x_NxI, y_N = self.put(tuple(train))
    evals = {name: self.put(tuple(data)) for name, data in sets.items() if name != "train"}
    if "train" in sets:  # the training set's accuracy after the epoch: its arrays, already put
      evals = {"train": (x_NxI, y_N), **evals}
    order = put_order(self.order(start_epoch))
    for epoch in range(start_epoch, start_epoch + epochs):
      start = time.perf_counter()
      within = (
        None if report is None else lambda done, e=epoch, n=order.shape[-1]: report(e, done, n)
      )
      params, opt_state, metrics = run_epoch(
        self.epoch, params, opt_state, x_NxI, y_N, order, batch_size=self.batch_size,
        steps_per_call=self.steps_per_call, wait=wait, within=within,
      )  # fmt: skip
      evaluated = {name: self.evaluate(params, *data) for name, data in evals.items()}
      if epoch + 1 < start_epoch + epochs:  # drawn on the host while the device trains
        order = put_order(self.order(epoch + 1))
      wait((metrics, evaluated))  # the epoch's one wait for the device
      metrics, evaluated = local_values((metrics, evaluated))
      if self.members is not None:  # the padding's copies never show
        metrics, evaluated = jax.tree.map(lambda a: a[: self.members], (metrics, evaluated))
      check_finite(epoch, metrics)
      summary = {"train_cost": metrics["train_cost"]}
      for name in evals:  # in their order (a pytree's dict comes back sorted)
        cost, correct = evaluated[name]
        if name != "train":  # "train_cost" is the epoch's mean mini-batch cost
          summary[f"{name}_cost"] = cost
        if np.all(correct >= 0):
          summary[f"{name}_accuracy"] = correct / evals[name][1].shape[0]
      summary["epoch_seconds"] = time.perf_counter() - start
      recorded = history.append(summary)
      if on_epoch is not None:
        on_epoch(epoch, *self.unpadded((params, opt_state)), recorded)
    return (*self.unpadded((params, opt_state)), history)

  def unpadded(self, tree):
    """Arrays with a leading member axis cut to the population's true size (if padded)."""
    if self.members is None:
      return tree
    return jax.tree.map(lambda a: a[: self.members] if np.ndim(a) else a, tree)


def check_finite(epoch: int, metrics: dict[str, np.ndarray]) -> None:
  """Raises `TrainingDiverged` if the epoch's cost or params went NaN or infinite."""
  finite = np.asarray(metrics["finite"])
  if finite.all():
    return
  cost = np.asarray(metrics["train_cost"])
  if finite.ndim == 0:
    raise TrainingDiverged(
      f"epoch {epoch}: the training cost is {float(cost)} or the params hold NaN/Inf; the "
      "parameters from the end of the previous epoch are the last good ones (try a smaller eta)"
    )
  bad = np.flatnonzero(~finite).tolist()
  raise TrainingDiverged(
    f"epoch {epoch}: member(s) {bad} of {finite.size} diverged (training cost "
    f"{', '.join(str(float(c)) for c in cost[bad])}, or NaN/Inf in the params); the parameters "
    "from the end of the previous epoch are the last good ones (try a smaller eta for them)",
    members=bad,
  )


@dataclasses.dataclass
class Run:
  """What `fit` and `fit_population` share: their checks and defaults (`setup`) and their loop."""

  train: Dataset
  sets: dict[str, Dataset]
  optimizer: Any
  opt_state: Any
  epochs: int
  batch_size: int
  start_epoch: int
  mesh: Mesh | None
  steps_per_call: int | None
  on_epoch: Callable | None
  train_accuracy: bool
  settings: dict[str, Any]

  @classmethod
  def setup(cls, params, train, validation, test, epochs, batch_size, eta, optimizer, opt_state,
            start_epoch, mesh, steps_per_call, on_epoch, init, network=None,
            train_accuracy=False) -> "Run":  # fmt: skip
    """Checks everything before any work; the optimizer, its state and η."""
    network = params if network is None else network
    sizes = check_params(network)
    dtype = network[0][0].dtype
    train = as_dataset(train, "training")
    sets = {
      k: as_dataset(d, k) for k, d in (("validation", validation), ("test", test)) if d is not None
    }
    check_int("epochs", epochs, minimum=0)
    check_int("start_epoch", start_epoch, minimum=0)
    if steps_per_call is not None:
      check_int("steps_per_call", steps_per_call, minimum=1)
    if on_epoch is not None and not callable(on_epoch):
      raise InputError(
        f"on_epoch={on_epoch!r}; expected a function (epoch, params, state, metrics)"
      )
    if not isinstance(train_accuracy, bool):
      raise InputError(f"train_accuracy={train_accuracy!r}; expected True or False")
    for name, data in (("training", train), *sets.items()):
      check_dataset(sizes, data, name)
    check_batch_size(batch_size, len(train.x), mesh.size if mesh is not None else 1)
    train, *rest = (Dataset(_as(d.x, dtype), d.y) for d in (train, *sets.values()))
    default = optimizer is None
    if optimizer is None:
      optimizer, eta = SGD, (3.0 if eta is None and opt_state is None else eta)
    if opt_state is None:
      opt_state = init(optimizer, params)
    if eta is not None:
      opt_state = with_learning_rate(opt_state, eta)
    sets = dict(zip(sets, rest))
    settings = {
      "sizes": list(sizes),
      "dtype": str(dtype),
      "epochs": start_epoch + epochs,
      "start_epoch": start_epoch,
      "batch_size": batch_size,
      "eta": _learning_rate(opt_state),
      "optimizer": "jaxnets.SGD" if default or optimizer is SGD else "custom",
      "train_examples": len(train.x),
      **{f"{name}_examples": len(data.x) for name, data in sets.items()},
      "train_accuracy": train_accuracy,
    }
    return cls(train, sets, optimizer, opt_state, epochs, batch_size, start_epoch, mesh,
               steps_per_call, on_epoch, train_accuracy, settings)  # fmt: skip

  def loop(self, params, *, epoch, evaluate, order, history, **placing):
    """Runs the epochs (`jaxnets._engine.loop.EpochLoop`; `placing`: its `put`, `put_state`,
    `put_order` and `members`, for a population over devices); returns (params, history)."""
    if "put" not in placing:
      placing["put"] = (
        functools.partial(jax.device_put, device=NamedSharding(self.mesh, PartitionSpec()))
        if self.mesh is not None
        else (lambda tree: jax.tree.map(to_device, tree))
      )
    loop = EpochLoop(epoch, evaluate, order, self.batch_size, self.steps_per_call, **placing)
    sets = {"train": self.train, **self.sets} if self.train_accuracy else self.sets
    params, _, history = loop.run(
      params, self.opt_state, self.train, sets, self.epochs, self.start_epoch, history,
      self.on_epoch, self.settings,
    )  # fmt: skip
    return params, history


def _learning_rate(opt_state) -> Any:
  """η as the optimizer's state holds it: a float, a list of one per member, or None."""
  rate = getattr(opt_state, "hyperparams", {}).get("learning_rate")
  return None if rate is None else np.asarray(rate).tolist()


def _as(x, dtype):
  """Inputs in the parameters' dtype (read-only NumPy arrays stay in place where they have it)."""
  if isinstance(x, jax.Array):
    return x.astype(dtype)
  return np.asarray(x) if np.asarray(x).dtype == dtype else np.asarray(x).astype(dtype)
