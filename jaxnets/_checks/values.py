"""Errors, and the checks of scalar arguments: integers, η, sizes, batch sizes, PRNG keys."""

import contextlib
import math
from collections.abc import Iterator
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np


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


@contextlib.contextmanager
def shape_check(message: str) -> Iterator[None]:
  """Runs chex's shape assertions inside, reporting a failure as `InputError(message)`."""
  try:
    yield
  except AssertionError:
    raise InputError(message) from None


def short(value: Any) -> str:
  """A value for a message: its repr, or an array's shape and dtype."""
  if hasattr(value, "shape") and hasattr(value, "dtype") and np.ndim(value) > 0:
    return f"an array of shape {tuple(np.shape(value))} and dtype {value.dtype}"
  text = repr(value)
  return text if len(text) <= 60 else text[:57] + "..."


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
    raise InputError(f"{name}={short(value)}; expected {expected}")
  return int(value)


def check_eta(eta: Any, name: str = "eta") -> float:
  """The learning rate η as a float, or InputError unless it is a finite number > 0."""
  if (
    isinstance(eta, (bool, np.bool_))
    or not isinstance(eta, (int, float, np.integer, np.floating))
    or not math.isfinite(eta)
    or eta <= 0
  ):
    raise InputError(f"{name}={short(eta)}; expected a finite learning rate > 0")
  return float(eta)


def check_sizes(sizes: Any) -> tuple[int, ...]:
  """The layer sizes [n_0, ..., n_L] as a tuple of ints: at least two, each positive."""
  if not isinstance(sizes, (list, tuple)):
    raise InputError(f"sizes={short(sizes)}; expected a list of layer sizes, e.g. [784, 30, 10]")
  if len(sizes) < 2:
    raise InputError(
      f"sizes {list(sizes)} has {len(sizes)} layer(s); expected at least 2 "
      "(an input layer and an output layer), e.g. [784, 30, 10]"
    )
  for i, n in enumerate(sizes):
    if not is_int(n) or n <= 0:
      raise InputError(f"sizes[{i}] = {short(n)} in {list(sizes)}; expected a positive integer")
  return tuple(int(n) for n in sizes)


def check_batch_size(batch_size: Any, n_train: int, devices: int = 1) -> int:
  """The mini-batch size m: an integer from 1 to the training examples, a multiple of the
  devices a mini-batch is split over."""
  if not is_int(batch_size) or not 1 <= batch_size <= n_train:
    raise InputError(
      f"batch_size={short(batch_size)}; expected an integer from 1 to the {n_train} training "
      "examples"
    )
  if batch_size % devices:
    raise InputError(
      f"batch_size={batch_size} can't be split evenly over {devices} devices; "
      f"expected a multiple of {devices}"
    )
  return int(batch_size)


def check_key(key: Any, name: str = "key") -> jax.Array:
  """One PRNG key, typed (`jax.random.key(0)`) or legacy uint32 (`jax.random.PRNGKey(0)`),
  returned typed."""
  return _keys(key, name, ())


def check_keys(keys: Any, count: int | None = None, name: str = "keys", one: bool = False):
  """PRNG keys, one per member: typed (M,), or legacy uint32 (M, 2), returned typed (M,); M =
  `count` where given, else any M ≥ 1. With `one`, a single key (shape ()) is accepted too."""
  return _keys(keys, name, (count,), one)


def _keys(key: Any, name: str, shape: tuple, one: bool = False) -> Any:
  legacy = jax.random.key_data(jax.random.key(0)).shape  # (2,) for the default threefry
  many = (
    "jax.random.split(jax.random.key(0), M)".replace("M", str(shape[0] or "M")) if shape else ""
  )
  example = " or ".join(e for e in ("jax.random.key(0)" if not shape or one else "", many) if e)
  a = key if isinstance(key, (jax.Array, np.ndarray)) else None
  if a is not None and jax.dtypes.issubdtype(a.dtype, jax.dtypes.prng_key):
    typed = a
  elif a is not None and a.dtype == np.uint32 and a.shape[-len(legacy) :] == legacy:
    typed = jax.random.wrap_key_data(jnp.asarray(a))
  else:
    raise InputError(f"{name}={short(key)}; expected PRNG keys such as {example}")
  fits = (
    typed.shape == ()
    if not shape
    else (
      (typed.ndim == 1 and shape[0] in (None, typed.shape[0]) and typed.shape[0] >= 1)
      or (one and typed.shape == ())
    )
  )
  if not fits:
    wanted = "one key, shape ()" if not shape else f"one key per member, shape ({shape[0] or 'M'},)"
    if shape and one:
      wanted += ", or one key shared by all members, shape ()"
    raise InputError(
      f"{name} holds PRNG keys of shape {typed.shape}; expected {wanted}, e.g. {example}"
    )
  return typed
