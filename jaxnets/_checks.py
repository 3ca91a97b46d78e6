"""Every check of a public boundary, written once: the library and the command line share them.

A check raises `InputError` (a `ValueError`) for a bad value of an argument or a file, naming the
value and what was expected; the command line prints that message as its one line. Shape checks
of arrays raise chex's `AssertionError`, as chex does.
"""

import math
from collections.abc import Sequence
from typing import Any

import chex
import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike


class InputError(ValueError):
  """An argument, a file or a setting that is out of range or doesn't fit: the message names the
  value and what was expected."""


class TrainingDiverged(FloatingPointError):
  """The training cost or the parameters became NaN or infinite.

  Attributes:
    members: for a population, the indices of the members that diverged (else None).
  """

  def __init__(self, message: str, members: list[int] | None = None):
    super().__init__(message)
    self.members = members


def epoch_metrics(params: Any, total_cost: jax.Array, steps: int) -> dict[str, jax.Array]:
  """A compiled epoch's metrics, read by the host once per epoch: "train_cost", the mean of its
  `steps` mini-batch costs, and "finite", whether that cost and every parameter are finite (what
  `TrainingDiverged` is raised on). For a population, total_cost and both metrics are (M,)."""
  mean_cost = total_cost / steps
  finite = jnp.isfinite(mean_cost)
  for leaf in jax.tree.leaves(params):
    finite &= jnp.all(jnp.isfinite(leaf), axis=tuple(range(finite.ndim, leaf.ndim)))
  return {"train_cost": mean_cost, "finite": finite}


def is_int(value: Any) -> bool:
  """Whether `value` is an integer (a bool is not, though Python says it is)."""
  return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_int(name: str, value: Any, minimum: int | None = None, maximum: int | None = None) -> int:
  """`value` as an int, or InputError "name=value; expected an integer ≥ minimum"."""
  if (
    not is_int(value)
    or (minimum is not None and value < minimum)
    or (maximum is not None and value > maximum)
  ):
    if minimum is not None and maximum is not None:
      expected = f"an integer from {minimum} to {maximum}"
    elif minimum is not None:
      expected = f"an integer ≥ {minimum}"
    else:
      expected = "an integer"
    raise InputError(f"{name}={value!r}; expected {expected}")
  return int(value)


def check_eta(eta: Any) -> float:
  """The learning rate η as a float, or InputError unless it is a finite number > 0."""
  if isinstance(eta, (bool, np.bool_)) or not isinstance(
    eta, (int, float, np.integer, np.floating)
  ):
    raise InputError(f"eta={eta!r}; expected a finite learning rate > 0")
  if not math.isfinite(eta) or eta <= 0:
    raise InputError(f"eta={eta!r}; expected a finite learning rate > 0")
  return float(eta)


def check_sizes(sizes: Any) -> tuple[int, ...]:
  """The layer sizes [n_0, ..., n_L] as a tuple of ints: at least two, each positive."""
  if not isinstance(sizes, (list, tuple)):
    raise InputError(f"sizes={sizes!r}; expected a list of layer sizes, e.g. [784, 30, 10]")
  sizes = tuple(sizes)
  if len(sizes) < 2:
    raise InputError(
      f"sizes {list(sizes)} has {len(sizes)} layer(s); expected at least 2 "
      "(an input layer and an output layer), e.g. [784, 30, 10]"
    )
  for i, n in enumerate(sizes):
    if not is_int(n) or n <= 0:
      raise InputError(f"sizes[{i}] = {n!r} in {list(sizes)}; expected a positive integer")
  return tuple(int(n) for n in sizes)


def check_params(params: Any) -> None:
  """Ranks, float dtypes and matching layer sizes of a network's list of `Layer(w, b)`.

  Raises:
    AssertionError: naming the layer, the array and the size that is wrong.
  """
  if not isinstance(params, (list, tuple)) or not params:
    raise AssertionError(f"params must be a non-empty list of Layer(w, b); got {type(params)}")
  n_in = None
  for l, layer in enumerate(params):
    if not (isinstance(layer, tuple) and len(layer) == 2):
      raise AssertionError(f"params[{l}] must be a Layer(w, b) pair; got {type(layer)}")
    w, b = layer
    chex.assert_rank(w, 2, custom_message=f"params[{l}].w must be (n_out, n_in)")
    chex.assert_rank(b, 1, custom_message=f"params[{l}].b must be (n_out,)")
    chex.assert_type([w, b], float, custom_message=f"params[{l}] must be floating point")
    n_out = w.shape[0]
    if b.shape != (n_out,):
      raise AssertionError(
        f"params[{l}].b has shape {b.shape} but params[{l}].w has shape {w.shape}: "
        f"expected b of shape ({n_out},)"
      )
    if n_in is not None and w.shape[1] != n_in:
      raise AssertionError(
        f"params[{l}].w has shape {w.shape} but layer {l - 1} outputs {n_in} values: "
        f"expected w of shape ({n_out}, {n_in})"
      )
    n_in = n_out


def sizes_of(params: Any) -> tuple[int, ...]:
  """The sizes [n_0, n_1, ..., n_L] of a checked network."""
  check_params(params)
  return (params[0][0].shape[1],) + tuple(w.shape[0] for w, _ in params)


def check_population(params: Any) -> tuple[int, tuple[int, ...]]:
  """(M, sizes) of a population: networks stacked on a leading axis M, every w of shape
  (M, n_out, n_in) and every b (M, n_out), one M for all.

  Raises:
    AssertionError: naming the layer, the array and the size that is wrong.
  """
  if not isinstance(params, (list, tuple)) or not params:
    raise AssertionError(f"params must be a non-empty list of Layer(w, b); got {type(params)}")
  counts = []
  for l, layer in enumerate(params):
    if not (isinstance(layer, tuple) and len(layer) == 2):
      raise AssertionError(f"params[{l}] must be a Layer(w, b) pair; got {type(layer)}")
    w, b = layer
    chex.assert_rank(w, 3, custom_message=f"params[{l}].w of a population must be (M, n_out, n_in)")
    chex.assert_rank(b, 2, custom_message=f"params[{l}].b of a population must be (M, n_out)")
    counts += [(f"params[{l}].w", w.shape[0]), (f"params[{l}].b", b.shape[0])]
  if len({m for _, m in counts}) != 1:
    raise AssertionError(
      "the arrays of a population stack different numbers of members: "
      + ", ".join(f"{name} {m}" for name, m in counts)
      + "; expected one leading axis M for all"
    )
  return counts[0][1], sizes_of(member_shapes(params))


def member_shapes(params: Any) -> Any:
  """One member of a population's parameters as shapes only (`jax.ShapeDtypeStruct`)."""
  return [tuple(jax.ShapeDtypeStruct(a.shape[1:], a.dtype) for a in layer) for layer in params]


def network_or_population(params: Any) -> tuple[int | None, tuple[int, ...]]:
  """(None, sizes) of one network; (M, sizes) of a population (its w of rank 3)."""
  first = params[0][0] if isinstance(params, (list, tuple)) and params else None
  if first is not None and isinstance(params[0], tuple) and np.ndim(first) == 3:
    return check_population(params)
  return None, sizes_of(params)


def check_inputs(params: Any, x: ArrayLike, name: str, rank: int) -> jax.Array:
  """`x` as an array: float, of `rank` (1: one example, 2: a batch), n_in values per example."""
  check_params(params)
  x = jnp.asarray(x)
  what = "one example (n_in,)" if rank == 1 else "a batch (n, n_in)"
  chex.assert_rank(x, rank, custom_message=f"argument {name} must be {what}")
  chex.assert_type(x, float, custom_message=f"argument {name} must be floating point")
  n_in = params[0].w.shape[1]
  if x.shape[-1] != n_in:
    raise AssertionError(
      f"argument {name} has shape {x.shape}: {x.shape[-1]} inputs per example, but the "
      f"network's first layer params[0].w {params[0].w.shape} expects {n_in}"
    )
  return x


def all_finite(a: Any) -> bool:
  """Whether an array holds no NaN or Inf: its min and max are finite (no temporary array)."""
  a = np.asarray(a)
  if a.size == 0 or not np.issubdtype(a.dtype, np.floating):
    return True
  return bool(np.isfinite(np.min(a)) and np.isfinite(np.max(a)))


def check_dataset(sizes: Sequence[int], data: Any, name: str) -> None:
  """That `data` = (x, y) fits a network of `sizes`: x (n, n_0) float, and y integer labels (n,)
  in [0, n_L) or float targets (n, n_L), all finite.

  Raises:
    InputError: naming `name` (e.g. "validation"), the shape or value, and what was expected.
  """
  x, y = data
  if np.ndim(x) != 2:
    raise InputError(
      f"{name} inputs have shape {np.shape(x)}; the network {list(sizes)} expects (n, {sizes[0]})"
    )
  if np.shape(x)[1] != sizes[0]:
    raise InputError(
      f"{name} inputs have shape {np.shape(x)}; the network {list(sizes)} expects (n, {sizes[0]}): "
      f"expected a network of {np.shape(x)[1]} inputs"
    )
  if not np.issubdtype(np.asarray(x).dtype, np.floating):
    raise InputError(f"{name} inputs have dtype {np.asarray(x).dtype}; expected floating point")
  if np.shape(y)[:1] != np.shape(x)[:1]:
    raise InputError(f"{name} has {np.shape(x)[0]} inputs but {np.shape(y)[0]} labels/targets")
  if np.issubdtype(np.asarray(y).dtype, np.integer):
    if np.ndim(y) != 1:
      raise InputError(f"{name} labels have shape {np.shape(y)}; expected (n,)")
    if np.size(y):
      lo, hi = int(np.min(y)), int(np.max(y))
      if lo < 0 or hi >= sizes[-1]:
        raise InputError(
          f"{name} labels span {lo}..{hi}; the network {list(sizes)} has {sizes[-1]} outputs: "
          f"expected labels in 0..{sizes[-1] - 1}, or a network of at least {hi + 1} outputs"
        )
  elif np.shape(y)[1:] != (sizes[-1],):
    raise InputError(
      f"{name} targets have shape {np.shape(y)}; the network {list(sizes)} "
      f"expects integer labels (n,) or float targets (n, {sizes[-1]})"
    )
  if not all(all_finite(a) for a in (x, y)):
    raise InputError(f"{name} holds NaN or infinite values; expected finite numbers")


def check_batch_size(batch_size: Any, n_train: int, devices: int = 1) -> int:
  """The mini-batch size m: an integer from 1 to the training examples, a multiple of the
  devices a mini-batch is split over."""
  if not is_int(batch_size) or not 1 <= batch_size <= n_train:
    raise InputError(
      f"batch_size={batch_size!r}; expected an integer from 1 to the {n_train} training examples"
    )
  if batch_size % devices:
    raise InputError(
      f"batch_size={batch_size} can't be split evenly over {devices} devices; "
      f"expected a multiple of {devices}"
    )
  return int(batch_size)


def check_training(
  params: Any,
  train: Any,
  epochs: int,
  batch_size: int,
  validation: Any = None,
  test: Any = None,
  mesh: Any = None,
) -> tuple[int, ...]:
  """Every check `fit` makes of its arguments, before any work: raises `InputError` naming the
  bad value (chex's AssertionError for malformed params). Returns the network's sizes."""
  sizes = sizes_of(params)
  check_int("epochs", epochs, minimum=0)
  n = np.shape(train.x)[0] if np.ndim(train.x) else 0
  check_batch_size(batch_size, n, mesh.size if mesh is not None else 1)
  for name, data in (("training", train), ("validation", validation), ("test", test)):
    if data is not None:
      check_dataset(sizes, data, name)
  return sizes
