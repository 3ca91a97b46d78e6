"""The library's contract: its layers, its names, its compiled programs and its transformations."""

import ast
import pathlib
import re

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

import jaxnets as jn
from jaxnets.bench import numpy_reference as reference

PACKAGE = pathlib.Path(jn.__file__).parent
BOOK = [
  "neurons",
  "network",
  "cost",
  "gradient_descent",
  "sgd",
  "evaluation",
  "train",
  "population",
  "_checks",
  "_memory",
]
TOOLING = ("jaxnets.data", "jaxnets.runs", "jaxnets.bench")


def imported_modules(path):
  tree = ast.parse(path.read_text())
  for node in ast.walk(tree):
    if isinstance(node, ast.Import):
      yield from (alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom) and node.module:
      yield node.module


@pytest.mark.parametrize("module", [m for m in BOOK if (PACKAGE / f"{m}.py").exists()])
def test_the_books_modules_import_nothing_from_the_tooling(module):
  imports = list(imported_modules(PACKAGE / f"{module}.py"))
  assert not [m for m in imports if m.startswith(TOOLING)], imports


def test_every_public_name_is_exported_and_documented():
  assert len(set(jn.__all__)) == len(jn.__all__)
  for name in jn.__all__:
    obj = getattr(jn, name)
    if callable(obj) and not isinstance(obj, type(list[int])):
      assert (obj.__doc__ or "").strip(), f"jaxnets.{name} has no docstring"
  public = {n for n in vars(jn) if not n.startswith("_")}
  modules = {n for n in public if type(getattr(jn, n)).__name__ == "module"}
  assert public - modules == set(jn.__all__)


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


def test_three_learning_rates_compile_the_epoch_once(mnist):
  data = jn.Dataset(mnist.train.x[:200], mnist.train.y[:200])
  params = jn.init_params(jax.random.key(0), [784, 12, 10])
  compiles = []
  jax.monitoring.register_event_duration_secs_listener(
    lambda event, seconds, **kw: (
      compiles.append(event) if event == "/jax/core/compile/backend_compile_duration" else None
    )
  )
  results = []
  for eta in (0.5, 1.0, 3.0):
    before = len(compiles)
    trained, _ = jn.fit(params, data, epochs=1, batch_size=10, key=jax.random.key(1), eta=eta)
    results.append((len(compiles) - before, trained))
  assert [n for n, _ in results][1:] == [0, 0]  # the first fit compiled; the others reuse it
  # and η really changed: each equals the book's loop of sgd_step at its η
  for (_, trained), eta in zip(results, (0.5, 1.0, 3.0)):
    order = jn.epoch_order(jax.random.key(1), 0, 200)
    chex.assert_trees_all_equal(trained, jn.sgd_epoch(params, data.x, data.y, order, 10, eta))


def test_train_epoch_equals_the_python_loop_of_sgd_step(mnist):
  """The compiled epoch (gathered in chunks, a scan of scans) against `sgd_epoch`, the book's
  loop, bit for bit: 1005 examples make 100 full mini-batches and a last one of 5."""
  x, y = mnist.train.x[:1005], mnist.train.y[:1005]
  params = jn.init_params(jax.random.key(0), [784, 30, 10])
  order = jn.epoch_order(jax.random.key(2), 0, 1005)
  state = jn.with_learning_rate(jn.SGD.init(params), 3.0)
  compiled, _, metrics = jn.train_epoch(params, state, x, y, order, batch_size=10, optimizer=jn.SGD)
  chex.assert_trees_all_equal(compiled, jn.sgd_epoch(params, x, y, order, 10, 3.0))
  assert bool(metrics["finite"])


def test_vmap_over_stacked_params_equals_each_network(key):
  keys = jax.random.split(key, 4)
  stacked = jax.vmap(lambda k: jn.init_params(k, [5, 4, 2]))(keys)
  assert stacked[0].w.shape == (4, 4, 5)
  x = jax.random.uniform(jax.random.key(9), (6, 5))
  y = jax.nn.one_hot(jnp.arange(6) % 2, 2)
  outputs = jax.vmap(jn.feedforward_batch, in_axes=(0, None))(stacked, x)
  costs = jax.vmap(jn.quadratic_cost, in_axes=(0, None, None))(stacked, x, y)
  grads = jax.vmap(jn.minibatch_gradient, in_axes=(0, None, None))(stacked, x, y)
  for k in range(4):
    member = jax.tree.map(lambda a, k=k: a[k], stacked)
    chex.assert_trees_all_close(outputs[k], jn.feedforward_batch(member, x), rtol=1e-6)
    chex.assert_trees_all_close(costs[k], jn.quadratic_cost(member, x, y), rtol=1e-6)
    chex.assert_trees_all_close(
      jax.tree.map(lambda a, k=k: a[k], grads), jn.minibatch_gradient(member, x, y), rtol=1e-5
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
    trained, history = jn.fit(params, data, epochs=1, batch_size=10, key=jax.random.key(1))
    assert all(a.dtype == jnp.float64 for a in jax.tree.leaves(trained))
    order = jn.epoch_order(jax.random.key(1), 0, 100)
    chex.assert_trees_all_equal(trained, jn.sgd_epoch(params, data.x, data.y, order, 10, 3.0))
  with pytest.raises(ValueError, match="dtype=float64 needs JAX's x64 mode"):
    jn.init_params(jax.random.key(0), [2, 2], dtype=jnp.float64)
