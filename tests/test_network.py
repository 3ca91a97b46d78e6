import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxnets as jn


def test_init_params_shapes_dtypes_and_distribution(key):
  params = jn.init_params(key, [784, 30, 10])
  assert [(l.w.shape, l.b.shape) for l in params] == [((30, 784), (30,)), ((10, 30), (10,))]
  assert all(a.dtype == jnp.float32 for a in jax.tree.leaves(params))
  w = np.asarray(params[0].w)
  assert abs(w.mean()) < 0.02 and abs(w.std() - 1.0) < 0.02  # N(0, 1), 23,520 draws
  scaled = jn.init_params(key, [784, 30, 10], init="scaled")
  np.testing.assert_allclose(scaled[0].w, params[0].w / np.sqrt(784), rtol=1e-6)
  np.testing.assert_array_equal(scaled[0].b, params[0].b)
  assert jn.layer_sizes(params) == (784, 30, 10)


def test_init_params_bad_sizes():
  with pytest.raises(ValueError, match=r"sizes \[784\] has 1 layer"):
    jn.init_params(jax.random.key(0), [784])
  with pytest.raises(ValueError, match=r"sizes\[1\] = 0"):
    jn.init_params(jax.random.key(0), [784, 0, 10])
  with pytest.raises(ValueError, match="init='xavier'"):
    jn.init_params(jax.random.key(0), [2, 2], init="xavier")


def test_feedforward_is_sigmoid_of_w_a_plus_b_layer_by_layer(key):
  params = jn.init_params(key, [7, 4, 3])  # the book's seed network
  x = jax.random.uniform(jax.random.key(1), (7,))
  a = np.asarray(x, np.float64)
  for w, b in params:
    a = 1 / (1 + np.exp(-(np.asarray(w, np.float64) @ a + np.asarray(b, np.float64))))
  out = jn.feedforward(params, x)
  assert out.shape == (3,)
  np.testing.assert_allclose(out, a, rtol=1e-5)


def test_feedforward_batch_equals_per_example(key):
  params = jn.init_params(key, [5, 4, 2])
  x = jax.random.uniform(jax.random.key(1), (6, 5))
  batch = jn.feedforward_batch(params, x)
  np.testing.assert_allclose(batch, np.stack([jn.feedforward(params, xi) for xi in x]), rtol=1e-6)


def test_feedforward_batch_keeps_the_examples_as_columns(key):
  """vmap must not move the examples to the front between layers (the book's w A + b layout):
  the only transposes are of x going in and of the outputs coming out."""
  params = jn.init_params(key, [5, 4, 3, 2])
  jaxpr = jax.make_jaxpr(jn.feedforward_batch)(params, jnp.ones((6, 5))).jaxpr
  transposes = [e for e in jaxpr.eqns if e.primitive.name == "transpose"]
  assert [t.outvars[0].aval.shape for t in transposes] == [(5, 6), (6, 2)]
  dots = [e for e in jaxpr.eqns if e.primitive.name == "dot_general"]
  assert [d.outvars[0].aval.shape for d in dots] == [(4, 6), (3, 6), (2, 6)]  # w @ A


def test_wrong_shapes_raise_errors_that_name_them(key):
  params = jn.init_params(key, [784, 30, 10])
  with pytest.raises(AssertionError, match=r"argument x has shape \(785,\).*expects 784"):
    jn.feedforward(params, jnp.ones(785))
  with pytest.raises(AssertionError, match=r"argument x must be one example"):
    jn.feedforward(params, jnp.ones((2, 784)))
  broken = [params[0], jn.Layer(jnp.ones((10, 31)), jnp.ones(10))]
  with pytest.raises(
    AssertionError,
    match=r"params\[1\].w has shape \(10, 31\) but layer 0 "
    r"outputs 30 values: expected w of shape \(10, 30\)",
  ):
    jn.feedforward(broken, jnp.ones(784))
  with pytest.raises(AssertionError, match=r"params\[0\].b has shape \(29,\)"):
    jn.feedforward([jn.Layer(jnp.ones((30, 784)), jnp.ones(29))], jnp.ones(784))
  with pytest.raises(AssertionError, match="argument x must be floating point"):
    jn.feedforward(params, jnp.ones(784, jnp.int32))
