"""Running epochs on a device: arrays put there, a long epoch cut into calls, values read back."""

import os
import re
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxnets._engine.blocks import block_steps

DEVICES_PER_CORE = 2
"""CPU devices per usable core that a population's members spread over. XLA:CPU runs each
device's program on one thread at these sizes: one device per core keeps the cores busy, and a
second per core lets one device's program run while another's waits (`make bench`'s table of one
population over 1, 2, 4 and 8 devices, docs/parallel.md). A single network runs on the first."""


def usable_cores() -> int:
  """The cores this process may run on (its CPU affinity, else the machine's count)."""
  return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def use_host_devices(at_least: int = 1) -> int:
  """Gives JAX `DEVICES_PER_CORE` CPU devices per usable core (at least `at_least`), unless
  XLA_FLAGS already sets a count. Call it before JAX's first computation (XLA reads the flag when
  its CPU backend starts; later calls change nothing). Returns the count asked for."""
  flags = os.environ.get("XLA_FLAGS", "")
  given = re.search(r"--xla_force_host_platform_device_count=(\d+)", flags)
  if given:
    return int(given.group(1))
  count = max(DEVICES_PER_CORE * usable_cores(), at_least)
  os.environ["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={count}".strip()
  return count


def to_device(a) -> jax.Array:
  """An array on the default device; a read-only NumPy array may be used in place, not copied."""
  if isinstance(a, np.ndarray) and not a.flags.writeable:
    return jax.device_put(a)
  return jnp.asarray(a)


def local_values(tree):
  """Replicated or fully addressable arrays as NumPy values, read from this process's copy (a
  mesh spanning several hosts has arrays that no one process holds whole)."""

  def value(a):
    if isinstance(a, jax.Array) and not a.is_fully_addressable:
      return np.asarray(a.addressable_data(0))
    return np.asarray(a)

  return jax.tree.map(value, tree)


def run_epoch(
  epoch: Callable,
  params,
  opt_state,
  x_NxI,
  y_N,
  order,
  *,
  batch_size: int,
  steps_per_call: int | None,
  wait: Callable[[Any], None],
  within: Callable[[int], None] | None = None,
):
  """`epoch` (a compiled epoch) in one call, or, for `steps_per_call` fewer than the epoch's
  steps, over consecutive slices of `order` (its last axis: (N,), or (M, N) for a population) of
  about `steps_per_call` mini-batches each, rounded up to whole blocks: the same steps in the same
  order. Each call is dispatched before the previous one is waited on (`wait`), so the device
  never idles; `within(examples done)` reports after each.

  Returns:
    (params, opt_state, metrics) as one call would.
  """
  n = order.shape[-1]
  steps = -(-n // batch_size)
  if steps_per_call is None or steps_per_call >= steps:
    return epoch(params, opt_state, x_NxI, y_N, order)
  block = block_steps(batch_size)  # calls cut at whole blocks: each call's steps, in blocks
  rows = -(-max(1, steps_per_call) // block) * block * batch_size
  cuts = list(range(0, n - (n % batch_size), rows))
  if (
    n - cuts[-1] < rows // 2 and len(cuts) > 1
  ):  # too small a last call: merged into the one before
    cuts.pop()
  total, finite, pending = None, None, []
  for lo, hi in zip(cuts, [*cuts[1:], n]):
    params, opt_state, metrics = epoch(params, opt_state, x_NxI, y_N, order[..., lo:hi])
    cost_sum = metrics["train_cost"] * -(-(hi - lo) // batch_size)
    total = cost_sum if total is None else total + cost_sum
    finite = metrics["finite"] if finite is None else finite & metrics["finite"]
    pending.append((hi, metrics["train_cost"]))
    if len(pending) > 1:  # the call before this one: done once its cost is
      done, cost_done = pending.pop(0)
      wait(cost_done)
      if within is not None:
        within(done)
  return params, opt_state, {"train_cost": total / steps, "finite": finite}
