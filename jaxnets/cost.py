"""The quadratic cost (mean squared error), Nielsen's equation (6):

    C(w, b) = 1/(2n) Σ_x ‖y(x) − a‖²

summed over the outputs of each example and averaged over the n examples. Averaging over all
n · n_out elements instead would silently divide the learning rate η by n_out.
"""

import chex
import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from jaxnets._checks import check_inputs
from jaxnets.network import Params, feedforward_batch


def quadratic_cost(params: Params, x: ArrayLike, y: ArrayLike) -> jax.Array:
  """C = 1/(2n) Σ_x ‖y(x) − a(x)‖² over a batch.

  Args:
    params: the network, a list of `Layer(w, b)`.
    x: inputs, shape (n, n_in).
    y: desired outputs, shape (n, n_out): one-hot vectors for classification.

  Returns:
    The cost, a float scalar.
  """
  x_BxI = check_inputs(params, x, "x", rank=2)
  y_BxO = jnp.asarray(y)
  n_out = params[-1].w.shape[0]
  chex.assert_shape(
    y_BxO,
    (x_BxI.shape[0], n_out),
    custom_message=f"argument y must be (n, n_out) = ({x_BxI.shape[0]}, {n_out}), one row per "
    "example of x and one column per output neuron",
  )
  a_BxO = feedforward_batch(params, x_BxI)
  return 0.5 * jnp.sum(jnp.square(y_BxO - a_BxO)) / x_BxI.shape[0]


def targets(y: jax.Array, n_out: int, dtype: jax.typing.DTypeLike = jnp.float32) -> jax.Array:
  """Desired outputs y(x) in `dtype`: one-hot vectors (n, n_out) for integer labels, float
  targets (n, n_out) as they are."""
  if jnp.issubdtype(y.dtype, jnp.integer):
    return jax.nn.one_hot(y, n_out, dtype=dtype)
  return y.astype(dtype)
