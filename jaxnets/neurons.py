"""Neurons: the perceptron and the sigmoid neuron.

A perceptron with weights w and bias b outputs

    output = 0 if w·x + b ≤ 0,   1 if w·x + b > 0,

and a sigmoid neuron outputs σ(w·x + b), where σ(z) = 1 / (1 + e^(−z)) is the sigmoid function.
A small change in w or b changes a sigmoid neuron's output a little, never flips it (Nielsen,
chapter 1): that is what makes learning by gradient descent possible.
"""

import chex
import jax
import jax.numpy as jnp
from jax.typing import ArrayLike


def sigmoid(z: ArrayLike) -> jax.Array:
  """The sigmoid (logistic) function σ(z) = 1 / (1 + e^(−z)), elementwise and overflow-free."""
  return jax.nn.sigmoid(jnp.asarray(z))


def _weighted_input(w: ArrayLike, b: ArrayLike, x: ArrayLike) -> jax.Array:
  """z = w·x + b for one example x of shape (n,), or for each row of a batch (B, n)."""
  w_I, b, x = jnp.asarray(w), jnp.asarray(b), jnp.asarray(x)
  chex.assert_rank(w_I, 1, custom_message="neuron argument w must be a vector (n_in,)")
  chex.assert_rank(b, 0, custom_message="neuron argument b must be a scalar")
  chex.assert_rank(x, {1, 2}, custom_message="neuron argument x must be (n_in,) or (B, n_in)")
  if x.shape[-1] != w_I.shape[0]:
    raise AssertionError(
      f"neuron argument x has {x.shape[-1]} inputs (shape {x.shape}) but w has "
      f"{w_I.shape[0]}: expected x of shape ({w_I.shape[0]},) or (B, {w_I.shape[0]})"
    )
  return x @ w_I + b


def perceptron(w: ArrayLike, b: ArrayLike, x: ArrayLike) -> jax.Array:
  """A perceptron: 1 where w·x + b > 0, else 0.

  Args:
    w: weights, shape (n_in,).
    b: bias, a scalar.
    x: one input (n_in,) or a batch of inputs (B, n_in).

  Returns:
    0.0 or 1.0, a scalar for one input or shape (B,) for a batch, in the dtype of w·x + b.
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
    The output in (0, 1), a scalar for one input or shape (B,) for a batch.
  """
  return sigmoid(_weighted_input(w, b, x))
