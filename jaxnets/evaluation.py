"""Evaluation: the network's answer is the index of its most activated output neuron.

The book's `evaluate` counts the test inputs for which that answer is the correct label
("9129 / 10000"); accuracy is that count over n.
"""

import chex
import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from jaxnets.network import Params, feedforward_batch


def predict(params: Params, x: ArrayLike) -> jax.Array:
  """The predicted class of each example: argmax of the outputs, shape (n,) int32."""
  return jnp.argmax(feedforward_batch(params, x), axis=-1).astype(jnp.int32)


@jax.jit
def evaluate(params: Params, x: ArrayLike, labels: ArrayLike) -> jax.Array:
  """How many examples have their largest output at their label.

  Args:
    params: the network.
    x: inputs, shape (n, n_in).
    labels: integer class labels, shape (n,), each in [0, n_out).

  Returns:
    The number of correct answers, an int32 scalar (the book's "n / 10000").
  """
  labels_B = jnp.asarray(labels)
  chex.assert_rank(labels_B, 1, custom_message="argument labels must be (n,) integer classes")
  chex.assert_type(labels_B, int, custom_message="argument labels must be integer classes")
  predicted_B = predict(params, x)
  chex.assert_equal_shape(
    [predicted_B, labels_B], custom_message="arguments x and labels must hold the same n examples"
  )
  return jnp.sum(predicted_B == labels_B, dtype=jnp.int32)


def accuracy(params: Params, x: ArrayLike, labels: ArrayLike) -> jax.Array:
  """The fraction of examples classified correctly, a float32 scalar in [0, 1]."""
  return evaluate(params, x, labels) / jnp.shape(labels)[0]
