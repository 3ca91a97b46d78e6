"""Running epochs on a device: arrays put there, waits for it, long epochs cut into calls.

Private plumbing of `jaxnets.train.fit`; the arithmetic is all in `train_epoch`.
"""

import threading

import jax
import jax.numpy as jnp
import numpy as np

from jaxnets._blocked_sgd import block_steps


def to_device(a) -> jax.Array:
  """An array on the default device; a read-only NumPy array may be used in place, not copied."""
  if isinstance(a, np.ndarray) and not a.flags.writeable:
    return jax.device_put(a)
  return jnp.asarray(a)


def local_values(tree):
  """Replicated scalars as NumPy values, read from this process's copy (so that a mesh spanning
  several hosts, whose arrays no one process holds whole, can still be read)."""
  return jax.tree.map(lambda a: np.asarray(a.addressable_data(0)), tree)


def wait_ready(tree) -> None:
  """Blocks until every array of `tree` is computed, in a wait that a signal interrupts: the
  main thread waits on an event (a signal handler runs, and may raise), a thread on the device."""
  leaves = [a for a in jax.tree.leaves(tree) if isinstance(a, jax.Array)]
  if all(a.is_ready() for a in leaves):  # type: ignore[attr-defined]  # (not in jax's stubs)
    return
  done = threading.Event()

  def wait():
    try:
      jax.block_until_ready(leaves)
    finally:
      done.set()

  threading.Thread(target=wait, name="jaxnets-wait", daemon=True).start()
  done.wait()


COMPILE_EVENTS = (
  "/jax/core/compile/jaxpr_trace_duration",
  "/jax/core/compile/jaxpr_to_mlir_module_duration",
  "/jax/core/compile/backend_compile_duration",
)
_compiling = [0.0]


def _count_compile(event: str, duration_secs: float, **kwargs: str | int) -> None:
  if event in COMPILE_EVENTS:
    _compiling[0] += duration_secs


jax.monitoring.register_event_duration_secs_listener(_count_compile)


def compile_seconds() -> float:
  """Seconds this process has spent tracing, lowering and compiling (JAX's monitoring events),
  to take out of a first epoch's time: a long epoch is planned from its running time alone."""
  return _compiling[0]


SEGMENT_SECONDS = 1.0
"""About how long one compiled call of a long epoch runs, so that progress and a signal are seen
within it; an epoch expected to take under 2 × this is one call."""

GUESSED_FLOPS = 10e9
"""The training speed guessed before the first epoch is timed (FLOP/s; a slow CPU's)."""


def epoch_flops(sizes: tuple[int, ...], n: int, batch_size: int) -> float:
  """FLOPs of an epoch of n examples: matmuls forward and backward, and the updates.

  Per example and layer (n_in → n_out): 2·n_in·n_out forward, 2·n_in·n_out for ∂C/∂w, and
  2·n_in·n_out for ∂C/∂a of the layer below (not for the first layer); per step 2 per parameter.
  """
  macs = [a * b for a, b in zip(sizes[:-1], sizes[1:])]
  per_example = 2 * (2 * sum(macs) + sum(macs[1:]))
  n_params = sum(macs) + sum(sizes[1:])
  steps = -(-n // batch_size)
  return float(per_example * n + 2 * n_params * steps)


def segment_steps(steps: int, seconds: float) -> int:
  """Mini-batches per compiled call for an epoch of `steps` expected to take `seconds`."""
  if seconds < 2 * SEGMENT_SECONDS:
    return max(steps, 1)
  return max(1, int(steps * SEGMENT_SECONDS / seconds))


def run_epoch(train_epoch, params, opt_state, x_NxI, y_N, order, per_call, epoch, within, **kw):
  """`train_epoch` (the compiled epoch) in one call, or, for `per_call` < the epoch's steps,
  over consecutive slices of `order` (its last axis: (N,), or (M, N) for a population) of
  `per_call` mini-batches each (the last takes the rest): the same steps in the same order.
  Each call is dispatched before the previous one is waited on, so the device never idles;
  `within(epoch, done, n)` reports after each."""
  batch_size = kw["batch_size"]
  n = order.shape[-1]
  if per_call >= -(-n // batch_size):  # one call: no wait on the device until the epoch ends
    return train_epoch(params, opt_state, x_NxI, y_N, order, **kw)
  block = block_steps(batch_size)  # calls cut at whole blocks: the steps of one call, in blocks
  per_call = -(-per_call // block) * block
  rows = per_call * batch_size
  cuts = list(range(0, n - (n % batch_size), rows))
  if (
    n - cuts[-1] < rows // 2 and len(cuts) > 1
  ):  # too small a last call: merged into the one before
    cuts.pop()
  bounds = list(zip(cuts, [*cuts[1:], n]))
  total, pending = None, []
  finite = None
  for lo, hi in bounds:
    params, opt_state, metrics = train_epoch(params, opt_state, x_NxI, y_N, order[..., lo:hi], **kw)
    steps = -(-(hi - lo) // batch_size)
    cost_sum = metrics["train_cost"] * steps
    total = cost_sum if total is None else total + cost_sum
    finite = metrics["finite"] if finite is None else finite & metrics["finite"]
    pending.append((hi, metrics["train_cost"]))
    if len(pending) > 1:  # the call before this one: done once its cost is
      hi_done, cost_done = pending.pop(0)
      wait_ready(cost_done)
      if within is not None:
        within(epoch, hi_done, n)
  return params, opt_state, {"train_cost": total / -(-n // batch_size), "finite": finite}
