"""What a run costs, estimated from its shapes before anything runs: the FLOPs of an epoch and the
bytes a run holds at its peak. Nothing is allocated and no device is asked."""

from collections.abc import Sequence
from typing import Any

import jax.numpy as jnp
import numpy as np

from jaxnets._checks import InputError, check_int, check_sizes

OPTIMIZER_SCALAR_BYTES = 64
"""The optimizer's scalars (learning rate, step count, ...): a few values, 64 bytes in all."""


def epoch_flops(sizes: Sequence[int], n: int, batch_size: int) -> float:
  """FLOPs of an epoch of n examples: matmuls forward and backward, and the updates.

  Per example and layer (n_in → n_out): 2·n_in·n_out forward, 2·n_in·n_out for ∂C/∂w, and
  2·n_in·n_out for ∂C/∂a of the layer below (not for the first layer); per step 2 per parameter.
  """
  macs = [a * b for a, b in zip(sizes[:-1], sizes[1:])]
  per_example = 2 * (2 * sum(macs) + sum(macs[1:]))
  steps = -(-n // batch_size)
  return float(per_example * n + 2 * parameter_count(sizes) * steps)


def parameter_count(sizes: Sequence[int]) -> int:
  """Weights and biases of a network of `sizes`: Σ_l n_{l+1}·n_l + n_{l+1}."""
  sizes = check_sizes(sizes)
  return sum(n_out * n_in + n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))


def itemsize(dtype: Any) -> int:
  """Bytes of one number of `dtype`."""
  try:
    return np.dtype(jnp.dtype(dtype)).itemsize
  except TypeError:
    raise InputError(f"dtype={dtype!r}; expected a dtype such as 'float32'") from None


def estimate(
  sizes: Sequence[int],
  batch_size: int,
  *,
  dtype: Any = "float32",
  optimizer_slots: int = 0,
  members: int = 1,
  eval_examples: int = 0,
  eval_members: int | None = None,
) -> tuple[int, int, bool]:
  """(state bytes, activation bytes, whether the activations' peak is training's, not an
  evaluation's) of a run; `training_bytes` is their sum. See there for the arguments."""
  sizes = check_sizes(sizes)
  batch_size = check_int("batch_size", batch_size, minimum=1)
  optimizer_slots = check_int("optimizer_slots", optimizer_slots, minimum=0)
  members = check_int("members", members, minimum=1)
  eval_examples = check_int("eval_examples", eval_examples, minimum=0)
  eval_members = members if eval_members is None else check_int("eval_members", eval_members, 1)
  size = itemsize(dtype)
  # Parameters, their gradients, and `optimizer_slots` arrays of the same shapes.
  state = (2 + optimizer_slots) * parameter_count(sizes) * size + OPTIMIZER_SCALAR_BYTES
  # Per example: the input a_0, then z_l and a_l of every later layer.
  per_example = (sizes[0] + 2 * sum(sizes[1:])) * size
  train = members * 2 * batch_size * per_example  # forward values and their gradients (backward)
  evaluate = eval_members * eval_examples * per_example  # forward only
  return members * state, max(train, evaluate), train >= evaluate


def training_bytes(
  sizes: Sequence[int],
  batch_size: int,
  *,
  dtype: Any = "float32",
  optimizer_slots: int = 0,
  members: int = 1,
  eval_examples: int = 0,
  eval_members: int | None = None,
  data_bytes: int = 0,
) -> int:
  """About how many bytes training a network of `sizes` needs on its device, at its peak.

  The count, with P = Σ_l (n_{l+1}·n_l + n_{l+1}) parameters and A = n_0 + 2·Σ_{l≥1} n_l values
  per example (the input, then z_l and a_l of every layer):

    members · ((2 + optimizer_slots)·P·itemsize + 64)      parameters, gradients, optimizer state
    + max(members · 2·batch_size, eval_members · eval_examples)·A·itemsize     activations
    + data_bytes

  Args:
    sizes: the layer sizes [n_0, ..., n_L].
    batch_size: examples of a mini-batch.
    dtype: the parameters' dtype ("float32": 4 bytes a number).
    optimizer_slots: arrays the size of the parameters the optimizer keeps: 0 for SGD, 1 for
      momentum, 2 for Adam.
    members: networks trained at once (a population); all of the above is counted for each.
    eval_examples: examples evaluated in one forward pass (a validation or test set evaluated
      whole); 0 when evaluation is batched no larger than training.
    eval_members: members evaluated at once (default: all of them).
    data_bytes: data that must be copied to the device (0 for the CPU, where it already is).

  Raises:
    InputError: bad sizes, a batch size < 1, negative counts.
  """
  state, activations, _ = estimate(
    sizes, batch_size, dtype=dtype, optimizer_slots=optimizer_slots, members=members,
    eval_examples=eval_examples, eval_members=eval_members,
  )  # fmt: skip
  return state + activations + check_int("data_bytes", data_bytes, minimum=0)
