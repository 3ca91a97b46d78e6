import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import numpy_forward

import jaxnets as jn


@pytest.fixture
def problem(key):
  params = jn.init_params(key, [4, 3, 2])
  x = jax.random.uniform(jax.random.key(1), (5, 4))
  y = jax.random.uniform(jax.random.key(2), (5, 2))
  return params, x, y


def test_quadratic_cost_sums_outputs_and_averages_examples(problem):
  params, x, y = problem
  a = numpy_forward(params, x)
  expected = np.sum((np.asarray(y) - a) ** 2) / (2 * 5)
  assert float(jn.quadratic_cost(params, x, y)) == pytest.approx(expected, rel=1e-6)
  # Not the mean over all n * n_out elements (that would divide eta by n_out):
  assert float(jn.quadratic_cost(params, x, y)) != pytest.approx(
    0.5 * np.mean((np.asarray(y) - a) ** 2), rel=1e-3
  )


def test_quadratic_cost_is_zero_at_the_outputs(key):
  params = jn.init_params(key, [3, 2])
  x = jnp.eye(3)
  assert float(jn.quadratic_cost(params, x, jn.feedforward_batch(params, x))) == 0.0


def test_integer_labels_are_the_books_one_hot_targets(key, mnist):
  """The datasets hold integer labels: the cost takes them as they are, y(x) one-hot."""
  params = jn.init_params(key, [784, 30, 10])
  x, labels = mnist.train.x[:10], mnist.train.y[:10]
  one_hot = np.eye(10, dtype=np.float32)[labels]
  np.testing.assert_array_equal(jn.targets(labels, 10), one_hot)
  assert float(jn.quadratic_cost(params, x, labels)) == float(jn.quadratic_cost(params, x, one_hot))
  assert jn.targets([3], 4, jnp.float32).tolist() == [[0.0, 0.0, 0.0, 1.0]]


def test_one_example_makes_per_example_gradients_a_one_liner(problem):
  """C_x = ½‖y − a‖² for one example; its vmapped gradient averages to the batch's gradient."""
  params, x, y = problem
  assert float(jn.quadratic_cost(params, x[0], y[0])) == pytest.approx(
    float(jn.quadratic_cost(params, x[:1], y[:1]))
  )
  per_example = jax.vmap(jax.grad(jn.quadratic_cost), in_axes=(None, 0, 0))(params, x, y)
  mean = jax.tree.map(lambda g: g.mean(0), per_example)
  batch = jax.grad(jn.quadratic_cost)(params, x, y)
  for a, b in zip(jax.tree.leaves(mean), jax.tree.leaves(batch)):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
  labels = jnp.array([0, 1, 1, 0, 1])  # the same with integer labels, one per example
  per_label = jax.vmap(jax.grad(jn.quadratic_cost), in_axes=(None, 0, 0))(params, x, labels)
  by_label = jax.grad(jn.quadratic_cost)(params, x, labels)
  np.testing.assert_allclose(per_label[0].w.mean(0), by_label[0].w, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize(
  ("y", "message"),
  [
    (np.ones((4, 9), np.float32), r"^argument y holds targets of shape \(4, 9\) and dtype float32"),
    (np.array([0, 1, 10, 2]), r"^argument y\[2\] = 10; expected class labels 0..9, one per output"),
    (np.array([0, -1, 3, 2]), r"^argument y\[1\] = -1; expected class labels 0..9"),
    (np.array([0.0, 1.0, 3.0, 2.0]), r"^argument y holds float labels of shape \(4,\)"),
    (np.array([0, 1, 2]), r"^argument y has shape \(3,\) for x of shape \(4, 784\); expected one"),
  ],
)
def test_bad_targets_and_labels_name_the_first_bad_value(key, y, message):
  params = jn.init_params(key, [784, 30, 10])
  with pytest.raises(jn.InputError, match=message):
    jn.quadratic_cost(params, np.ones((4, 784), np.float32), y)


def test_under_jit_a_label_out_of_range_is_a_target_of_zeros(key):
  """Traced labels can't be read: out of range, their y(x) is all zeros (as the docstring says)."""
  params = jn.init_params(key, [3, 2])
  x = jnp.ones((1, 3))
  cost = jax.jit(jn.quadratic_cost)(params, x, jnp.array([5]))
  zeros = jn.quadratic_cost(params, x, jnp.zeros((1, 2)))
  assert float(cost) == pytest.approx(float(zeros))
  with pytest.raises(jn.InputError, match=r"argument y\[0\] = 5"):
    jn.quadratic_cost(params, x, jnp.array([5]))  # not traced: refused


def test_an_empty_batch_is_refused(key):
  params = jn.init_params(key, [3, 2])
  with pytest.raises(jn.InputError, match="holds no examples"):
    jn.quadratic_cost(params, np.ones((0, 3)), np.ones((0, 2)))
