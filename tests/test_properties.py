"""Every public function of the book's modules, given anything a user might pass (Python scalars,
lists, NumPy arrays of any dtype, rank and shape, malformed networks), returns its documented
result or raises `InputError`: never another exception (hypothesis, property-based)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import jaxnets as jn

DTYPES = [np.bool_, np.int8, np.uint8, np.int32, np.int64, np.float16, np.float32, np.float64]
ODD_DTYPES = [np.complex64, np.str_]
EXAMPLES = 60
"""Examples per function: each new shape compiles, so a few dozen keep the file under a minute."""

SETTINGS = settings(
  max_examples=EXAMPLES,
  deadline=None,
  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
  derandomize=True,  # the same examples every run: a failure is reproducible, CI never flakes
)


def arrays(dtypes=DTYPES, max_dims=3, max_side=4):
  """Arrays of any of `dtypes`, rank 0..max_dims, each side 0..max_side, values small."""
  dtype = st.sampled_from(dtypes)
  shape = hnp.array_shapes(min_dims=0, max_dims=max_dims, min_side=0, max_side=max_side)
  return dtype.flatmap(
    lambda d: (
      hnp.arrays(
        d,
        shape,
        elements=st.integers(0 if np.dtype(d).kind == "u" else -3, 12)
        if np.dtype(d).kind in "iu"
        else None,
      )
      if np.dtype(d).kind != "U"
      else hnp.arrays(d, shape)
    )
  )


def values(sizes_hint=(3, 2)):
  """Anything a user might pass where an array is expected."""
  n_in = sizes_hint[0]
  return st.one_of(
    arrays(),
    arrays(dtypes=[np.float32], max_dims=2, max_side=n_in).map(lambda a: a),  # often fits
    st.integers(-5, 12),
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.lists(st.integers(0, 3), max_size=5),
    st.lists(st.floats(-2, 2, width=32), min_size=n_in, max_size=n_in),
    st.lists(st.lists(st.floats(-2, 2, width=32), min_size=n_in, max_size=n_in), max_size=4),
    st.just([[1.0], [1.0, 2.0]]),  # ragged
    st.just("text"),
    st.none(),
    arrays(dtypes=ODD_DTYPES, max_dims=2),
  )


def networks():
  """Valid networks of small sizes, and malformed ones."""
  sizes = st.lists(st.integers(1, 4), min_size=2, max_size=4)
  valid = sizes.map(lambda s: jn.init_params(jax.random.key(sum(s)), s))
  malformed = st.one_of(
    st.just([]),
    st.just([jn.Layer(np.ones((2, 3), np.float32), np.ones(3, np.float32))]),
    st.just([jn.Layer(np.ones((2, 3), np.int32), np.ones(2, np.int32))]),
    st.just([(np.ones(3, np.float32),)]),
    st.just("params"),
    sizes.map(lambda s: jn.init_population(jax.random.split(jax.random.key(0), 2), s)),
  )
  return st.integers(0, 4).flatmap(lambda i: valid if i < 4 else malformed)  # mostly valid


def check(call, documented):
  """Calls `call()`: its result must pass `documented`, or it must raise InputError."""
  try:
    result = call()
  except jn.InputError as e:
    assert str(e) and "\n" not in str(e)
    return
  documented(result)


def is_float_array(shape=None):
  def ok(a):
    assert isinstance(a, jax.Array) and jnp.issubdtype(a.dtype, jnp.floating)
    if shape is not None:
      assert a.shape == shape, (a.shape, shape)

  return ok


@SETTINGS
@given(w=values(), b=values(), x=values())
def test_neurons(w, b, x):
  def step(out):
    is_float_array()(out)
    assert set(np.unique(np.asarray(out)).tolist()) <= {0.0, 1.0}

  check(lambda: jn.perceptron(w, b, x), step)
  check(lambda: jn.sigmoid_neuron(w, b, x), is_float_array())
  check(lambda: jn.sigmoid(x), lambda z: is_float_array(np.shape(x))(z))


def inputs(data, n_in, ranks=(1, 2)):
  """x for a network of n_in inputs: usually of a fitting shape (any dtype), sometimes not."""
  shape = data.draw(
    st.one_of(
      st.sampled_from(ranks).flatmap(
        lambda r: st.just((n_in,)) if r == 1 else st.integers(0, 4).map(lambda n: (n, n_in))
      ),
      hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4),
    )
  )
  dtype = data.draw(st.sampled_from(DTYPES + ODD_DTYPES[:1]))
  if data.draw(st.integers(0, 3)) == 0:  # a quarter of the time: anything at all
    return data.draw(values((n_in,)))
  return data.draw(
    hnp.arrays(dtype, shape, elements=st.integers(0, 2) if dtype != np.bool_ else None)
  )


def outputs_for(data, n, n_out):
  """y for n examples: labels (any integer dtype, sometimes out of range), targets, or junk."""
  return data.draw(
    st.one_of(
      hnp.arrays(st.sampled_from([np.int8, np.int32, np.int64, np.uint8]), (n,),
                 elements=st.integers(0, n_out - 1)),
      hnp.arrays(st.sampled_from([np.int8, np.int32, np.int64, np.uint8]), (n,),
                 elements=st.integers(0, n_out + 1)),
      hnp.arrays(st.sampled_from([np.float32, np.float64, np.int32]), (n, n_out),
                 elements=st.integers(0, 1)),
      values(),
    )
  )  # fmt: skip


@SETTINGS
@given(params=networks(), data=st.data())
def test_network(params, data):
  def sizes_ok(sizes):
    assert sizes == (params[0].w.shape[1], *[layer.w.shape[0] for layer in params])

  check(lambda: jn.layer_sizes(params), sizes_ok)
  n_in = (
    params[0][0].shape[-1] if isinstance(params, list) and params and len(params[0]) == 2 else 3
  )
  x = inputs(data, n_in)

  def outputs(a, batch):
    n_out = params[-1].w.shape[-2]
    is_float_array((np.shape(x)[0], n_out) if batch else (n_out,))(a)
    assert a.dtype == params[0].w.dtype

  check(lambda: jn.feedforward(params, x), lambda a: outputs(a, False))
  check(lambda: jn.feedforward_batch(params, x), lambda a: outputs(a, True))


def leading(x) -> int:
  """How many examples x holds, if it reads as an array (else 1)."""
  try:
    return np.shape(x)[0] if np.ndim(x) else 1
  except ValueError:
    return 1


def shapes_of(params):
  ok = isinstance(params, list) and params and len(params[0]) == 2 and np.ndim(params[0][0]) == 2
  return (params[0][0].shape[1], params[-1][0].shape[0]) if ok else (3, 2)


@SETTINGS
@given(params=networks(), data=st.data())
def test_cost_and_gradients(params, data):
  n_in, n_out = shapes_of(params)
  x = inputs(data, n_in)
  y = outputs_for(data, leading(x), n_out)

  def scalar(c):
    is_float_array(())(c)
    assert c.dtype == params[0].w.dtype

  def like_params(g):
    assert jax.tree.structure(g) == jax.tree.structure(params)

  check(lambda: jn.quadratic_cost(params, x, y), scalar)
  check(lambda: jn.minibatch_gradient(params, x, y), like_params)
  check(lambda: jn.per_example_gradients(params, x, y), like_params)
  check(lambda: jn.sgd_step(params, x, y, 1.0), like_params)
  check(lambda: jn.targets(y, n_out), is_float_array())


@SETTINGS
@given(params=networks(), data=st.data())
def test_evaluation(params, data):
  n_in, n_out = shapes_of(params)
  x = inputs(data, n_in, ranks=(2,))
  labels = outputs_for(data, leading(x), n_out)

  def count(c):
    assert c.dtype == jnp.int32 and 0 <= int(c) <= np.shape(x)[0]

  check(lambda: jn.evaluate(params, x, labels), count)
  check(lambda: jn.accuracy(params, x, labels), lambda a: 0 <= float(a) <= 1)
  check(lambda: jn.predict(params, x), lambda p: p.dtype == jnp.int32)


@SETTINGS
@given(
  x0=st.one_of(values(), arrays(dtypes=[np.float32, np.int32])),
  eta=st.one_of(st.floats(0.01, 2), st.floats(-1, 2), st.just(float("nan")), st.none()),
  steps=st.one_of(st.integers(0, 3), st.integers(-2, 3), st.floats(0, 3), st.none()),
)
def test_gradient_descent(x0, eta, steps):
  check(
    lambda: jn.gradient_descent(lambda v: jnp.sum(v**2), x0, eta, steps),
    lambda t: is_float_array((steps + 1, *np.shape(x0)))(t),
  )


@SETTINGS
@given(
  order=st.one_of(
    hnp.arrays(st.sampled_from([np.int32, np.int64]), st.integers(0, 9)),
    hnp.arrays(st.sampled_from([np.int32, np.int64]), st.integers(0, 9)),
    values(),
  ),
  batch_size=st.one_of(st.integers(1, 5), st.integers(-1, 5), st.floats(1, 3), st.none()),
)
def test_minibatch_indices(order, batch_size):
  def cut(parts):
    full, rest = parts
    assert full.shape[1:] == (batch_size,) and full.size + rest.size == np.size(order)

  check(lambda: jn.minibatch_indices(order, batch_size), cut)


@pytest.mark.parametrize("sizes", [[3, 2], "3", [0, 2], [3, -1], [3.0, 2], [True, 2], [], None])
@SETTINGS
@given(key=st.one_of(st.integers(0, 3), st.none(), arrays(max_dims=2)))
def test_init_params(sizes, key):
  def network(params):
    assert jn.layer_sizes(params) == tuple(sizes)

  check(lambda: jn.init_params(key, sizes), network)
  check(lambda: jn.init_params(jax.random.key(0), sizes), network)
