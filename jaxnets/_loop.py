"""The loop over epochs of `jaxnets.fit` and `jaxnets.fit_population`, with its device plumbing.

Each epoch: train it on the device (one compiled call, or several for a long epoch), evaluate,
draw the next epoch's order on the host meanwhile, wait for the device once, check for NaN/Inf,
report. Private: the book's loop is `fit`'s docstring; this is how it runs fast.
"""

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import jax
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec

from jaxnets._checks import TrainingDiverged
from jaxnets._device import (
  GUESSED_FLOPS,
  compile_seconds,
  local_values,
  run_epoch,
  segment_steps,
  to_device,
  wait_ready,
)


@dataclasses.dataclass
class EpochLoop:
  """`fit`'s loop over epochs, shared with `jaxnets.fit_population`: train an epoch on the
  device, evaluate, draw the next epoch's order on the host meanwhile, wait once, report.

  Attributes:
    epoch: the compiled epoch, `train_epoch` or `train_population_epoch`.
    evaluate: (params, x, y) → (cost, correct): scalars, or one per member.
    order: epoch → the epoch's order, a NumPy array: (N,), or (M, N) one per member.
    epoch_flops: the FLOPs of one epoch (all members), to plan calls before one is timed.
    static: `epoch`'s keyword arguments (batch_size, optimizer, ...).
  """

  epoch: Callable
  evaluate: Callable
  order: Callable[[int], np.ndarray]
  epoch_flops: float
  static: dict[str, Any]

  def run(self, params, opt_state, train, validation, test, epochs, start_epoch, history, on_epoch):
    """Runs the epochs; returns (params, history), `history` (a `History`) extended in place."""
    if on_epoch is not None and hasattr(on_epoch, "begin"):
      on_epoch.begin(start_epoch)
    mesh = self.static.get("mesh")
    replicated = NamedSharding(mesh, PartitionSpec()) if mesh is not None else None
    put = (lambda a: jax.device_put(a, replicated)) if mesh is not None else to_device
    params, opt_state = jax.tree.map(put, (params, opt_state))
    x_NxI, y_N = put(train.x), put(train.y)
    evals = {k: (put(d.x), put(d.y)) for k, d in (("validation", validation), ("test", test)) if d}

    order = put(self.order(start_epoch))
    steps = -(-order.shape[-1] // self.static["batch_size"])
    per_call = segment_steps(steps, self.epoch_flops / GUESSED_FLOPS)
    within = getattr(on_epoch, "within", None)
    for epoch in range(start_epoch, start_epoch + epochs):
      start, compiling = time.perf_counter(), compile_seconds()
      params, opt_state, metrics = run_epoch(
        self.epoch, params, opt_state, x_NxI, y_N, order, per_call, epoch, within, **self.static
      )
      evaluated = {k: self.evaluate(params, x, y) for k, (x, y) in evals.items()}
      if epoch + 1 < start_epoch + epochs:  # drawn on the host while the device trains
        order = put(self.order(epoch + 1))
      wait_ready((metrics, evaluated))  # the epoch's one wait for the device
      metrics, evaluated = local_values((metrics, evaluated))
      if epoch == start_epoch:  # plan the next epochs' calls from this one's time, less compiling
        running = time.perf_counter() - start - (compile_seconds() - compiling)
        per_call = segment_steps(steps, running)
      check_finite(epoch, metrics)
      summary = epoch_summary(metrics, evaluated, {k: x.shape[0] for k, (x, _) in evals.items()})
      summary["epoch_seconds"] = time.perf_counter() - start
      history.append(summary)
      if on_epoch is not None:
        on_epoch(epoch, params, opt_state, summary)
    return params, history


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


def epoch_summary(metrics, evaluated, sizes: dict[str, int]) -> dict[str, Any]:
  """An epoch's metrics as JSON-ready values: floats for a network, lists (one value per member)
  for a population. `evaluated` maps "validation"/"test" to (cost, correct); correct < 0 means
  regression targets (no accuracy)."""

  def values(a, kind=float):
    a = np.asarray(a)
    return kind(a) if a.ndim == 0 else [kind(v) for v in a]

  summary = {"train_cost": values(metrics["train_cost"])}
  for k, (cost_value, correct) in evaluated.items():
    summary[f"{k}_cost"] = values(cost_value)
    if np.all(np.asarray(correct) >= 0):
      summary[f"{k}_correct"] = values(correct, int)
      summary[f"{k}_accuracy"] = values(np.asarray(correct) / sizes[k])
  return summary
