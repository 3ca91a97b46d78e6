"""SGD in blocks of steps (`jaxnets._engine.blocks`): the same SGD as the plain steps, exactly in
float64 and within float32 rounding in float32, for one wide network and for a population that
shares a shuffle; a long epoch cut into calls takes the same blocks."""

import functools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from helpers import max_diff, small

import jaxnets as jn
from jaxnets._engine import blocks, program
from jaxnets._engine.device import run_epoch
from jaxnets.sgd import sgd_epoch

WIDE = [784, 400, 10]
"""A network with a layer of 313,600 weights, above `MIN_LAYER_WEIGHTS`: trained in blocks."""


def float64_run(params, data, **kw):
  """`jn.fit` of `params` in float64: the arithmetic that float32's rounding departs from."""
  with jax.enable_x64(True):
    p64 = jax.tree.map(lambda a: a.astype(jnp.float64), params)
    x64 = jnp.asarray(data.x, jnp.float64)
    exact, _ = jn.fit(p64, jn.Dataset(x64, data.y), epochs=1, batch_size=10, **kw)
    return jax.tree.map(np.asarray, exact)


def off(params, exact):
  """How far float32 params are from a float64 run's, computed in float64."""
  with jax.enable_x64(True):
    return max_diff(jax.tree.map(lambda a: np.asarray(a, np.float64), params), exact)


def test_which_runs_take_blocks():
  """blocks="auto": plain SGD, the quadratic cost, mini-batches of at most 40, no mesh, and a layer
  of at least MIN_LAYER_WEIGHTS weights (or a shared shuffle of MIN_MEMBERS or more)."""
  wide = jn.init_params(jax.random.key(0), WIDE)
  book = jn.init_params(jax.random.key(0), [784, 30, 10])
  kw = dict(optimizer=jn.SGD, cost=jn.quadratic_cost, batch_size=10)
  choose = functools.partial(blocks.choose, "auto")
  assert choose(params=wide, **kw) and not choose(params=book, **kw)
  assert 784 * 30 < blocks.MIN_LAYER_WEIGHTS <= 784 * 100
  assert not choose(params=wide, **{**kw, "optimizer": optax.sgd(3.0)})
  assert not choose(params=wide, **{**kw, "cost": lambda p, x, y: jn.quadratic_cost(p, x, y)})
  assert not choose(params=wide, **{**kw, "batch_size": blocks.BLOCK_ROWS // 2 + 1})
  assert choose(params=wide, **{**kw, "batch_size": blocks.BLOCK_ROWS // 2})
  assert not choose(params=wide, mesh=object(), **kw)
  pair = jn.init_population(jax.random.split(jax.random.key(0), 2), [784, 30, 10])
  assert choose(params=pair, members=2, shared=True, **kw) and blocks.MIN_MEMBERS == 2
  assert not choose(params=pair, members=2, shared=False, **kw)
  assert blocks.block_steps(10) == 8 and blocks.block_steps(41) == 1
  assert blocks.choose(True, params=book, **kw) and not blocks.choose(False, params=wide, **kw)
  with pytest.raises(jn.InputError, match=r"^blocks=True needs a mini-batch of at most 40"):
    blocks.choose(True, params=book, **{**kw, "batch_size": 100})


def test_a_wide_network_in_blocks_is_the_book_sgd_exactly_in_float64(mnist):
  """1005 examples: 12 blocks of 8 steps, a block of the 4 steps left, the last 5 examples; in
  float64 `fit` in blocks equals `sgd_epoch`, the book's loop of `sgd_step`, to 1e-11. (At η = 0.5:
  at η = 3 a network this wide amplifies even float64's rounding to 1e-2 in 100 steps.)"""
  data = small(mnist, 1005)
  with jax.enable_x64(True):
    params = jn.init_params(jax.random.key(0), WIDE, dtype=jnp.float64)
    x = jnp.asarray(data.x, jnp.float64)
    trained, _ = jn.fit(
      params, jn.Dataset(x, data.y), epochs=1, batch_size=10, eta=0.5, key=jax.random.key(1)
    )
    order = jn.epoch_order(jax.random.key(1), 0, 1005)
    assert max_diff(trained, sgd_epoch(params, x, data.y, order, 10, 0.5)) <= 1e-11


def test_members_in_blocks_equal_their_single_runs_bit_for_bit(mnist):
  """Per-member shuffles of [784, 100, 10]: each member's epoch is `network_epoch` vmapped, in
  blocks as its single run's is, so member k takes its single run's steps bit for bit (3 members,
  2 epochs of 1005 examples)."""
  data = small(mnist, 1005)
  shuffle_keys = jax.random.split(jax.random.key(1), 3)
  params = jn.init_population(jax.random.split(jax.random.key(0), 3), [784, 100, 10])
  trained, _ = jn.fit_population(params, data, epochs=2, batch_size=10, key=shuffle_keys)
  for k in range(3):
    single, _ = jn.fit(jn.member(params, k), data, epochs=2, batch_size=10, key=shuffle_keys[k])
    chex.assert_trees_all_equal(jn.member(trained, k), single)


def test_a_wide_network_in_blocks_is_within_float32_rounding(mnist):
  """In float32, blocks and plain steps round differently: after 101 steps at η = 0.5 they are
  within 1e-5 of each other, each as close to the float64 run as the other, and the epoch's cost
  agrees."""
  data = small(mnist, 1005)
  order = jn.epoch_order(jax.random.key(1), 0, 1005)
  params = jn.init_params(jax.random.key(0), WIDE)
  state = jn.with_learning_rate(jn.SGD.init(params), 0.5)
  in_blocks = jn.train_epoch(params, state, data.x, data.y, order, batch_size=10)
  plain = jn.train_epoch(params, state, data.x, data.y, order, batch_size=10, blocks=False)
  with jax.enable_x64(True):
    p64 = jax.tree.map(lambda a: a.astype(jnp.float64), params)
    exact = sgd_epoch(p64, jnp.asarray(data.x, jnp.float64), data.y, order, 10, 0.5)
    off_blocks = max_diff(jax.tree.map(lambda a: a.astype(jnp.float64), in_blocks[0]), exact)
    off_plain = max_diff(jax.tree.map(lambda a: a.astype(jnp.float64), plain[0]), exact)
  assert 0 < max_diff(in_blocks[0], plain[0]) <= 1e-5
  assert off_blocks <= 2 * off_plain, (off_blocks, off_plain)
  np.testing.assert_allclose(in_blocks[2]["train_cost"], plain[2]["train_cost"], rtol=1e-5)
  assert int(in_blocks[1].count) == int(plain[1].count) == 101


def blocked_population(m):
  """m members of [784, 30, 10], which train in blocks when they share a shuffle."""
  params = jn.init_population(jax.random.split(jax.random.key(0), m), [784, 30, 10])
  assert blocks.choose(
    "auto",
    optimizer=jn.SGD,
    cost=jn.quadratic_cost,
    batch_size=10,
    params=params,
    members=m,
    shared=True,
  )
  return params


def test_a_shared_shuffle_in_blocks_is_within_float32_rounding_of_the_single_runs(mnist):
  """A population sharing a shuffle, per-member η, the book's smaller last mini-batch (1005 = 12
  blocks of 8 steps, 4 more steps, then 5 examples): after 101 steps at η = 3, each member within
  1e-5 of its float32 single run, its cost within 1e-5."""
  data = small(mnist, 1005)
  params = blocked_population(8)
  etas = [3.0, 0.5] * 4
  key = jax.random.key(5)
  trained, history = jn.fit_population(params, data, epochs=1, batch_size=10, key=key, eta=etas)
  for k in (0, 3, 7):
    single, single_history = jn.fit(
      jn.member(params, k), data, epochs=1, batch_size=10, key=key, eta=etas[k]
    )
    assert max_diff(jn.member(trained, k), single) <= 1e-5
    np.testing.assert_allclose(history.member(k).train_cost, single_history.train_cost, rtol=1e-5)


def test_float32_rounding_is_judged_against_float64(mnist):
  """Where SGD amplifies float32's rounding, a member can end farther than 1e-5 from its float32
  single run: here member 3 of [784, 16, 10], 3.5e-5 after 100 steps at η = 3, when that single
  run is itself 2.4e-5 from the float64 run of the same steps. So "within float32 rounding" is
  judged against float64: each member no farther from it than 1e-5 or twice its float32 single
  run (member 3: 1.1e-5), and within 1e-4 of that single run."""
  data = small(mnist, 1000)
  params = jn.init_population(jax.random.split(jax.random.key(0), 4), [784, 16, 10])
  key = jax.random.key(5)
  trained, _ = jn.fit_population(params, data, epochs=1, batch_size=10, key=key, eta=3.0)
  for k in range(4):
    single, _ = jn.fit(jn.member(params, k), data, epochs=1, batch_size=10, key=key)
    exact = float64_run(jn.member(params, k), data, key=key)
    assert off(jn.member(trained, k), exact) <= max(1e-5, 2 * off(single, exact)), k
    assert max_diff(jn.member(trained, k), single) <= 1e-4, k


def test_blocks_are_the_same_sgd_exactly_in_float64(mnist):
  """In float64 the re-association's rounding all but vanishes: each member equals its single
  run (float64 too) to 1e-11, so the blocks compute the same SGD, not an approximation."""
  data = small(mnist, 1005)
  with jax.enable_x64(True):
    params = jax.tree.map(lambda a: a.astype(jnp.float64), blocked_population(8))
    x = jnp.asarray(data.x, jnp.float64)
    trained, _ = jn.fit_population(
      params, jn.Dataset(x, data.y), epochs=1, batch_size=10, key=jax.random.key(5)
    )
    for k in (0, 7):
      single, _ = jn.fit(
        jn.member(params, k),
        jn.Dataset(x, data.y),
        epochs=1,
        batch_size=10,
        key=jax.random.key(5),
      )
      assert max_diff(jn.member(trained, k), single) <= 1e-11


def test_a_population_in_blocks_cut_into_calls_equals_one_call(mnist):
  """A long epoch cut into calls (progress) cuts at whole blocks, so it takes the same blocks:
  bit-equal to one call. The optimizer's step count advances by the epoch's steps, as `optax`
  would; jitted and eager agree."""
  data = small(mnist, 333)
  params = blocked_population(8)
  state = jn.with_learning_rate(jax.vmap(jn.SGD.init)(params), 3.0)
  order_N = jn.epoch_order(jax.random.key(1), 0, 333)
  whole = jn.train_population_epoch(params, state, data.x, data.y, order_N, batch_size=10)
  epoch = functools.partial(
    program.compiled_population_epoch,
    batch_size=10,
    optimizer=jn.SGD,
    cost=jn.quadratic_cost,
    blocks=True,
  )
  done = []
  pieces = run_epoch(
    epoch,
    params,
    state,
    data.x,
    data.y,
    order_N,
    batch_size=10,
    steps_per_call=3,
    wait=jax.block_until_ready,
    within=done.append,
  )
  assert done == [80, 160, 240]  # 3 steps rounded up to a block of 8: calls of 80 rows
  chex.assert_trees_all_equal(pieces[0], whole[0])
  np.testing.assert_array_equal(whole[1].count, np.full(8, 34))  # 33 steps of 10, one of 3
  with jax.disable_jit():
    eager = jn.train_population_epoch(params, state, data.x, data.y, order_N, batch_size=10)
  chex.assert_trees_all_close(eager[0], whole[0], atol=1e-6)
  vmapped = jn.train_population_epoch(
    params, state, data.x, data.y, order_N, batch_size=10, blocks=False
  )
  chex.assert_trees_all_close(vmapped[0], whole[0], atol=1e-5)
