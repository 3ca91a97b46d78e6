"""The library's contract: its names, its keys, its errors, its compiled programs, its
transformations (vmap, grad, float64)."""

import inspect
import pathlib
import re

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import small
from jax.flatten_util import ravel_pytree

import jaxnets as jn
from jaxnets.bench import numpy_reference as reference
from jaxnets.sgd import sgd_epoch

PACKAGE = pathlib.Path(jn.__file__).parent


def test_every_public_name_is_exported_and_documented():
  assert len(set(jn.__all__)) == len(jn.__all__)
  for name in jn.__all__:
    obj = getattr(jn, name)
    if callable(obj) and not isinstance(obj, type(list[int])):
      assert (obj.__doc__ or "").strip(), f"jaxnets.{name} has no docstring"
  public = {n for n in vars(jn) if not n.startswith("_")}
  modules = {n for n in public if inspect.ismodule(getattr(jn, n))}
  assert public - modules == set(jn.__all__)


TWINS = [
  (jn.fit, jn.fit_population),
  (jn.train_epoch, jn.train_population_epoch),
  (jn.init_params, jn.init_population),
]


@pytest.mark.parametrize("one, many", TWINS, ids=lambda f: f.__name__)
def test_twins_take_the_same_arguments_the_same_way(one, many):
  """A network's function and its population's twin: the same names, in the same order, each
  positional or keyword-only alike (only the population's arguments that a single network has no
  use for, or the reverse, differ)."""
  a, b = inspect.signature(one).parameters, inspect.signature(many).parameters
  shared = [n for n in a if n in b]
  assert shared == [n for n in b if n in a]
  assert [a[n].kind for n in shared] == [b[n].kind for n in shared]
  assert set(a) ^ set(b) <= {"keys", "key", "mesh"}


def test_public_arguments_have_plain_names():
  """Shape suffixes (`x_NxI`) name arrays inside the library; a public argument is `x`, `order`."""
  for name in jn.__all__:
    obj = getattr(jn, name)
    if inspect.isfunction(obj):
      for p in inspect.signature(obj).parameters:
        assert not re.search(r"_[A-Z](x[A-Z])*$", p), (name, p)


def test_every_shape_suffix_letter_is_declared_in_the_legend():
  legend = jn.__doc__.split("The letters:")[1]
  letters = set(re.findall(r"\b([A-Z])  [a-z]", legend))
  used = set()
  for path in PACKAGE.rglob("*.py"):
    for suffix in re.findall(
      r"\b(?!n_)[a-z][a-z0-9]*(?:_[a-z0-9]+)*_([A-Z](?:x[A-Z])*)\b", path.read_text()
    ):
      used |= set(suffix.split("x"))
  assert used and used <= letters, f"undeclared: {sorted(used - letters)}"


def test_train_epoch_is_the_books_loop_through_chunks_and_the_last_mini_batch(mnist):
  """2105 examples: 210 full mini-batches gathered in chunks of 102 (about CHUNK_ROWS rows), then
  6 more and the book's smaller last one of 5: bit for bit `sgd_epoch`, the Python loop."""
  data = small(mnist, 2105)
  params = jn.init_params(jax.random.key(0), [784, 30, 10])
  order = jn.epoch_order(jax.random.key(2), 0, 2105)
  state = jn.with_learning_rate(jn.SGD.init(params), 3.0)
  compiled, _, metrics = jn.train_epoch(params, state, data.x, data.y, order, batch_size=10)
  chex.assert_trees_all_equal(compiled, sgd_epoch(params, data.x, data.y, order, 10, 3.0))
  assert bool(metrics["finite"])


def test_vmap_over_stacked_params_equals_each_network(key):
  keys = jax.random.split(key, 4)
  stacked = jax.vmap(lambda k: jn.init_params(k, [5, 4, 2]))(keys)
  assert stacked[0].w.shape == (4, 4, 5)
  x = jax.random.uniform(jax.random.key(9), (6, 5))
  labels = jnp.arange(6) % 2
  outputs = jax.vmap(jn.feedforward_batch, in_axes=(0, None))(stacked, x)
  costs = jax.vmap(jn.quadratic_cost, in_axes=(0, None, None))(stacked, x, labels)
  grads = jax.vmap(jn.minibatch_gradient, in_axes=(0, None, None))(stacked, x, labels)
  for k in range(4):
    member = jn.member(stacked, k)
    chex.assert_trees_all_close(outputs[k], jn.feedforward_batch(member, x), rtol=1e-6)
    chex.assert_trees_all_close(costs[k], jn.quadratic_cost(member, x, labels), rtol=1e-6)
    chex.assert_trees_all_close(
      jax.tree.map(lambda a, k=k: a[k], grads), jn.minibatch_gradient(member, x, labels), rtol=1e-5
    )


def test_gradient_with_respect_to_the_inputs_equals_finite_differences():
  """∂C/∂x (what an adversarial example or a saliency map needs), float64, against central
  differences, and against the book's backprop carried one layer further down."""
  with jax.enable_x64(True):
    params = jn.init_params(jax.random.key(0), [4, 3, 2], dtype=jnp.float64)
    x = jax.random.uniform(jax.random.key(1), (5, 4), jnp.float64)
    y = jax.random.uniform(jax.random.key(2), (5, 2), jnp.float64)
    grad_x = jax.grad(jn.quadratic_cost, argnums=1)(params, x, y)
    assert grad_x.shape == x.shape and grad_x.dtype == jnp.float64
    flat, unravel = ravel_pytree(x)
    h = 1e-6
    numeric = np.array(
      [
        (
          jn.quadratic_cost(params, unravel(flat.at[i].add(h)), y)
          - jn.quadratic_cost(params, unravel(flat.at[i].add(-h)), y)
        )
        / (2 * h)
        for i in range(flat.size)
      ]
    ).reshape(x.shape)
    np.testing.assert_allclose(grad_x, numeric, rtol=1e-6, atol=1e-10)
    numpy_params = [(np.asarray(w), np.asarray(b)) for w, b in params]
    for j in range(5):  # δ of the input layer: w_1ᵀ δ_1, divided by n as C averages
      delta = np.asarray(reference.backprop(numpy_params, np.asarray(x[j]), np.asarray(y[j]))[0][1])
      np.testing.assert_allclose(grad_x[j], numpy_params[0][0].T @ delta / 5, rtol=1e-10)


def test_float64_end_to_end(mnist):
  """The book's NumPy runs in float64: so does every function here under x64, unpromoted."""
  with jax.enable_x64(True):
    params = jn.init_params(jax.random.key(0), [784, 10, 10], dtype=jnp.float64)
    data = jn.Dataset(mnist.train.x[:100].astype(np.float64), mnist.train.y[:100])
    trained, _ = jn.fit(params, data, epochs=1, batch_size=10, key=jax.random.key(1))
    assert all(a.dtype == jnp.float64 for a in jax.tree.leaves(trained))
    order = jn.epoch_order(jax.random.key(1), 0, 100)
    chex.assert_trees_all_equal(trained, sgd_epoch(params, data.x, data.y, order, 10, 3.0))


KEYED = {
  "init_params": lambda key: jn.init_params(key, [3, 2]),
  "epoch_order": lambda key: jn.epoch_order(key, 0, 5),
  "fit": lambda key: jn.fit(
    jn.init_params(jax.random.key(0), [3, 2]),
    (np.eye(3), np.arange(3) % 2),
    epochs=1,
    batch_size=1,
    key=key,
  )[0],
  "fit_population (one shared key)": lambda key: jn.fit_population(
    jn.init_population(jax.random.split(jax.random.key(0), 2), [3, 2]),
    (np.eye(3), np.arange(3) % 2),
    epochs=1,
    batch_size=1,
    key=key,
  )[0],
}


@pytest.mark.parametrize("name", KEYED)
def test_one_key_rule_typed_and_legacy_keys_alike(name):
  """Every public function that takes a key takes a typed key and a legacy uint32 key alike (the
  same result), and refuses an int or a batch of keys in one message naming it."""
  call = KEYED[name]
  for a, b in zip(
    jax.tree.leaves(call(jax.random.key(3))), jax.tree.leaves(call(jax.random.PRNGKey(3)))
  ):
    np.testing.assert_array_equal(a, b)
  with pytest.raises(jn.InputError, match=r"^key=3; expected PRNG keys such as jax.random.key"):
    call(3)
  with pytest.raises(jn.InputError, match=r"^key holds PRNG keys of shape \(2, 5\)"):
    call(jax.random.split(jax.random.key(0), (2, 5)))


def test_population_keys_typed_and_legacy_alike(mnist):
  params = jn.init_population(jax.random.split(jax.random.key(0), 2), [784, 10])
  keys = jax.random.split(jax.random.key(1), 2)
  kw = dict(epochs=1, batch_size=10)
  typed, _ = jn.fit_population(params, small(mnist, 30), key=keys, **kw)
  legacy, _ = jn.fit_population(params, small(mnist, 30), key=jax.random.key_data(keys), **kw)
  chex.assert_trees_all_equal(typed, legacy)


BAD_CALLS = {
  "feedforward": lambda: jn.feedforward(jn.init_params(jax.random.key(0), [3, 2]), np.ones(4)),
  "quadratic_cost": lambda: jn.quadratic_cost(
    jn.init_params(jax.random.key(0), [3, 2]), np.ones((2, 3)), np.array([0, 9])
  ),
  "evaluate": lambda: jn.evaluate(
    jn.init_params(jax.random.key(0), [3, 2]), np.ones((2, 3)), np.array([0.5, 1.0])
  ),
  "sgd_step": lambda: jn.sgd_step(
    jn.init_params(jax.random.key(0), [3, 2]), np.ones((2, 3)), np.ones((2, 3)), 1.0
  ),
  "gradient_descent": lambda: jn.gradient_descent(jnp.sum, np.ones(2), 0.1, steps=-1),
  "perceptron": lambda: jn.perceptron(np.ones(2), 0.0, np.ones(3)),
  "init_population": lambda: jn.init_population(jax.random.key(0), [3, 2]),
  "member": lambda: jn.member(jn.init_params(jax.random.key(0), [3, 2]), 0),
  "layer_sizes": lambda: jn.layer_sizes([jn.Layer(np.ones((2, 3)), np.ones(3))]),
  "minibatch_indices": lambda: jn.minibatch_indices(np.arange(4.0), 2),
  "with_learning_rate": lambda: jn.with_learning_rate(jn.SGD.init([]), 0.0),
  "load_dataset": lambda: jn.load_dataset(""),
  "load_params": lambda: jn.load_params("/nonexistent/params.npz"),
  "train_epoch": lambda: jn.train_epoch(
    jn.init_params(jax.random.key(0), [3, 2]),
    (),
    np.ones((2, 3)),
    np.arange(2),
    np.arange(2),
    batch_size=3,
  ),
}


@pytest.mark.parametrize("name", BAD_CALLS)
def test_bad_input_is_one_error_type_everywhere(name):
  """`InputError` (a `ValueError`) for every bad argument, whatever the function."""
  with pytest.raises(jn.InputError) as e:
    BAD_CALLS[name]()
  assert isinstance(e.value, ValueError) and "\n" not in str(e.value)
