"""The quadratic cost (mean squared error), Nielsen's equation (6):

    C(w, b) = 1/(2n) Σ_x ‖y(x) − a‖²

summed over the outputs of each example and averaged over the n examples. Averaging over all
n · n_out elements instead would silently divide the learning rate η by n_out. For one example x
it is C_x = ½‖y(x) − a‖², and C is the average of the C_x (equation (18)).

The desired output y(x) is a one-hot vector for a class label (the book's y(6) =
(0, 0, 0, 0, 0, 0, 1, 0, 0, 0)ᵀ), or any vector of n_out targets for regression.
"""

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from jaxnets._checks import InputError, as_array, check_inputs, check_labels
from jaxnets.network import Params, feedforward_batch

__all__ = ["quadratic_cost", "targets"]


def targets(y: ArrayLike, n_out: int, dtype: jax.typing.DTypeLike = jnp.float32) -> jax.Array:
  """The desired outputs y(x) in `dtype`: one-hot rows for integer class labels, real targets as
  they are.

  Args:
    y: integer labels (n,) each in [0, n_out) (or one label, a scalar), or real targets
      (n, n_out) (or one target vector (n_out,)).
    n_out: the network's outputs.
    dtype: the floating dtype of the result (the parameters').

  Returns:
    (n, n_out) rows (or one (n_out,) row for one example) in `dtype`. Labels are checked where
    they are concrete; under `jax.jit` a label out of range gives an all-zero row.

  Raises:
    InputError: labels out of range, float labels (n,), or targets of the wrong width.
  """
  y_NxD = as_array(y, "y")
  if jnp.issubdtype(y_NxD.dtype, jnp.integer):
    return jax.nn.one_hot(check_labels(y_NxD, n_out, "y"), n_out, dtype=dtype)
  if y_NxD.ndim == 0 or y_NxD.shape[-1] != n_out:
    kind = "float labels" if y_NxD.ndim == 1 and n_out != y_NxD.shape[0] else "targets"
    raise InputError(
      f"argument y holds {kind} of shape {y_NxD.shape} and dtype {y_NxD.dtype}; expected "
      f"integer class labels (n,), or real targets (n, {n_out}), one column per output of the "
      "network"
    )
  return jnp.asarray(y_NxD).astype(dtype)


def quadratic_cost(params: Params, x: ArrayLike, y: ArrayLike) -> jax.Array:
  """C = 1/(2n) Σ_x ‖y(x) − a(x)‖² over a batch, or C_x = ½‖y(x) − a(x)‖² for one example.

  Args:
    params: the network, a list of `Layer(w, b)`.
    x: inputs, a batch (n, n_in), or one example (n_in,).
    y: the desired outputs: integer class labels (n,) (one label for one example), or real
      targets (n, n_out) (one row (n_out,) for one example). See `targets`.

  Returns:
    The cost, a scalar in the parameters' dtype. The one-example form makes per-example gradients
    a one-liner: `jax.vmap(jax.grad(quadratic_cost), in_axes=(None, 0, 0))(params, x, y)`.

  Raises:
    InputError: shapes that don't fit the network, labels out of range (where concrete), or an
      empty batch.
  """
  x = check_inputs(params, x, "x")
  one = x.ndim == 1
  x_BxI = x[None] if one else x
  if not x_BxI.shape[0]:
    raise InputError("argument x holds no examples; the cost of an empty batch is undefined")
  w_OxI = params[-1][0]
  y_BxO = targets(y, w_OxI.shape[0], w_OxI.dtype)
  y_BxO = y_BxO[None] if one else y_BxO
  if y_BxO.shape != (x_BxI.shape[0], w_OxI.shape[0]):
    raise InputError(
      f"argument y has shape {jnp.shape(y)} for x of shape {x.shape}; expected one label or one "
      f"row of {w_OxI.shape[0]} targets per example"
    )
  a_BxO = feedforward_batch(params, x_BxI)
  return 0.5 * jnp.sum(jnp.square(y_BxO - a_BxO)) / x_BxI.shape[0]
