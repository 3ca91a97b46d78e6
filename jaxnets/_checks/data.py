"""Data: labels, an epoch's order, a dataset that must fit a network."""

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxnets._checks.params import as_array, is_traced
from jaxnets._checks.values import InputError


def check_labels(labels: Any, n_out: int, name: str = "labels") -> Any:
  """Integer class labels, each in [0, n_out): returned as an int32 array.

  Concrete labels are checked: InputError naming the first bad index and value. Traced ones
  (under `jax.jit`) can't be read; there a label out of range is a class no output stands for.
  """
  labels = as_array(labels, name)
  if not jnp.issubdtype(labels.dtype, jnp.integer):
    raise InputError(
      f"argument {name} has dtype {labels.dtype}; expected integer class labels 0..{n_out - 1} "
      "(for regression, pass float targets of shape (n, n_out))"
    )
  if is_traced(labels):
    return labels.astype(jnp.int32)
  values = np.asarray(labels)
  bad = np.flatnonzero((values < 0) | (values >= n_out))
  if bad.size:
    i = np.unravel_index(bad[0], values.shape)
    where = "" if not i else f"[{i[0]}]" if len(i) == 1 else f"[{tuple(int(v) for v in i)}]"
    raise InputError(
      f"argument {name}{where} = {values[i]}; expected class labels 0..{n_out - 1}, one per "
      f"output of the network ({bad.size} of {values.size} labels are out of range)"
    )
  return jnp.asarray(values.astype(np.int32)) if not isinstance(labels, jax.Array) else labels


def check_order(order: Any, n: int, ranks: Sequence[int] = (1,)) -> Any:
  """An epoch's order: integer indices into n examples, (n',) (or (M, n') for a population's
  per-member orders where `ranks` allows it). Concrete values are checked to lie in [0, n)."""
  order = as_array(order, "order")
  shapes = " or ".join({1: "(n,)", 2: "(M, n)"}[r] for r in ranks)
  if order.ndim not in ranks or not jnp.issubdtype(order.dtype, jnp.integer):
    raise InputError(
      f"argument order has shape {order.shape} and dtype {order.dtype}; expected integer indices "
      f"{shapes}"
    )
  if not is_traced(order) and order.size:
    values = np.asarray(order)
    lo, hi = int(values.min()), int(values.max())
    if lo < 0 or hi >= n:
      raise InputError(
        f"argument order holds indices {lo}..{hi}; expected indices into the {n} examples, "
        f"0..{n - 1}"
      )
  return order


def all_finite(a: Any) -> bool:
  """Whether an array holds no NaN or Inf: its min and max are finite (no temporary array)."""
  a = np.asarray(a)
  if a.size == 0 or not np.issubdtype(a.dtype, np.floating):
    return True
  return bool(np.isfinite(np.min(a)) and np.isfinite(np.max(a)))


def check_dataset(sizes: Sequence[int], data: Any, name: str) -> None:
  """That `data` = (x, y) fits a network of `sizes`: x (n, n_0) real numbers, and y integer labels
  (n,) in [0, n_L) or real targets (n, n_L), all finite, n ≥ 1.

  Raises:
    InputError: naming `name` (e.g. "validation"), the shape or value, and what was expected.
  """
  x, y = as_array(data[0], f"{name} inputs"), as_array(data[1], f"{name} labels")
  if np.ndim(x) != 2 or np.shape(x)[1] != sizes[0]:
    hint = f": expected a network of {np.shape(x)[1]} inputs" if np.ndim(x) == 2 else ""
    raise InputError(
      f"{name} inputs have shape {tuple(np.shape(x))}; the network {list(sizes)} expects "
      f"(n, {sizes[0]}){hint}"
    )
  if not np.shape(x)[0]:
    raise InputError(f"{name} set has no examples; expected at least one")
  if np.shape(y)[:1] != np.shape(x)[:1]:
    raise InputError(f"{name} has {np.shape(x)[0]} inputs but {np.shape(y)[0]} labels/targets")
  if jnp.issubdtype(y.dtype, jnp.integer):
    if np.ndim(y) != 1:
      raise InputError(f"{name} labels have shape {tuple(np.shape(y))}; expected (n,)")
    if is_traced(y):
      return
    lo, hi = int(np.min(y)), int(np.max(y))
    if lo < 0 or hi >= sizes[-1]:
      raise InputError(
        f"{name} labels span {lo}..{hi}; the network {list(sizes)} has {sizes[-1]} outputs: "
        f"expected labels in 0..{sizes[-1] - 1}, or a network of at least {hi + 1} outputs"
      )
  elif np.shape(y)[1:] != (sizes[-1],):
    raise InputError(
      f"{name} targets have shape {tuple(np.shape(y))} and dtype {y.dtype}; the network "
      f"{list(sizes)} expects integer labels (n,) or float targets (n, {sizes[-1]})"
    )
  if not any(map(is_traced, (x, y))) and not all(all_finite(a) for a in (x, y)):
    raise InputError(f"{name} holds NaN or infinite values; expected finite numbers")
