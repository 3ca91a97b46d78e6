import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

import jaxnets as jn
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


def backprop_numpy(params, x, y):
  """The book's backprop (equations BP1-BP4), averaged over the batch, in float64 numpy."""
  ws = [np.asarray(w, np.float64) for w, _ in params]
  bs = [np.asarray(b, np.float64) for _, b in params]
  gw, gb = [np.zeros_like(w) for w in ws], [np.zeros_like(b) for b in bs]
  for xi, yi in zip(np.asarray(x, np.float64), np.asarray(y, np.float64)):
    acts, zs = [xi], []
    for w, b in zip(ws, bs):
      zs.append(w @ acts[-1] + b)
      acts.append(1 / (1 + np.exp(-zs[-1])))
    sp = lambda z: np.exp(-z) / (1 + np.exp(-z)) ** 2  # noqa: E731
    delta = (acts[-1] - yi) * sp(zs[-1])
    for l in range(len(ws) - 1, -1, -1):
      gw[l] += np.outer(delta, acts[l]) / len(x)
      gb[l] += delta / len(x)
      if l:
        delta = (ws[l].T @ delta) * sp(zs[l - 1])
  return ws, bs, gw, gb


def test_one_sgd_step_equals_a_step_computed_by_hand():
  params, x, y = tiny_problem()
  eta = 3.0
  ws, bs, gw, gb = backprop_numpy(params, x, y)
  stepped = jn.sgd_step(params, x, y, eta)
  for l, (w, b) in enumerate(stepped):
    np.testing.assert_allclose(w, ws[l] - eta * gw[l], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b, bs[l] - eta * gb[l], rtol=1e-5, atol=1e-6)


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
