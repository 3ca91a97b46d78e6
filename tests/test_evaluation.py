import jax.numpy as jnp
import numpy as np
import pytest

import jaxnets as jn


def identity_like_net():
  # A [3, 3] net whose output is largest at the input's largest coordinate.
  return [jn.Layer(10 * jnp.eye(3), jnp.zeros(3))]


def test_evaluate_counts_argmax_hits():
  params = identity_like_net()
  x = jnp.array([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0], [0, 1.0, 0]])
  labels = jnp.array([0, 1, 2, 2])
  assert int(jn.evaluate(params, x, labels)) == 3
  assert float(jn.accuracy(params, x, labels)) == 0.75
  np.testing.assert_array_equal(jn.predict(params, x), [0, 1, 2, 1])


def test_evaluate_bad_labels():
  params = identity_like_net()
  with pytest.raises(AssertionError, match="labels must be integer classes"):
    jn.evaluate(params, jnp.eye(3), jnp.zeros(3))
  with pytest.raises(AssertionError, match="x and labels must hold the same n examples"):
    jn.evaluate(params, jnp.eye(3), jnp.zeros(2, jnp.int32))
