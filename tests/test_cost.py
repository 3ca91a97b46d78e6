import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxnets as jn


def test_quadratic_cost_sums_outputs_and_averages_examples(key):
  params = jn.init_params(key, [4, 3, 2])
  x = jax.random.uniform(jax.random.key(1), (5, 4))
  y = jax.random.uniform(jax.random.key(2), (5, 2))
  a = jn.feedforward_batch(params, x)
  expected = np.sum((np.asarray(y) - np.asarray(a)) ** 2) / (2 * 5)
  assert float(jn.quadratic_cost(params, x, y)) == pytest.approx(expected, rel=1e-6)
  # Not the mean over all n * n_out elements (that would divide eta by n_out):
  assert float(jn.quadratic_cost(params, x, y)) != pytest.approx(
    float(0.5 * jnp.mean((y - a) ** 2)), rel=1e-3
  )


def test_quadratic_cost_is_zero_at_the_outputs(key):
  params = jn.init_params(key, [3, 2])
  x = jnp.eye(3)
  assert float(jn.quadratic_cost(params, x, jn.feedforward_batch(params, x))) == 0.0


def test_quadratic_cost_shape_errors(key):
  params = jn.init_params(key, [784, 30, 10])
  with pytest.raises(AssertionError, match=r"argument y must be \(n, n_out\) = \(4, 10\)"):
    jn.quadratic_cost(params, jnp.ones((4, 784)), jnp.ones((4, 9)))
  with pytest.raises(AssertionError, match=r"argument x must be a batch"):
    jn.quadratic_cost(params, jnp.ones(784), jnp.ones((1, 10)))
