"""Arrays in, and parameters: real numbers as arrays, a network's layers, a population's."""

from collections.abc import Sequence
from typing import Any

import chex
import jax
import jax.numpy as jnp
import numpy as np

from jaxnets._checks.values import InputError, shape_check, short


def as_array(value: Any, name: str) -> Any:
  """`value` as an array of real numbers (a JAX array, or a NumPy array for anything else)."""
  a: Any = value
  if not isinstance(value, jax.Array):
    try:
      a = np.asarray(value)
    except (ValueError, TypeError) as e:
      raise InputError(
        f"argument {name} can't be read as an array ({e}); expected numbers"
      ) from None
  if (
    a.dtype == bool or jnp.issubdtype(a.dtype, jnp.integer) or jnp.issubdtype(a.dtype, jnp.floating)
  ):
    return a
  raise InputError(f"argument {name} has dtype {a.dtype}; expected real numbers")


def is_traced(a: Any) -> bool:
  """Whether `a` is a tracer (inside `jax.jit`, `jax.grad`, ...): its values can't be read."""
  return isinstance(a, jax.core.Tracer)


def float_dtype(*arrays: Any) -> Any:
  """The dtype a computation on `arrays` runs in: the widest floating dtype among them, else
  JAX's default float (float32; float64 in x64 mode). Outside x64 mode, float64 is float32."""
  floats = [
    jax.dtypes.canonicalize_dtype(a.dtype) for a in arrays if jnp.issubdtype(a.dtype, jnp.floating)
  ]
  return max(floats, key=lambda d: d.itemsize) if floats else jnp.dtype(jnp.result_type(float))


def check_params(params: Any, name: str = "params") -> tuple[int, ...]:
  """The sizes [n_0, ..., n_L] of a network: a non-empty list of `Layer(w, b)`, w (n_out, n_in)
  and b (n_out,) floating point, each layer's n_in the previous layer's n_out.

  Raises:
    InputError: naming the layer, the array and the size that is wrong.
  """
  if not isinstance(params, (list, tuple)) or not params:
    raise InputError(f"{name} must be a non-empty list of Layer(w, b); got {short(params)}")
  sizes: list[int] = []
  for l, layer in enumerate(params):
    if not (isinstance(layer, tuple) and len(layer) == 2):
      raise InputError(f"{name}[{l}] must be a Layer(w, b) pair; got {short(layer)}")
    w, b = layer
    if not (hasattr(w, "shape") and hasattr(b, "shape")):
      raise InputError(f"{name}[{l}] must hold arrays w and b; got {short(layer)}")
    if not hasattr(w, "dtype") or not hasattr(b, "dtype"):
      raise InputError(f"{name}[{l}] must hold arrays w and b; got {short(layer)}")
    if len(w.shape) == 3 and len(b.shape) == 2:
      raise InputError(
        f"{name} is a population of {w.shape[0]} networks (params[{l}].w has shape "
        f"{tuple(w.shape)}); expected one network: train a population with "
        "jaxnets.fit_population, or take one member with jaxnets.member(params, k)"
      )
    with shape_check(f"{name}[{l}].w has shape {tuple(w.shape)}; expected (n_out, n_in)"):
      chex.assert_rank(jax.ShapeDtypeStruct(w.shape, w.dtype), 2)
    with shape_check(f"{name}[{l}].b has shape {tuple(b.shape)}; expected (n_out,)"):
      chex.assert_rank(jax.ShapeDtypeStruct(b.shape, b.dtype), 1)
    if not (jnp.issubdtype(w.dtype, jnp.floating) and w.dtype == b.dtype):
      raise InputError(
        f"{name}[{l}] has w of dtype {w.dtype} and b of dtype {b.dtype}; expected one floating "
        "point dtype (float32, or float64 in x64 mode)"
      )
    n_out, n_in = w.shape
    if b.shape != (n_out,):
      raise InputError(
        f"{name}[{l}].b has shape {tuple(b.shape)} but {name}[{l}].w has shape "
        f"{tuple(w.shape)}: expected b of shape ({n_out},)"
      )
    if sizes and n_in != sizes[-1]:
      raise InputError(
        f"{name}[{l}].w has shape {tuple(w.shape)} but layer {l - 1} outputs {sizes[-1]} "
        f"values: expected w of shape ({n_out}, {sizes[-1]})"
      )
    if not sizes:
      sizes.append(n_in)
    if w.dtype != params[0][0].dtype:
      raise InputError(
        f"{name}[{l}] is {w.dtype} but {name}[0] is {params[0][0].dtype}; expected one dtype"
      )
    sizes.append(n_out)
  return tuple(sizes)


def check_population(params: Any) -> tuple[int, tuple[int, ...]]:
  """(M, sizes) of a population: networks stacked on a leading axis M, every w of shape
  (M, n_out, n_in) and every b (M, n_out), one M for all.

  Raises:
    InputError: naming the layer, the array and the size that is wrong.
  """
  if not isinstance(params, (list, tuple)) or not params:
    raise InputError(f"params must be a non-empty list of Layer(w, b); got {short(params)}")
  counts = []
  for l, layer in enumerate(params):
    if not (isinstance(layer, tuple) and len(layer) == 2 and hasattr(layer[0], "shape")):
      raise InputError(f"params[{l}] must be a Layer(w, b) pair of arrays; got {short(layer)}")
    w, b = layer
    if np.ndim(w) == 2 and l == 0:
      raise InputError(
        f"params is one network (params[0].w has shape {tuple(np.shape(w))}); expected a "
        "population, its members stacked on a leading axis (jaxnets.init_population): train one "
        "network with jaxnets.fit"
      )
    with shape_check(f"params[{l}].w has shape {tuple(np.shape(w))}; expected (M, n_out, n_in)"):
      chex.assert_rank(w, 3)
    with shape_check(f"params[{l}].b has shape {tuple(np.shape(b))}; expected (M, n_out)"):
      chex.assert_rank(b, 2)
    counts += [(f"params[{l}].w", w.shape[0]), (f"params[{l}].b", b.shape[0])]
  if len({m for _, m in counts}) != 1:
    raise InputError(
      "the arrays of a population stack different numbers of members: "
      + ", ".join(f"{name} {m}" for name, m in counts)
      + "; expected one leading axis M for all"
    )
  return counts[0][1], check_params(member_shapes(params))


def member_shapes(params: Any) -> Any:
  """One member of a population's parameters as shapes only: (w, b) pairs of
  `jax.ShapeDtypeStruct`."""
  return [tuple(jax.ShapeDtypeStruct(a.shape[1:], a.dtype) for a in layer) for layer in params]


def is_population(params: Any) -> bool:
  """Whether `params` look like a population (its first w of rank 3), not one network."""
  return (
    isinstance(params, (list, tuple))
    and bool(params)
    and isinstance(params[0], tuple)
    and len(params[0]) == 2
    and np.ndim(params[0][0]) == 3
  )


def network_or_population(params: Any) -> tuple[int | None, tuple[int, ...]]:
  """(None, sizes) of one network; (M, sizes) of a population (its w of rank 3)."""
  return check_population(params) if is_population(params) else (None, check_params(params))


def check_inputs(params: Any, x: Any, name: str, ranks: Sequence[int] = (1, 2)) -> jax.Array:
  """`x` as a JAX array in the parameters' dtype: one example (n_in,) or a batch (n, n_in)."""
  sizes = check_params(params)
  x = as_array(x, name)
  what = {1: "one example (n_in,)", 2: "a batch (n, n_in)"}
  expected = " or ".join(what[r] for r in ranks).replace("n_in", str(sizes[0]))
  if np.ndim(x) not in ranks or np.shape(x)[-1] != sizes[0]:
    raise InputError(
      f"argument {name} has shape {tuple(np.shape(x))}; the network {list(sizes)} expects "
      f"{expected}"
    )
  return jnp.asarray(x).astype(params[0][0].dtype)
