"""Gradient descent on any differentiable function, Nielsen's equation (10):

    v → v' = v − η ∇C.

For C(v1, v2) = v1² + v2² the gradient is 2v, so each step multiplies v by (1 − 2η): the iterates
shrink towards the minimum at 0 for 0 < η < 1 and diverge for η > 1.
"""

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike


def gradient_descent(
  f: Callable[[jax.Array], jax.Array],
  x0: ArrayLike,
  eta: float,
  steps: int,
) -> jax.Array:
  """Runs `steps` steps of v ← v − η ∇f(v) from x0, compiled as one `lax.scan`.

  Args:
    f: a scalar-valued differentiable function of one array.
    x0: the starting point (any shape, floating point).
    eta: the learning rate η.
    steps: how many steps to take, ≥ 0.

  Returns:
    The trajectory, shape (steps + 1, *x0.shape): x0 first, then every iterate.
  """
  if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
    raise ValueError(f"steps={steps!r}; expected an integer ≥ 0")
  x0 = jnp.asarray(x0)
  if not jnp.issubdtype(x0.dtype, jnp.floating):
    raise TypeError(f"x0 has dtype {x0.dtype}; expected floating point (e.g. [1.0, 1.0])")
  return _trajectory(f, x0, jnp.asarray(eta, x0.dtype), steps)


@jax.jit(static_argnums=(0, 3))
def _trajectory(f, x0, eta, steps):
  grad_f = jax.grad(f)

  def step(x, _):
    x_next = x - eta * grad_f(x)
    return x_next, x_next

  _, xs = jax.lax.scan(step, x0, length=steps)
  return jnp.concatenate([x0[None], xs])
