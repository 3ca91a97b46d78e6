import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

import jaxnets as jn
from jaxnets.bench import numpy_reference as reference
from jaxnets.sgd import minibatch_gradient, per_example_gradients


def tiny_problem(dtype=jnp.float32, sizes=(4, 3, 2), n=5):
  params = jn.init_params(jax.random.key(0), sizes)
  params = jax.tree.map(lambda a: a.astype(dtype), params)
  x = jax.random.uniform(jax.random.key(1), (n, sizes[0]), dtype)
  y = jax.random.uniform(jax.random.key(2), (n, sizes[-1]), dtype)
  return params, x, y


def test_gradient_equals_central_finite_differences_in_float64():
  with jax.enable_x64(True):
    params, x, y = tiny_problem(jnp.float64)
    grads = minibatch_gradient(params, x, y)
    flat, unravel = ravel_pytree(params)
    cost = lambda v: float(jn.quadratic_cost(unravel(v), x, y))  # noqa: E731
    h = 1e-6
    numeric = np.array(
      [(cost(flat.at[i].add(h)) - cost(flat.at[i].add(-h))) / (2 * h) for i in range(flat.size)]
    )
    analytic = np.asarray(ravel_pytree(grads)[0])
    rel = np.linalg.norm(numeric - analytic) / np.linalg.norm(analytic)
    assert rel < 1e-6, rel


def test_per_example_gradients_average_to_the_minibatch_gradient():
  params, x, y = tiny_problem()
  per_example = per_example_gradients(params, x, y)
  assert per_example[0].w.shape == (5, 3, 4) and per_example[1].b.shape == (5, 2)
  mean = jax.tree.map(lambda g: g.mean(axis=0), per_example)
  chex.assert_trees_all_close(mean, minibatch_gradient(params, x, y), rtol=1e-5, atol=1e-7)


def test_one_sgd_step_equals_the_books_backprop_in_float64_numpy():
  """The NumPy reference the benchmark also runs: the book's `update_mini_batch`, one `backprop`
  per example (equations BP1-BP4), here in float64."""
  params, x, y = tiny_problem()
  eta = 3.0
  params64 = [(np.asarray(w, np.float64), np.asarray(b, np.float64)) for w, b in params]
  expected = reference.sgd_step_loop(params64, np.asarray(x, np.float64), np.asarray(y), eta)
  stepped = jn.sgd_step(params, x, y, eta)
  for (w, b), (w_ref, b_ref) in zip(stepped, expected):
    np.testing.assert_allclose(w, w_ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b, b_ref, rtol=1e-5, atol=1e-6)


def test_sgd_step_traces_once_per_shape():
  counted = jax.jit(chex.assert_max_traces(jn.sgd_step.__wrapped__, n=1))
  params, x, y = tiny_problem()
  for eta in (0.1, 3.0, 10.0):  # eta is traced: new values don't retrace
    params = counted(params, x, y, eta)
  with pytest.raises(AssertionError, match="traced > 1 times"):
    counted(params, x[:3], y[:3], 3.0)  # a new batch shape traces again, which the counter sees
  before = jn.sgd_step._cache_size()
  for eta in (0.5, 1.0, 2.0):
    jn.sgd_step(params, x[:2], y[:2], eta)
  assert jn.sgd_step._cache_size() == before + 1


class JitVariantsTest(chex.TestCase):
  @chex.variants(with_jit=True, without_jit=True)
  def test_cost_and_gradient_agree_jitted_and_not(self):
    params, x, y = tiny_problem()
    cost = self.variant(jn.quadratic_cost)(params, x, y)
    grads = self.variant(minibatch_gradient)(params, x, y)
    chex.assert_trees_all_close(cost, jax.jit(jn.quadratic_cost)(params, x, y), rtol=1e-6)
    chex.assert_trees_all_close(grads, jax.jit(minibatch_gradient)(params, x, y), rtol=1e-5)
    chex.assert_trees_all_equal_shapes(grads, params)
