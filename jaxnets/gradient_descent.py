"""Gradient descent on any differentiable function, Nielsen's equation (10):

    v → v' = v − η ∇C.

For C(v1, v2) = v1² + v2² the gradient is 2v, so each step multiplies v by (1 − 2η): the iterates
shrink towards the minimum at 0 for 0 < η < 1 and diverge for η > 1.
"""

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from jaxnets._checks import InputError, as_array, check_eta, check_int, float_dtype, short

__all__ = ["gradient_descent"]


def gradient_descent(
  f: Callable[[jax.Array], jax.Array],
  x0: ArrayLike,
  eta: float,
  steps: int,
) -> jax.Array:
  """Runs `steps` steps of v ← v − η ∇f(v) from x0, compiled as one `lax.scan`.

  Args:
    f: a scalar-valued differentiable function of one array.
    x0: the starting point: any shape of real numbers (integers are converted to float32, or
      float64 in x64 mode).
    eta: the learning rate η, a finite number > 0.
    steps: how many steps to take, ≥ 0.

  Returns:
    The trajectory, shape (steps + 1, *x0.shape), floating point: x0 first, then every iterate.

  Raises:
    InputError: a bad x0, η or step count, or an `f` that is not callable.
  """
  steps = check_int("steps", steps, minimum=0)
  eta = check_eta(eta)
  if not callable(f):
    raise InputError(f"f={f!r}; expected a function of one array returning a scalar")
  start = as_array(x0, "x0")
  dtype = float_dtype(start)
  start = jnp.asarray(start).astype(dtype)
  out = jax.eval_shape(f, start)
  if getattr(out, "shape", None) != () or not jnp.issubdtype(out.dtype, jnp.floating):
    raise InputError(
      f"f returns {short(out)} for x0 of shape {start.shape}; expected a floating point scalar, "
      "the value C(v) to descend"
    )
  return _trajectory(f, start, jnp.asarray(eta, dtype), steps)


@functools.partial(jax.jit, static_argnums=(0, 3))
def _trajectory(f, x0, eta, steps):
  grad_f = jax.grad(f)

  def step(x, _):
    x_next = x - eta * grad_f(x)
    return x_next, x_next

  _, xs = jax.lax.scan(step, x0, length=steps)
  return jnp.concatenate([x0[None], xs])
