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


def test_gradient_descent_bad_input():
  with pytest.raises(ValueError, match="steps=-1"):
    jn.gradient_descent(bowl, jnp.ones(2), 0.1, steps=-1)
  with pytest.raises(TypeError, match="x0 has dtype int32"):
    jn.gradient_descent(bowl, jnp.ones(2, jnp.int32), 0.1, steps=1)
