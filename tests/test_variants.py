"""The book's functions give the same answers jitted and not (chex.variants), against NumPy."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
from helpers import numpy_forward

import jaxnets as jn
from jaxnets.bench import numpy_reference as reference


def problem(sizes=(6, 5, 3), n=4):
  params = jn.init_params(jax.random.key(0), sizes)
  x = jax.random.uniform(jax.random.key(1), (n, sizes[0]))
  labels = jnp.arange(n, dtype=jnp.int32) % sizes[-1]
  return params, x, jax.nn.one_hot(labels, sizes[-1]), labels


class CoreVariantsTest(chex.TestCase):
  @chex.all_variants(with_pmap=False)
  def test_neurons(self):
    w, b = jnp.array([-2.0, -2.0]), jnp.float32(3.0)
    x = jnp.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    np.testing.assert_array_equal(self.variant(jn.perceptron)(w, b, x), [1.0, 1.0, 1.0, 0.0])
    np.testing.assert_allclose(
      self.variant(jn.sigmoid_neuron)(w, b, x), 1 / (1 + np.exp(-(x @ w + 3.0))), rtol=1e-6
    )

  @chex.all_variants(with_pmap=False)
  def test_feedforward(self):
    params, x, _, _ = problem()
    expected = numpy_forward(params, x)
    np.testing.assert_allclose(self.variant(jn.feedforward)(params, x[0]), expected[0], rtol=1e-5)
    np.testing.assert_allclose(self.variant(jn.feedforward_batch)(params, x), expected, rtol=1e-5)

  @chex.all_variants(with_pmap=False)
  def test_cost_and_gradient(self):
    params, x, y, _ = problem()
    expected = 0.5 * np.sum((np.asarray(y) - numpy_forward(params, x)) ** 2) / len(x)
    np.testing.assert_allclose(self.variant(jn.quadratic_cost)(params, x, y), expected, rtol=1e-5)
    grads = self.variant(jn.minibatch_gradient)(params, x, y)
    numpy_params = [(np.asarray(w, np.float64), np.asarray(b, np.float64)) for w, b in params]
    per_example = [reference.backprop(numpy_params, xi, yi) for xi, yi in zip(np.asarray(x), y)]
    for l, (gw, gb) in enumerate(grads):
      np.testing.assert_allclose(gw, np.mean([g[l][0] for g in per_example], 0), atol=1e-6)
      np.testing.assert_allclose(gb, np.mean([g[l][1] for g in per_example], 0), atol=1e-6)

  @chex.all_variants(with_pmap=False)
  def test_sgd_step_and_evaluate(self):
    params, x, y, labels = problem()
    stepped = self.variant(jn.sgd_step)(params, x, y, 3.0)
    numpy_params = [(np.asarray(w), np.asarray(b)) for w, b in params]
    expected = reference.sgd_step_matrix(numpy_params, np.asarray(x), np.asarray(y), 3.0)
    for (w, b), (w_ref, b_ref) in zip(stepped, expected):
      np.testing.assert_allclose(w, w_ref, rtol=1e-5, atol=1e-6)
      np.testing.assert_allclose(b, b_ref, rtol=1e-5, atol=1e-6)
    predicted = np.argmax(numpy_forward(params, x), axis=1)
    assert int(self.variant(jn.evaluate)(params, x, labels)) == int(np.sum(predicted == labels))
    np.testing.assert_array_equal(self.variant(jn.predict)(params, x), predicted)
