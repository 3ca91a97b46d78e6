"""Neurons: the perceptron and the sigmoid neuron.

A perceptron with weights w and bias b outputs

    output = 0 if w·x + b ≤ 0,   1 if w·x + b > 0,

and a sigmoid neuron outputs σ(w·x + b), where σ(z) = 1 / (1 + e^(−z)) is the sigmoid function.
A small change in w or b changes a sigmoid neuron's output a little, never flips it (Nielsen,
chapter 1): that is what makes learning by gradient descent possible.

w, b and x may be any real numbers (Python scalars, lists, NumPy or JAX arrays, bool, integer or
float); they are computed in the widest floating dtype among them, float32 when none is a float
(float64 in JAX's x64 mode).
"""

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from jaxnets._checks import InputError, as_array, float_dtype

__all__ = ["perceptron", "sigmoid", "sigmoid_neuron"]


def sigmoid(z: ArrayLike) -> jax.Array:
  """σ(z) = 1 / (1 + e^(−z)), elementwise and overflow-free, in z's floating dtype (float32 for
  integers)."""
  z_D = as_array(z, "z")
  return jax.nn.sigmoid(jnp.asarray(z_D).astype(float_dtype(z_D)))


def _weighted_input(w: ArrayLike, b: ArrayLike, x: ArrayLike) -> jax.Array:
  """z = w·x + b for one example x of shape (n,), or for each row of a batch (B, n)."""
  w_I, bias, x_D = as_array(w, "w"), as_array(b, "b"), as_array(x, "x")
  if w_I.ndim != 1 or bias.ndim != 0:
    raise InputError(
      f"a neuron's w has shape {w_I.shape} and b shape {bias.shape}; expected w a vector (n_in,) "
      "and b a scalar"
    )
  if x_D.ndim not in (1, 2) or x_D.shape[-1] != w_I.shape[0]:
    raise InputError(
      f"argument x has shape {x_D.shape} but w has {w_I.shape[0]} weights: expected x of shape "
      f"({w_I.shape[0]},) or (B, {w_I.shape[0]})"
    )
  dtype = float_dtype(w_I, bias, x_D)
  w_I, bias, x_D = (jnp.asarray(a).astype(dtype) for a in (w_I, bias, x_D))
  return x_D @ w_I + bias


def perceptron(w: ArrayLike, b: ArrayLike, x: ArrayLike) -> jax.Array:
  """A perceptron: 1 where w·x + b > 0, else 0.

  Args:
    w: weights, shape (n_in,).
    b: bias, a scalar.
    x: one input (n_in,) or a batch of inputs (B, n_in).

  Returns:
    0.0 or 1.0, a scalar for one input or shape (B,) for a batch, floating point (the dtype the
    neuron computes in).
  """
  z = _weighted_input(w, b, x)
  return (z > 0).astype(z.dtype)


def sigmoid_neuron(w: ArrayLike, b: ArrayLike, x: ArrayLike) -> jax.Array:
  """A sigmoid neuron: σ(w·x + b).

  Args:
    w: weights, shape (n_in,).
    b: bias, a scalar.
    x: one input (n_in,) or a batch of inputs (B, n_in).

  Returns:
    The output in [0, 1], a scalar for one input or shape (B,) for a batch.
  """
  return jax.nn.sigmoid(_weighted_input(w, b, x))
