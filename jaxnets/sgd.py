"""Stochastic gradient descent on mini-batches, Nielsen's equations (20) and (21):

    w_k → w_k' = w_k − (η/m) Σ_j ∂C_Xj/∂w_k,      b_l → b_l' = b_l − (η/m) Σ_j ∂C_Xj/∂b_l,

the sum over the m training inputs X_1, ..., X_m of a mini-batch. The average of the m
per-example gradients ∇C_Xj estimates the true gradient ∇C (equation (18)).

Two ways to compute that average, equal up to float rounding:
  - `per_example_gradients`: the book's explanation as code, `jax.vmap(jax.grad(C_x))`, one
    gradient per example, then their mean;
  - `minibatch_gradient`: `jax.grad` of the mini-batch cost, the forward pass vmapped over the
    examples (`feedforward_batch`). This is the fast one and the one `sgd_step` and training use.
"""

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from jaxnets.cost import quadratic_cost, targets
from jaxnets.network import Params

Indices = jax.Array | np.ndarray


def minibatch_gradient(params: Params, x: ArrayLike, y: ArrayLike) -> Params:
  """∇C of the mini-batch cost C = 1/(2m) Σ_j ‖y_j − a_j‖², a pytree shaped like `params`."""
  return jax.grad(quadratic_cost)(params, x, y)


def per_example_gradients(params: Params, x: ArrayLike, y: ArrayLike) -> Params:
  """∇C_x for each example x of the batch, by `jax.vmap(jax.grad(...))`.

  Args:
    params: the network.
    x: inputs, shape (m, n_in).
    y: desired outputs, shape (m, n_out).

  Returns:
    A pytree shaped like `params` with a leading axis of size m: entry j is the gradient of
    C_Xj = ½‖y_j − a_j‖². Its mean over that axis equals `minibatch_gradient`.
  """

  def example_cost(p, x_I, y_O):
    return quadratic_cost(p, x_I[None], y_O[None])

  return jax.vmap(jax.grad(example_cost), in_axes=(None, 0, 0))(params, x, y)


@jax.jit
def sgd_step(params: Params, x: ArrayLike, y: ArrayLike, eta: ArrayLike) -> Params:
  """One step of mini-batch SGD: w ← w − η ∇C, b ← b − η ∇C, jitted.

  Args:
    params: the network.
    x: a mini-batch of inputs, shape (m, n_in).
    y: desired outputs, shape (m, n_out).
    eta: the learning rate η (traced: changing it does not recompile).

  Returns:
    The updated parameters. Compiles once per shape of (params, x, y).
  """
  grads = minibatch_gradient(params, x, y)
  return jax.tree.map(lambda p, g: p - jnp.asarray(eta, p.dtype) * g, params, grads)


def minibatch_indices(order_N: Indices, batch_size: int) -> tuple[Indices, Indices]:
  """An epoch's order cut into mini-batches, as the book's slicing does.

  Returns:
    (full_SxB, rest_R): S = n // batch_size full mini-batches of indices, and the R = n % batch_size
    indices of a last, smaller mini-batch, possibly empty.
  """
  steps = order_N.shape[0] // batch_size
  return order_N[: steps * batch_size].reshape(steps, batch_size), order_N[steps * batch_size :]


def sgd_epoch(
  params: Params, x: ArrayLike, y: ArrayLike, order: ArrayLike, batch_size: int, eta: float
) -> Params:
  """One epoch the book's way: `sgd_step` on each mini-batch of `order`, in a Python loop.

  The reference `jaxnets.train_epoch` (one compiled program) is tested against.

  Args:
    params: the network.
    x: training inputs (N, n_in).
    y: integer labels (N,) or float targets (N, n_out).
    order: the epoch's shuffle, indices into x (e.g. `epoch_order(key, epoch, N)`).
    batch_size: the mini-batch size m; a last, smaller mini-batch takes the rest.
    eta: the learning rate η.
  """
  full_SxB, rest_R = minibatch_indices(np.asarray(order), batch_size)
  y_NxO = targets(jnp.asarray(y), params[-1].w.shape[0], params[-1].w.dtype)
  for idx_B in [*full_SxB, *([rest_R] if len(rest_R) else [])]:
    params = sgd_step(params, jnp.asarray(x)[idx_B], y_NxO[idx_B], eta)
  return params
