"""Populations: member k of a population trained at once equals the single run it stands for."""

import functools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from helpers import max_diff, small

import jaxnets as jn
from jaxnets._engine import program
from jaxnets._engine.device import run_epoch

SIZES = [784, 16, 10]


def test_init_population_stacks_init_params(key):
  keys = jax.random.split(key, 3)
  params = jn.init_population(keys, SIZES, "scaled")
  assert [a.shape for a in jax.tree.leaves(params)] == [(3, 16, 784), (3, 16), (3, 10, 16), (3, 10)]
  assert jn.population_size(params) == 3
  for k in range(3):
    chex.assert_trees_all_equal(jn.member(params, k), jn.init_params(keys[k], SIZES, "scaled"))
  legacy = jn.init_population(jax.vmap(jax.random.key_data)(keys), SIZES, "scaled")  # (3, 2)
  chex.assert_trees_all_equal(legacy, params)


def test_member_k_equals_the_single_run_bit_for_bit(mnist):
  """Per-member shuffles and η: each member takes exactly its single run's steps, including the
  book's smaller last mini-batch (1005 = 100 × 10 + 5), and is evaluated the same."""
  data = small(mnist, 1005)
  test = jn.Dataset(mnist.test.x[:500], mnist.test.y[:500])
  init_keys = jax.random.split(jax.random.key(0), 3)
  shuffle_keys = jax.random.split(jax.random.key(1), 3)
  etas = [0.5, 3.0, 3.0]
  params = jn.init_population(init_keys, SIZES)
  trained, history = jn.fit_population(
    params, data, epochs=2, batch_size=10, key=shuffle_keys, eta=etas, test=test
  )
  assert history.members == 3 and len(history.test_accuracy[0]) == 3
  for k in range(3):
    single, single_history = jn.fit(
      jn.member(params, k),
      data,
      epochs=2,
      batch_size=10,
      key=shuffle_keys[k],
      eta=etas[k],
      test=test,
    )
    chex.assert_trees_all_equal(jn.member(trained, k), single)
    mine = history.member(k)
    for name in ("train_cost", "test_cost", "test_accuracy"):
      assert getattr(mine, name) == getattr(single_history, name), name


def test_a_larger_population_is_within_float32_rounding_of_its_single_runs(mnist):
  """More members can get other kernels for their batched products (on an AMD EPYC: from 16 of
  [784, 30, 10]), which round differently: within 1e-5 after 100 steps at η = 3."""
  data = small(mnist, 1000)
  init_keys = jax.random.split(jax.random.key(0), 16)
  shuffle_keys = jax.random.split(jax.random.key(1), 16)
  params = jn.init_population(init_keys, [784, 30, 10])
  trained, _ = jn.fit_population(params, data, epochs=1, batch_size=10, key=shuffle_keys)
  for k in (0, 15):
    single, _ = jn.fit(jn.member(params, k), data, epochs=1, batch_size=10, key=shuffle_keys[k])
    assert max_diff(jn.member(trained, k), single) <= 1e-5


def test_a_population_of_one_is_its_single_run(mnist):
  """M = 1 runs its single run's program (a vmap of one is slower): bit for bit, with one shuffle
  key or a key per member, for a network in plain steps and one in blocks."""
  data = small(mnist, 205)
  for sizes in (SIZES, [784, 100, 10]):
    params = jn.init_population(jax.random.split(jax.random.key(0), 1), sizes)
    for key in (jax.random.key(1), jax.random.split(jax.random.key(1), 1)):
      trained, history = jn.fit_population(params, data, epochs=1, batch_size=10, key=key)
      one_key = key if key.ndim == 0 else key[0]
      single, single_history = jn.fit(
        jn.member(params, 0), data, epochs=1, batch_size=10, key=one_key
      )
      chex.assert_trees_all_equal(jn.member(trained, 0), single)
      assert history.member(0).train_cost == single_history.train_cost


def test_the_population_epoch_jitted_or_not_in_segments_or_not(mnist):
  """`train_population_epoch` equals the vmapped program run eagerly (chex variants), and an
  epoch cut into several calls (a long epoch's progress) equals one call."""
  data = small(mnist, 205)
  params = jn.init_population(jax.random.split(jax.random.key(0), 2), SIZES)
  state = jn.with_learning_rate(jax.vmap(jn.SGD.init)(params), [1.0, 3.0])
  order_MxN = np.stack([jn.epoch_order(jax.random.key(k), 0, 205) for k in range(2)])
  whole = jn.train_population_epoch(params, state, data.x, data.y, order_MxN, batch_size=10)
  with jax.disable_jit():
    eager = jn.train_population_epoch(params, state, data.x, data.y, order_MxN, batch_size=10)
  chex.assert_trees_all_close(eager[0], whole[0], atol=1e-5)
  epoch = functools.partial(
    program.compiled_population_epoch,
    batch_size=10,
    optimizer=jn.SGD,
    cost=jn.quadratic_cost,
    blocks=False,
  )
  pieces = run_epoch(
    epoch,
    params,
    state,
    data.x,
    data.y,
    order_MxN,
    batch_size=10,
    steps_per_call=4,
    wait=jax.block_until_ready,
  )
  chex.assert_trees_all_equal(pieces[0], whole[0])
  np.testing.assert_allclose(pieces[2]["train_cost"], whole[2]["train_cost"], rtol=1e-6)


def test_learning_rates_are_state_so_one_program_serves_them_all(mnist):
  data = small(mnist, 100)
  params = jn.init_population(jax.random.split(jax.random.key(0), 2), SIZES)
  keys = jax.random.split(jax.random.key(1), 2)
  jn.fit_population(params, data, epochs=1, batch_size=10, key=keys, eta=[0.5, 1.0])
  before = program.compiled_population_epoch._cache_size()
  out, _ = jn.fit_population(params, data, epochs=1, batch_size=10, key=keys, eta=[3.0, 0.1])
  assert program.compiled_population_epoch._cache_size() == before
  single, _ = jn.fit(jn.member(params, 1), data, epochs=1, batch_size=10, key=keys[1], eta=0.1)
  chex.assert_trees_all_equal(jn.member(out, 1), single)


def test_evaluation_in_groups_of_members_equals_all_at_once(mnist):
  params = jn.init_population(jax.random.split(jax.random.key(0), 5), SIZES)
  x, y = jnp.asarray(mnist.test.x[:300]), jnp.asarray(mnist.test.y[:300])
  cost_all, correct_all = program.evaluate_population(params, x, y, members_per_call=5)
  cost_two, correct_two = program.evaluate_population(params, x, y, members_per_call=2)
  np.testing.assert_array_equal(correct_all, correct_two)
  np.testing.assert_allclose(cost_all, cost_two, rtol=1e-6)
  cost, correct = jn.evaluate_population(params, mnist.test.x[:300], mnist.test.y[:300])
  for k in range(5):
    assert int(correct_all[k]) == int(correct[k]) == int(jn.evaluate(jn.member(params, k), x, y))
    assert float(cost[k]) == pytest.approx(float(jn.quadratic_cost(jn.member(params, k), x, y)))


def test_a_diverged_member_is_named(mnist):
  params = jn.init_population(jax.random.split(jax.random.key(0), 3), SIZES)
  params[0] = params[0]._replace(b=params[0].b.at[1, 0].set(jnp.nan))
  keys = jax.random.split(jax.random.key(1), 3)
  with pytest.raises(jn.TrainingDiverged, match=r"epoch 0: member\(s\) \[1\] of 3 diverged") as e:
    jn.fit_population(params, small(mnist, 50), epochs=1, batch_size=10, key=keys)
  assert e.value.members == [1]


def test_bad_population_arguments_are_named(mnist):
  data = small(mnist, 50)
  params = jn.init_population(jax.random.split(jax.random.key(0), 3), SIZES)
  keys = jax.random.split(jax.random.key(1), 3)
  kw = dict(epochs=1, batch_size=10)
  with pytest.raises(
    jn.InputError,
    match=r"^key holds PRNG keys of shape \(2,\); expected one key "
    r"per member, shape \(3,\), or one key shared by all members",
  ):
    jn.fit_population(params, data, key=keys[:2], **kw)
  with pytest.raises(jn.InputError, match="^key=an array of shape .*; expected PRNG keys"):
    jn.fit_population(params, data, key=np.zeros(3), **kw)
  with pytest.raises(jn.InputError, match="eta has 2 values .* holds 3 learning rates"):
    jn.fit_population(params, data, key=keys, eta=[1.0, 2.0], **kw)
  with pytest.raises(jn.InputError, match=r"eta=-1.0; expected a finite learning rate > 0"):
    jn.fit_population(params, data, key=keys, eta=[1.0, -1.0, 2.0], **kw)
  with pytest.raises(jn.InputError, match=r"^params is one network .* jaxnets.fit$"):
    jn.fit_population(jn.member(params, 0), data, key=keys, **kw)
  uneven = [params[0], params[1]._replace(b=params[1].b[:2])]
  with pytest.raises(jn.InputError, match=r"params\[1\].b 2; expected one leading axis M"):
    jn.population_size(uneven)
  with pytest.raises(jn.InputError, match="k=3; expected a member index from 0 to 2"):
    jn.member(params, 3)
  with pytest.raises(jn.InputError, match="training inputs have shape"):
    jn.fit_population(params, jn.Dataset(data.x[:, :700], data.y), key=keys, **kw)
  with pytest.raises(
    jn.InputError, match=r"^keys holds PRNG keys of shape \(\); expected one key "
  ):
    jn.init_population(jax.random.key(0), SIZES)
  order = np.stack([np.arange(50)] * 2)
  with pytest.raises(
    jn.InputError, match=r"^argument order has shape \(2, 50\); expected \(3, n\)"
  ):
    jn.train_population_epoch(
      params, jax.vmap(jn.SGD.init)(params), data.x, data.y, order, batch_size=10
    )


def test_other_optimizers_train_each_member_as_alone(mnist):
  data = small(mnist, 60)
  params = jn.init_population(jax.random.split(jax.random.key(0), 2), SIZES)
  keys = jax.random.split(jax.random.key(1), 2)
  adam = optax.adam(0.01)
  trained, _ = jn.fit_population(params, data, epochs=1, batch_size=10, key=keys, optimizer=adam)
  for k in range(2):
    single, _ = jn.fit(
      jn.member(params, k), data, epochs=1, batch_size=10, key=keys[k], optimizer=adam
    )
    chex.assert_trees_all_close(jn.member(trained, k), single, atol=1e-5)  # adam: g / √v


def test_history_member_and_its_errors():
  history = jn.PopulationHistory()
  history.append(
    {
      "train_cost": np.array([1.0, 2.0]),
      "test_accuracy": np.array([0.5, 0.6]),
      "epoch_seconds": 0.1,
    }
  )
  assert history.members == 2
  one = history.member(1)
  assert one.train_cost == [2.0] and one.test_accuracy == [0.6] and one.epoch_seconds == [0.1]
  assert one.validation_cost == []  # no validation set: no values
  with pytest.raises(jn.InputError, match="k=2; expected an integer from 0 to 1"):
    history.member(2)
  with pytest.raises(jn.InputError, match="holds no epoch yet"):
    jn.PopulationHistory().member(0)


def test_save_and_load_a_population(tmp_path):
  params = jn.init_population(jax.random.split(jax.random.key(0), 3), SIZES)
  jn.save_params(tmp_path / "p.npz", params)
  loaded = jn.load_params(tmp_path / "p.npz")
  chex.assert_trees_all_equal(loaded, params)
  assert jn.population_size(loaded) == 3
