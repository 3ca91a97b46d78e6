import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import numpy_forward

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


def test_a_legacy_key_gives_the_same_network():
  typed = jn.init_params(jax.random.key(7), [5, 3, 2])
  legacy = jn.init_params(jax.random.PRNGKey(7), [5, 3, 2])
  for a, b in zip(jax.tree.leaves(typed), jax.tree.leaves(legacy)):
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
  ("args", "message"),
  [
    ((jax.random.key(0), [784]), r"^sizes \[784\] has 1 layer\(s\); expected at least 2"),
    ((jax.random.key(0), [784, 0, 10]), r"^sizes\[1\] = 0 in \[784, 0, 10\]; expected a positive"),
    (
      (jax.random.key(0), [2, 2.5]),
      r"^sizes\[1\] = 2.5 in \[2, 2.5\]; expected a positive integer",
    ),
    ((jax.random.key(0), 784), r"^sizes=784; expected a list of layer sizes"),
    ((1, [2, 2]), r"^key=1; expected PRNG keys such as jax.random.key\(0\)$"),
    ((jax.random.split(jax.random.key(0), 3), [2, 2]), r"^key holds PRNG keys of shape \(3,\)"),
    ((np.zeros(2, np.float32), [2, 2]), r"^key=an array of shape \(2,\) and dtype float32"),
  ],
)
def test_init_params_bad_arguments(args, message):
  with pytest.raises(jn.InputError, match=message):
    jn.init_params(*args)
  with pytest.raises(jn.InputError, match=r"^init='xavier'; expected 'normal' or 'scaled'$"):
    jn.init_params(jax.random.key(0), [2, 2], init="xavier")
  with pytest.raises(jn.InputError, match=r"^dtype=int32; expected float32 or float64$"):
    jn.init_params(jax.random.key(0), [2, 2], dtype="int32")
  with pytest.raises(jn.InputError, match="dtype=float64 needs JAX's x64 mode"):
    jn.init_params(jax.random.key(0), [2, 2], dtype=jnp.float64)


def test_feedforward_is_sigmoid_of_w_a_plus_b_layer_by_layer(key):
  params = jn.init_params(key, [7, 4, 3])  # the book's seed network
  x = jax.random.uniform(jax.random.key(1), (7,))
  out = jn.feedforward(params, x)
  assert out.shape == (3,)
  np.testing.assert_allclose(out, numpy_forward(params, x[None])[0], rtol=1e-5)


def test_feedforward_batch_equals_per_example(key):
  params = jn.init_params(key, [5, 4, 2])
  x = jax.random.uniform(jax.random.key(1), (6, 5))
  batch = jn.feedforward_batch(params, x)
  np.testing.assert_allclose(batch, np.stack([jn.feedforward(params, xi) for xi in x]), rtol=1e-6)


def test_inputs_of_any_real_dtype_are_taken_in_the_params_dtype(key):
  """Integer pixels, bools, lists and float64 arrays are converted to the params' float32."""
  params = jn.init_params(key, [4, 3, 2])
  x = np.array([[0, 1, 2, 3], [3, 2, 1, 0]], np.uint8)
  out = jn.feedforward_batch(params, x)
  assert out.dtype == jnp.float32
  np.testing.assert_allclose(out, numpy_forward(params, x), rtol=1e-5)
  np.testing.assert_array_equal(jn.feedforward(params, [0, 1, 2, 3]), out[0])
  np.testing.assert_array_equal(
    jn.feedforward(params, np.array([True, False] * 2)),
    jn.feedforward(params, [1.0, 0.0, 1.0, 0.0]),
  )
  assert jn.feedforward(params, np.ones(4, np.float64)).dtype == jnp.float32


def test_feedforward_batch_keeps_the_examples_as_columns(key):
  """vmap must not move the examples to the front between layers (the book's w A + b layout):
  the only transposes are of x going in and of the outputs coming out."""
  params = jn.init_params(key, [5, 4, 3, 2])
  jaxpr = jax.make_jaxpr(jn.feedforward_batch)(params, jnp.ones((6, 5))).jaxpr
  transposes = [e for e in jaxpr.eqns if e.primitive.name == "transpose"]
  assert [t.outvars[0].aval.shape for t in transposes] == [(5, 6), (6, 2)]
  dots = [e for e in jaxpr.eqns if e.primitive.name == "dot_general"]
  assert [d.outvars[0].aval.shape for d in dots] == [(4, 6), (3, 6), (2, 6)]  # w @ A


def test_wrong_shapes_are_input_errors_that_name_them(key):
  params = jn.init_params(key, [784, 30, 10])
  with pytest.raises(jn.InputError, match=r"^argument x has shape \(785,\); the network \[784, 30"):
    jn.feedforward(params, jnp.ones(785))
  with pytest.raises(jn.InputError, match=r"expects one example \(784,\)$"):
    jn.feedforward(params, jnp.ones((2, 784)))
  broken = [params[0], jn.Layer(jnp.ones((10, 31)), jnp.ones(10))]
  with pytest.raises(
    jn.InputError,
    match=r"^params\[1\].w has shape \(10, 31\) but layer 0 outputs 30 values: expected w of "
    r"shape \(10, 30\)$",
  ):
    jn.feedforward(broken, jnp.ones(784))
  with pytest.raises(jn.InputError, match=r"^params\[0\].b has shape \(29,\) but params\[0\].w"):
    jn.feedforward([jn.Layer(jnp.ones((30, 784)), jnp.ones(29))], jnp.ones(784))
  with pytest.raises(jn.InputError, match=r"^params\[0\] has w of dtype int32 and b of dtype"):
    jn.feedforward([jn.Layer(jnp.ones((2, 2), jnp.int32), jnp.ones(2))], jnp.ones(2))
  with pytest.raises(jn.InputError, match=r"^params must be a non-empty list of Layer\(w, b\)"):
    jn.feedforward([], jnp.ones(2))
  population = jn.init_population(jax.random.split(key, 2), [4, 2])
  with pytest.raises(
    jn.InputError, match=r"^params is a population of 2 networks .*jaxnets.fit_population"
  ):
    jn.feedforward(population, jnp.ones(4))
