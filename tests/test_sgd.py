import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

import jaxnets as jn
from jaxnets import sgd
from jaxnets.bench import numpy_reference as reference


def tiny_problem(dtype=jnp.float32, sizes=(4, 3, 2), n=5):
  params = jax.tree.map(lambda a: a.astype(dtype), jn.init_params(jax.random.key(0), sizes))
  x = jax.random.uniform(jax.random.key(1), (n, sizes[0]), dtype)
  y = jax.random.uniform(jax.random.key(2), (n, sizes[-1]), dtype)
  return params, x, y


def test_gradient_equals_central_finite_differences_in_float64():
  with jax.enable_x64(True):
    params, x, y = tiny_problem(jnp.float64)
    grads = jn.minibatch_gradient(params, x, y)
    flat, unravel = ravel_pytree(params)
    cost = lambda v: float(jn.quadratic_cost(unravel(v), x, y))  # noqa: E731
    h = 1e-6
    numeric = np.array(
      [(cost(flat.at[i].add(h)) - cost(flat.at[i].add(-h))) / (2 * h) for i in range(flat.size)]
    )
    analytic = np.asarray(ravel_pytree(grads)[0])
    assert np.linalg.norm(numeric - analytic) / np.linalg.norm(analytic) < 1e-6


def test_per_example_gradients_equal_the_books_backprop_and_average_to_the_batch():
  params, x, y = tiny_problem()
  per_example = jn.per_example_gradients(params, x, y)
  assert per_example[0].w.shape == (5, 3, 4) and per_example[1].b.shape == (5, 2)
  numpy_params = [(np.asarray(w, np.float64), np.asarray(b, np.float64)) for w, b in params]
  for j in range(5):
    expected = reference.backprop(numpy_params, np.asarray(x[j]), np.asarray(y[j]))
    for l, (gw, gb) in enumerate(expected):
      np.testing.assert_allclose(per_example[l].w[j], gw, rtol=1e-5, atol=1e-7)
      np.testing.assert_allclose(per_example[l].b[j], gb, rtol=1e-5, atol=1e-7)
  mean = jax.tree.map(lambda g: g.mean(axis=0), per_example)
  chex.assert_trees_all_close(mean, jn.minibatch_gradient(params, x, y), rtol=1e-5, atol=1e-7)


def test_one_sgd_step_equals_the_books_backprop_in_float64_numpy():
  """The NumPy reference the benchmark also runs: the book's `update_mini_batch`, one `backprop`
  per example (equations BP1-BP4), here in float64."""
  params, x, y = tiny_problem()
  eta = 3.0
  params64 = [(np.asarray(w, np.float64), np.asarray(b, np.float64)) for w, b in params]
  expected = reference.sgd_step_loop(params64, np.asarray(x, np.float64), np.asarray(y), eta)
  for (w, b), (w_ref, b_ref) in zip(jn.sgd_step(params, x, y, eta), expected):
    np.testing.assert_allclose(w, w_ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b, b_ref, rtol=1e-5, atol=1e-6)


def test_sgd_step_compiles_once_per_shape_not_per_eta():
  params, x, y = tiny_problem()
  jn.sgd_step(params, x[:2], y[:2], 0.5)
  before = sgd._sgd_step._cache_size()
  stepped = [jn.sgd_step(params, x[:2], y[:2], eta) for eta in (1.0, 2.0, 3.0)]
  assert sgd._sgd_step._cache_size() == before  # a new η is a new value, not a new program
  assert not np.array_equal(stepped[0][0].w, stepped[2][0].w)  # and it was used
  jn.sgd_step(params, x[:3], y[:3], 3.0)
  assert sgd._sgd_step._cache_size() == before + 1  # a new batch shape is a new program


def test_sgd_step_takes_labels_and_refuses_bad_ones(mnist):
  params = jn.init_params(jax.random.key(0), [784, 10])
  x, labels = mnist.train.x[:10], mnist.train.y[:10]
  chex.assert_trees_all_equal(
    jn.sgd_step(params, x, labels, 3.0), jn.sgd_step(params, x, jn.targets(labels, 10), 3.0)
  )
  with pytest.raises(jn.InputError, match=r"^argument y\[0\] = 12; expected class labels 0..9"):
    jn.sgd_step(params, x, np.full(10, 12), 3.0)
  with pytest.raises(jn.InputError, match=r"^eta=-3.0; expected a finite learning rate > 0$"):
    jn.sgd_step(params, x, labels, -3.0)


def test_minibatch_indices_are_the_books_slicing():
  order = jn.epoch_order(jax.random.key(0), 0, 23)
  full, rest = jn.minibatch_indices(order, 5)
  assert full.shape == (4, 5) and rest.shape == (3,)
  np.testing.assert_array_equal(np.concatenate([full.ravel(), rest]), order)
  with pytest.raises(jn.InputError, match=r"^argument order has shape \(2, 3\) and dtype int64"):
    jn.minibatch_indices(np.zeros((2, 3), np.int64), 2)
  with pytest.raises(jn.InputError, match=r"^batch_size=0; expected an integer ≥ 1$"):
    jn.minibatch_indices(order, 0)


def test_sgd_epoch_is_the_loop_of_sgd_step(mnist):
  params = jn.init_params(jax.random.key(0), [784, 10])
  x, y = mnist.train.x[:25], mnist.train.y[:25]
  order = jn.epoch_order(jax.random.key(1), 0, 25)
  expected = params
  for lo in range(0, 25, 10):  # 10, 10 and the book's smaller last mini-batch of 5
    idx = order[lo : lo + 10]
    expected = jn.sgd_step(expected, x[idx], y[idx], 3.0)
  chex.assert_trees_all_equal(sgd.sgd_epoch(params, x, y, order, 10, 3.0), expected)
  with pytest.raises(jn.InputError, match=r"^argument order holds indices 0..25; expected"):
    sgd.sgd_epoch(params, x, y, np.arange(26), 10, 3.0)


def test_with_learning_rate_sets_eta_in_the_state():
  params, _, _ = tiny_problem()
  state = jn.with_learning_rate(jn.SGD.init(params), 0.25)
  assert float(state.hyperparams["learning_rate"]) == 0.25
  with pytest.raises(jn.InputError, match=r"^eta=nan; expected a finite learning rate > 0$"):
    jn.with_learning_rate(state, float("nan"))
  with pytest.raises(jn.InputError, match="needs an optimizer with its learning rate in its state"):
    jn.with_learning_rate(jax.tree.map(jnp.zeros_like, ()), 1.0)
