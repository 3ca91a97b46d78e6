import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxnets as jn


def test_perceptron_computes_nand():
  w, b = jnp.array([-2.0, -2.0]), 3.0
  for x1, x2 in itertools.product([0.0, 1.0], repeat=2):
    assert float(jn.perceptron(w, b, jnp.array([x1, x2]))) == float(not (x1 and x2))


def test_the_books_integer_nand_gives_floats():
  """The book writes the NAND perceptron in integers: w = (−2, −2), b = 3. Integer inputs give
  0.0 or 1.0 in float32, as the docstring says, and so do Python lists and bools."""
  table = jn.perceptron([-2, -2], 3, [[0, 0], [0, 1], [1, 0], [1, 1]])
  assert table.dtype == jnp.float32
  np.testing.assert_array_equal(table, [1.0, 1.0, 1.0, 0.0])
  out = jn.perceptron(np.array([-2, -2], np.int8), np.int64(3), np.array([True, True]))
  assert out.dtype == jnp.float32 and float(out) == 0.0
  s = jn.sigmoid_neuron([-2, -2], 3, [1, 0])
  assert s.dtype == jnp.float32 and float(s) == pytest.approx(1 / (1 + np.exp(-1.0)))


def test_the_widest_float_wins():
  with jax.enable_x64(True):
    out = jn.sigmoid_neuron(np.ones(2, np.float64), np.float32(0.5), np.ones(2, np.float32))
    assert out.dtype == jnp.float64
  assert jn.sigmoid(np.int32(0)).dtype == jnp.float32 and float(jn.sigmoid(0)) == 0.5


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


@pytest.mark.parametrize(
  ("w", "b", "x", "message"),
  [
    (np.ones(2), 0.0, np.ones(3), r"^argument x has shape \(3,\) but w has 2 weights: expected"),
    (np.ones(2), np.ones(2), np.ones(2), r"^a neuron's w has shape \(2,\) and b shape \(2,\)"),
    (np.ones((2, 2)), 0.0, np.ones(2), r"expected w a vector \(n_in,\) and b a scalar$"),
    (np.ones(2), 0.0, np.ones((1, 1, 2)), r"expected x of shape \(2,\) or \(B, 2\)$"),
    (np.ones(2), 0.0, ["a", "b"], r"^argument x has dtype <U1; expected real numbers$"),
    (np.ones(2), 0.0, [[1.0], [1.0, 2.0]], r"^argument x can't be read as an array"),
    (np.ones(2, np.complex64), 0.0, np.ones(2), r"^argument w has dtype complex64"),
  ],
)
def test_bad_neuron_arguments_are_input_errors(w, b, x, message):
  for neuron in (jn.perceptron, jn.sigmoid_neuron):
    with pytest.raises(jn.InputError, match=message):
      neuron(w, b, x)
