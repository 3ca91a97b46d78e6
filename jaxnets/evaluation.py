"""Evaluation: the network's answer is the index of its most activated output neuron.

The book's `evaluate` counts the test inputs for which that answer is the correct label
("9129 / 10000"); accuracy is that count over n.
"""

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from jaxnets._checks import InputError, check_inputs, check_labels
from jaxnets.network import Params, feedforward_batch

__all__ = ["accuracy", "evaluate", "predict"]


def predict(params: Params, x: ArrayLike) -> jax.Array:
  """The predicted class of each example: the argmax of its outputs.

  Args:
    params: the network.
    x: inputs (n, n_in), or one example (n_in,).

  Returns:
    int32 classes, shape (n,) (a scalar for one example).
  """
  x = check_inputs(params, x, "x")
  outputs = feedforward_batch(params, x if x.ndim == 2 else x[None])
  predicted_B = jnp.argmax(outputs, axis=-1).astype(jnp.int32)
  return predicted_B if x.ndim == 2 else predicted_B[0]


def evaluate(params: Params, x: ArrayLike, labels: ArrayLike) -> jax.Array:
  """How many examples have their largest output at their label.

  Args:
    params: the network.
    x: inputs, shape (n, n_in).
    labels: integer class labels, shape (n,), each in [0, n_out). Checked where concrete; under
      `jax.jit` a label out of range is never counted correct.

  Returns:
    The number of correct answers, an int32 scalar (the book's "9129 / 10000").

  Raises:
    InputError: shapes that don't fit, non-integer labels, or labels out of range.
  """
  x_BxI = check_inputs(params, x, "x", ranks=(2,))
  labels_B = check_labels(labels, params[-1][0].shape[0])
  if labels_B.shape != x_BxI.shape[:1]:
    raise InputError(
      f"argument labels has shape {labels_B.shape} for x of shape {x_BxI.shape}; expected one "
      "label per example, shape (n,)"
    )
  return _evaluate(params, x_BxI, labels_B)


@jax.jit
def _evaluate(params, x_BxI, labels_B):
  return jnp.sum(predict(params, x_BxI) == labels_B, dtype=jnp.int32)


def accuracy(params: Params, x: ArrayLike, labels: ArrayLike) -> jax.Array:
  """The fraction of examples classified correctly, a float32 scalar in [0, 1].

  Raises:
    InputError: as `evaluate`, or no examples at all.
  """
  correct = evaluate(params, x, labels)
  n = jnp.shape(x)[0]
  if not n:
    raise InputError("argument x holds no examples; the accuracy of none is undefined")
  return correct.astype(jnp.float32) / n
