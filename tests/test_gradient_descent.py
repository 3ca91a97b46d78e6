import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxnets as jn


def bowl(v):
  return jnp.sum(v**2)  # C(x, y) = x² + y²


@pytest.mark.parametrize("eta", [0.01, 0.1, 0.4, 0.9, 1.1])
def test_each_step_multiplies_by_one_minus_two_eta(eta):
  traj = jn.gradient_descent(bowl, jnp.array([1.0, -2.0]), eta, steps=20)
  assert traj.shape == (21, 2)
  expected = np.array([1.0, -2.0]) * (1 - 2 * eta) ** np.arange(21)[:, None]
  np.testing.assert_allclose(traj, expected, rtol=1e-4, atol=1e-30)
  final = float(np.linalg.norm(traj[-1]))
  assert (final > float(np.linalg.norm(traj[0]))) == (eta > 1)


def test_integer_and_list_starts_are_floats():
  traj = jn.gradient_descent(bowl, [1, -2], 0.25, steps=2)
  assert traj.dtype == jnp.float32
  np.testing.assert_allclose(traj, [[1, -2], [0.5, -1], [0.25, -0.5]])
  with jax.enable_x64(True):
    assert jn.gradient_descent(bowl, np.ones(2), 0.1, steps=1).dtype == jnp.float64


@pytest.mark.parametrize(
  ("args", "message"),
  [
    ((bowl, [1.0], 0.1, -1), r"^steps=-1; expected an integer ≥ 0$"),
    ((bowl, [1.0], 0.1, 2.0), r"^steps=2.0; expected an integer ≥ 0$"),
    ((bowl, [1.0], 0.0, 1), r"^eta=0.0; expected a finite learning rate > 0$"),
    ((bowl, "one", 0.1, 1), r"^argument x0 has dtype <U3; expected real numbers$"),
    ((lambda v: v * 2, [1.0, 2.0], 0.1, 1), r"^f returns an array of shape \(2,\) and dtype"),
    ((None, [1.0], 0.1, 1), r"^f=None; expected a function"),
  ],
)
def test_gradient_descent_bad_input(args, message):
  with pytest.raises(jn.InputError, match=message):
    jn.gradient_descent(*args)
