"""Stochastic gradient descent on mini-batches, Nielsen's equations (20) and (21):

    w_k → w_k' = w_k − (η/m) Σ_j ∂C_Xj/∂w_k,      b_l → b_l' = b_l − (η/m) Σ_j ∂C_Xj/∂b_l,

the sum over the m training inputs X_1, ..., X_m of a mini-batch. The average of the m
per-example gradients ∇C_Xj estimates the true gradient ∇C (equation (18)).

Two ways to compute that average, equal up to float rounding:
  - `per_example_gradients`: the book's explanation as code, `jax.vmap(jax.grad(C_x))`, one
    gradient per example, then their mean;
  - `minibatch_gradient`: `jax.grad` of the mini-batch cost, the forward pass vmapped over the
    examples (`feedforward_batch`). This is the fast one and the one `sgd_step` and training use.

An epoch cuts a shuffle of the training set into mini-batches (`minibatch_indices`) and takes a
step on each: `sgd_epoch` is the book's Python loop of `sgd_step`; `jaxnets.train_epoch` runs the
same steps as one compiled program, with `SGD`, the same update as an optax optimizer whose state
holds η (`with_learning_rate`), so that one compiled program serves every η.
"""

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.typing import ArrayLike

from jaxnets._checks import (
  InputError,
  as_array,
  check_eta,
  check_inputs,
  check_int,
  check_order,
  check_params,
  is_traced,
)
from jaxnets.cost import quadratic_cost, targets
from jaxnets.network import Params

__all__ = [
  "SGD",
  "minibatch_gradient",
  "minibatch_indices",
  "per_example_gradients",
  "sgd_epoch",
  "sgd_step",
  "with_learning_rate",
]


def minibatch_gradient(params: Params, x: ArrayLike, y: ArrayLike) -> Params:
  """∇C of the mini-batch cost C = 1/(2m) Σ_j ‖y_j − a_j‖², a pytree shaped like `params`.

  Args:
    params: the network.
    x: a mini-batch of inputs, shape (m, n_in).
    y: integer labels (m,), or real targets (m, n_out).
  """
  check_params(params)
  return jax.grad(quadratic_cost)(params, x, y)


def per_example_gradients(params: Params, x: ArrayLike, y: ArrayLike) -> Params:
  """∇C_x for each example x of the batch: `jax.vmap(jax.grad(quadratic_cost))` over the examples.

  Args:
    params: the network.
    x: inputs, shape (m, n_in).
    y: integer labels (m,), or real targets (m, n_out).

  Returns:
    A pytree shaped like `params` with a leading axis of size m: entry j is the gradient of
    C_Xj = ½‖y_j − a_j‖². Its mean over that axis equals `minibatch_gradient`.
  """
  x_BxI = check_inputs(params, x, "x", ranks=(2,))
  y_BxO = _targets(params, y, x_BxI.shape[0])
  return jax.vmap(jax.grad(quadratic_cost), in_axes=(None, 0, 0))(params, x_BxI, y_BxO)


def _targets(params: Params, y: ArrayLike, n: int) -> jax.Array:
  """y as (n, n_out) targets in the parameters' dtype, labels checked where concrete."""
  w_OxI = params[-1][0]
  y_BxO = targets(y, w_OxI.shape[0], w_OxI.dtype)
  if y_BxO.shape != (n, w_OxI.shape[0]):
    raise InputError(
      f"argument y has shape {jnp.shape(y)}; expected one label or one row of "
      f"{w_OxI.shape[0]} targets for each of the {n} examples of x"
    )
  return y_BxO


def sgd_step(params: Params, x: ArrayLike, y: ArrayLike, eta: ArrayLike) -> Params:
  """One step of mini-batch SGD: w ← w − η ∇C, b ← b − η ∇C, compiled once per shape.

  Args:
    params: the network.
    x: a mini-batch of inputs, shape (m, n_in).
    y: integer labels (m,), or real targets (m, n_out).
    eta: the learning rate η > 0 (traced: a new value does not recompile).

  Returns:
    The updated parameters.

  Raises:
    InputError: shapes that don't fit the network, labels out of range or η ≤ 0 (the values
      where concrete: under `jax.jit` they are not checked).
  """
  check_params(params)
  x_BxI = check_inputs(params, x, "x", ranks=(2,))
  y_BxO = _targets(params, y, x_BxI.shape[0])
  if not (is_traced(eta) or isinstance(eta, jax.Array) and eta.ndim == 0):
    eta = check_eta(eta)
  return _sgd_step(params, x_BxI, y_BxO, eta)


@jax.jit
def _sgd_step(params, x_BxI, y_BxO, eta):
  grads = minibatch_gradient(params, x_BxI, y_BxO)
  return jax.tree.map(lambda p, g: p - jnp.asarray(eta).astype(p.dtype) * g, params, grads)


Indices = jax.Array | np.ndarray


def minibatch_indices(order: ArrayLike, batch_size: int) -> tuple[Indices, Indices]:
  """An epoch's order cut into mini-batches, as the book's slicing does.

  Args:
    order: the epoch's shuffle, integer indices (n,) (NumPy or JAX).
    batch_size: the mini-batch size m ≥ 1.

  Returns:
    (full_SxB, rest_R): S = n // m full mini-batches of indices, and the R = n % m indices of a
    last, smaller mini-batch, possibly empty.
  """
  order_N = as_array(order, "order")
  if order_N.ndim != 1 or not jnp.issubdtype(order_N.dtype, jnp.integer):
    raise InputError(
      f"argument order has shape {order_N.shape} and dtype {order_N.dtype}; expected integer "
      "indices (n,)"
    )
  batch_size = check_int("batch_size", batch_size, minimum=1)
  steps = order_N.shape[0] // batch_size
  return order_N[: steps * batch_size].reshape(steps, batch_size), order_N[steps * batch_size :]


def sgd_epoch(
  params: Params, x: ArrayLike, y: ArrayLike, order: ArrayLike, batch_size: int, eta: float
) -> Params:
  """One epoch the book's way: `sgd_step` on each mini-batch of `order`, in a Python loop.

  `jaxnets.train_epoch` runs the same steps compiled whole (tested bit for bit against this).

  Args:
    params: the network.
    x: training inputs (N, n_in).
    y: integer labels (N,) or real targets (N, n_out).
    order: the epoch's shuffle, indices into x (e.g. `jaxnets.epoch_order(key, epoch, N)`).
    batch_size: the mini-batch size m; a last, smaller mini-batch takes the rest.
    eta: the learning rate η.
  """
  x_NxI = check_inputs(params, x, "x", ranks=(2,))
  y_NxO = _targets(params, y, x_NxI.shape[0])
  order_N = np.asarray(check_order(order, x_NxI.shape[0]))
  full_SxB, rest_R = minibatch_indices(order_N, batch_size)
  for idx_B in [*full_SxB, *([rest_R] if len(rest_R) else [])]:
    params = sgd_step(params, x_NxI[idx_B], y_NxO[idx_B], eta)
  return params


class SGDTransformation(optax.GradientTransformationExtraArgs):
  """The type of `SGD`: plain SGD, w ← w − η ∇C, η in its state. Its epochs may run in blocks of
  steps (`blocks=`); every other optimizer runs in plain steps."""

  __slots__ = ()


SGD = SGDTransformation(
  *optax.inject_hyperparams(optax.sgd, static_args=("momentum", "nesterov"))(learning_rate=3.0)
)
"""Plain SGD with η in its state: `with_learning_rate` (or `fit(eta=...)`) sets η."""


def with_learning_rate(opt_state: Any, eta: Any) -> Any:
  """`opt_state` with its learning rate η set, for an optimizer made by `optax.inject_hyperparams`
  (such as `SGD`): a new η changes the state, not the compiled program.

  Args:
    opt_state: the optimizer's state: of one network, or of a population (one η per member).
    eta: η > 0; for a population, one η for all or a sequence of one per member.
  """
  rate = getattr(opt_state, "hyperparams", {}).get("learning_rate")
  if rate is None:
    raise InputError(
      f"eta={eta!r} needs an optimizer with its learning rate in its state "
      "(optax.inject_hyperparams), such as jaxnets.SGD; pass the optimizer's own learning rate"
    )
  if isinstance(eta, (list, tuple, np.ndarray, jax.Array)):
    etas = [check_eta(e) for e in np.asarray(eta, dtype=object).ravel().tolist()]
    if np.ndim(eta) != 1 or rate.shape != (len(etas),):
      held = "one learning rate" if rate.ndim == 0 else f"{rate.shape[0]} learning rates"
      raise InputError(
        f"eta has {len(etas)} values (shape {np.shape(eta)}) but the optimizer's state holds "
        f"{held}: expected one η per member of the population, or a single η"
      )
    value = jnp.asarray(etas, rate.dtype)
  else:
    value = jnp.full(rate.shape, check_eta(eta), rate.dtype)
  return opt_state._replace(hyperparams={**opt_state.hyperparams, "learning_rate": value})
