"""Feed-forward networks of sigmoid layers.

A network of sizes [n_0, n_1, ..., n_L] has one layer per consecutive pair: layer l holds weights
w of shape (n_{l+1}, n_l) and biases b of shape (n_{l+1},), so that w_jk connects the k-th neuron
of one layer to the j-th neuron of the next. The output of the network for an input a is

    a' = σ(w a + b)      (Nielsen's equation (22)), applied layer by layer.

Parameters are a plain pytree: a list of `Layer(w, b)` named tuples. Inputs may be any real
numbers (a list, NumPy or JAX array, bool, integer or float); they are converted to the
parameters' dtype.
"""

from collections.abc import Sequence
from typing import Literal, NamedTuple

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from jaxnets._checks import InputError, check_inputs, check_key, check_params, check_sizes
from jaxnets.neurons import sigmoid

__all__ = ["Layer", "Params", "feedforward", "feedforward_batch", "init_params", "layer_sizes"]


class Layer(NamedTuple):
  """One sigmoid layer: z = w a + b, a' = σ(z)."""

  w: jax.Array  # (n_out, n_in)
  b: jax.Array  # (n_out,)


Params = list[Layer]


def init_params(
  key: jax.Array,
  sizes: Sequence[int],
  init: Literal["normal", "scaled"] = "normal",
  dtype: jax.typing.DTypeLike = jnp.float32,
) -> Params:
  """Random parameters for a network of the given layer sizes.

  Args:
    key: a JAX PRNG key (`jax.random.key(0)`, or a legacy `jax.random.PRNGKey(0)`).
    sizes: neurons per layer, input first, e.g. [784, 30, 10].
    init: "normal" draws every weight and bias from N(0, 1), as the book's network.py does;
      "scaled" divides the weights by √n_in (the book's chapter 3 improvement), so that the
      weighted input z of a neuron starts with unit variance and the sigmoid does not saturate.
    dtype: float32 (default), or float64 (the book's NumPy arithmetic; needs JAX's x64 mode).

  Returns:
    A list of `Layer(w, b)`, w of shape (sizes[i+1], sizes[i]), b of shape (sizes[i+1],).

  Raises:
    InputError: a bad key, sizes, init or dtype.
  """
  key = check_key(key)
  sizes = check_sizes(sizes)
  if init not in ("normal", "scaled"):
    raise InputError(f"init={init!r}; expected 'normal' or 'scaled'")
  try:
    dtype = jnp.dtype(dtype)
  except TypeError:
    raise InputError(f"dtype={dtype!r}; expected float32 or float64") from None
  if dtype not in (jnp.float32, jnp.float64):
    raise InputError(f"dtype={dtype.name}; expected float32 or float64")
  if jnp.dtype(dtype) == jnp.float64 and not jax.config.read("jax_enable_x64"):
    raise InputError(
      "dtype=float64 needs JAX's x64 mode: jax.config.update('jax_enable_x64', True)"
    )
  params = []
  for n_in, n_out, layer_key in zip(sizes[:-1], sizes[1:], jax.random.split(key, len(sizes) - 1)):
    w_key, b_key = jax.random.split(layer_key)
    w_OxI = jax.random.normal(w_key, (n_out, n_in), dtype)
    if init == "scaled":
      w_OxI = w_OxI / jnp.sqrt(jnp.asarray(n_in, dtype))
    b_O = jax.random.normal(b_key, (n_out,), dtype)
    params.append(Layer(w_OxI, b_O))
  return params


def layer_sizes(params: Params) -> tuple[int, ...]:
  """The sizes [n_0, n_1, ..., n_L] of a network, read off its parameters."""
  return check_params(params)


def feedforward(params: Params, x: ArrayLike) -> jax.Array:
  """The network's output for one example: a ← σ(w a + b), layer by layer.

  Args:
    params: the network, a list of `Layer(w, b)`.
    x: one input, shape (n_in,). `jax.vmap(feedforward, (None, 0))` maps it over a batch.

  Returns:
    The output activations, shape (n_out,), in the parameters' dtype.
  """
  a_I = check_inputs(params, x, "x", ranks=(1,))
  for w_OxI, b_O in params:
    a_I = sigmoid(w_OxI @ a_I + b_O)
  return a_I


def feedforward_batch(params: Params, x: ArrayLike) -> jax.Array:
  """`feedforward` vmapped over the examples of a batch, kept as the columns of a matrix.

  The book's layout for a mini-batch (Nielsen, chapter 2): the examples are the columns of A,
  and one layer is A ← σ(w A + b), b added to every column. `x.T` is vmapped over its columns,
  and so is each b, broadcast to one column per example, so that the traced program is exactly
  that matrix form (docs/design.md says why this layout).

  Args:
    params: the network.
    x: a batch of inputs, shape (n, n_in).

  Returns:
    The outputs, shape (n, n_out): row j is `feedforward(params, x[j])`.
  """
  x_BxI = check_inputs(params, x, "x", ranks=(2,))
  n = x_BxI.shape[0]
  columns = [Layer(w_OxI, jnp.broadcast_to(b_O[:, None], (len(b_O), n))) for w_OxI, b_O in params]
  in_axes = [Layer(None, 1) for _ in params]  # type: ignore[arg-type]  # w shared, b mapped
  return jax.vmap(feedforward, in_axes=(in_axes, 1), out_axes=1)(columns, x_BxI.T).T
