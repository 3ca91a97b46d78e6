import itertools

import jax.numpy as jnp
import numpy as np
import pytest

import jaxnets as jn


def test_perceptron_computes_nand():
  w, b = jnp.array([-2.0, -2.0]), 3.0
  for x1, x2 in itertools.product([0.0, 1.0], repeat=2):
    assert float(jn.perceptron(w, b, jnp.array([x1, x2]))) == float(not (x1 and x2))


def test_perceptron_is_a_step_at_zero():
  w = jnp.array([1.0])
  assert float(jn.perceptron(w, 0.0, jnp.array([0.0]))) == 0.0  # w·x + b = 0 gives 0
  assert float(jn.perceptron(w, 0.0, jnp.array([1e-6]))) == 1.0
  batch = jn.perceptron(w, -0.5, jnp.array([[0.0], [1.0]]))
  np.testing.assert_array_equal(batch, [0.0, 1.0])


def test_sigmoid_values_and_no_overflow():
  np.testing.assert_allclose(jn.sigmoid(0.0), 0.5)
  np.testing.assert_allclose(
    jn.sigmoid(jnp.array([-1.0, 2.0])), 1 / (1 + np.exp([1.0, -2.0])), rtol=1e-6
  )
  assert float(jn.sigmoid(-1000.0)) == 0.0 and float(jn.sigmoid(1000.0)) == 1.0


def test_sigmoid_neuron_approaches_perceptron_as_weights_grow():
  w, b, x = jnp.array([1.0, -1.0]), 0.25, jnp.array([0.3, 0.1])
  assert float(jn.sigmoid_neuron(w, b, x)) == pytest.approx(float(jn.sigmoid(0.45)))
  big = float(jn.sigmoid_neuron(1000 * w, 1000 * b, x))
  assert big == pytest.approx(float(jn.perceptron(w, b, x)))


def test_neuron_shape_errors_name_the_argument():
  with pytest.raises(AssertionError, match="x has 3 inputs .* but w has 2"):
    jn.perceptron(jnp.ones(2), 0.0, jnp.ones(3))
  with pytest.raises(AssertionError, match="neuron argument b must be a scalar"):
    jn.sigmoid_neuron(jnp.ones(2), jnp.ones(2), jnp.ones(2))
