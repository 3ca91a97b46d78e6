"""Feed-forward networks of sigmoid layers.

A network of sizes [n_0, n_1, ..., n_L] has one layer per consecutive pair: layer l holds weights
w of shape (n_{l+1}, n_l) and biases b of shape (n_{l+1},), so that w_jk connects the k-th neuron
of one layer to the j-th neuron of the next. The output of the network for an input a is

    a' = σ(w a + b)      (Nielsen's equation (22)), applied layer by layer.

Parameters are a plain pytree: a list of `Layer(w, b)` named tuples.
"""

from collections.abc import Sequence
from typing import Literal, NamedTuple

import chex
import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from jaxnets.neurons import sigmoid


class Layer(NamedTuple):
  """One sigmoid layer: z = w a + b, a' = σ(z)."""

  w: jax.Array  # (n_out, n_in)
  b: jax.Array  # (n_out,)


Params = list[Layer]


def check_sizes(sizes: Sequence[int]) -> tuple[int, ...]:
  """Returns `sizes` as a tuple of ints, or raises ValueError naming the bad size."""
  sizes = tuple(sizes)
  if len(sizes) < 2:
    raise ValueError(
      f"sizes {list(sizes)} has {len(sizes)} layer(s); expected at least 2 "
      "(an input layer and an output layer), e.g. [784, 30, 10]"
    )
  for i, n in enumerate(sizes):
    if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
      raise ValueError(f"sizes[{i}] = {n!r} in {list(sizes)}; expected a positive integer")
  return sizes


def init_params(
  key: jax.Array,
  sizes: Sequence[int],
  init: Literal["normal", "scaled"] = "normal",
) -> Params:
  """Random parameters for a network of the given layer sizes.

  Args:
    key: a JAX PRNG key.
    sizes: neurons per layer, input first, e.g. [784, 30, 10].
    init: "normal" draws every weight and bias from N(0, 1), as the book's network.py does;
      "scaled" divides the weights by √n_in (the book's chapter 3 improvement), so that the
      weighted input z of a neuron starts with unit variance and the sigmoid does not saturate.

  Returns:
    A list of `Layer(w, b)`, w of shape (sizes[i+1], sizes[i]), b of shape (sizes[i+1],), float32.
  """
  sizes = check_sizes(sizes)
  if init not in ("normal", "scaled"):
    raise ValueError(f"init={init!r}; expected 'normal' or 'scaled'")
  params = []
  for n_in, n_out, layer_key in zip(sizes[:-1], sizes[1:], jax.random.split(key, len(sizes) - 1)):
    w_key, b_key = jax.random.split(layer_key)
    w_OxI = jax.random.normal(w_key, (n_out, n_in), jnp.float32)
    if init == "scaled":
      w_OxI = w_OxI / jnp.sqrt(jnp.float32(n_in))
    b_O = jax.random.normal(b_key, (n_out,), jnp.float32)
    params.append(Layer(w_OxI, b_O))
  return params


def layer_sizes(params: Params) -> tuple[int, ...]:
  """The sizes [n_0, n_1, ..., n_L] of a network, read off its parameters."""
  check_params(params)
  return (params[0].w.shape[1],) + tuple(layer.w.shape[0] for layer in params)


def check_params(params: Params) -> None:
  """Chex assertions on a network's parameters: ranks, float dtypes and matching layer sizes.

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


def check_inputs(params: Params, x: ArrayLike, name: str, rank: int) -> jax.Array:
  """Chex assertions that `x` is a float array of `rank` whose last axis matches the net's input."""
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


def feedforward(params: Params, x: ArrayLike) -> jax.Array:
  """The network's output for one example: a ← σ(w a + b), layer by layer.

  Args:
    params: the network, a list of `Layer(w, b)`.
    x: one input, shape (n_in,). `jax.vmap(feedforward, (None, 0))` maps it over a batch.

  Returns:
    The output activations, shape (n_out,).
  """
  a_I = check_inputs(params, x, "x", rank=1)
  for w_OxI, b_O in params:
    a_I = sigmoid(w_OxI @ a_I + b_O)
  return a_I


def feedforward_batch(params: Params, x: ArrayLike) -> jax.Array:
  """`feedforward` vmapped over the examples of a batch, kept as the columns of a matrix.

  The book's layout for a mini-batch (Nielsen, chapter 2): the activations of its examples are the
  columns of A, and one layer is A ← σ(w A + b), b added to every column. Here `x.T` is vmapped
  over its columns and so is each layer's b, broadcast to one column per example. Left unmapped,
  b would make vmap move the examples to the first axis (to add b to each of them), and the
  weight gradient would then multiply two transposed operands, which XLA:CPU runs through slower
  Eigen code instead of YNNPACK (`python -m jaxnets bench` times both layouts side by side).

  Args:
    params: the network.
    x: a batch of inputs, shape (n, n_in).

  Returns:
    The outputs, shape (n, n_out): row j is `feedforward(params, x[j])`.
  """
  x_BxI = check_inputs(params, x, "x", rank=2)
  n = x_BxI.shape[0]
  columns = [Layer(w_OxI, jnp.broadcast_to(b_O[:, None], (len(b_O), n))) for w_OxI, b_O in params]
  in_axes = [Layer(None, 1) for _ in params]
  return jax.vmap(feedforward, in_axes=(in_axes, 1), out_axes=1)(columns, x_BxI.T).T
