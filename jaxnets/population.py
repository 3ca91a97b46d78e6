"""Populations: many networks of one architecture, trained at once by one compiled program.

The book warns of "quite some variation in results" from run to run; to see it, train many. A
population is its members' parameters stacked on a leading axis M, as `jax.vmap(init_params)`
gives them: layer l holds w of shape (M, n_{l+1}, n_l) and b of shape (M, n_{l+1}). Training it is
`jax.vmap` of training one network, so one compiled epoch trains every member:

    params_M = init_population(jax.random.split(key, 16), [784, 30, 10])
    params_M, history = fit_population(params_M, mnist.train, epochs=30, batch_size=10,
                                       key=jax.random.split(key2, 16), eta=3.0)
    net_3 = member(params_M, 3)           # one network, as `init_params` gives

Each member has its own learning rate η (the optimizer's state holds one per member) and, given
one shuffle key per member, its own shuffle: member k then takes exactly the steps of `fit` with
key k. Its parameters equal that single run's bit for bit where XLA runs the members' batched
products with the kernels of one network's (small populations), and within float32 rounding
where it picks others for a larger batch (≤ 1e-5 after 100 steps at η = 3, tested; SGD at η = 3
amplifies such differences over the epochs of a long run). Given one key, every member takes
the same mini-batches: the first layer's products of all members then share their input and run
as one matrix product (M·n_1 × n_0 by n_0 × m), and with the default optimizer the epoch runs that
layer's SGD in blocks of steps (`jaxnets._blocked_sgd`), which is faster still; its rounding
differs from a single run's, within float32 rounding.
"""

import functools
from collections.abc import Callable, Sequence
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxnets import _blocked_sgd
from jaxnets._checks import InputError, check_population, check_training, member_shapes
from jaxnets._device import epoch_flops
from jaxnets._loop import EpochLoop
from jaxnets._memory import check_fit_memory
from jaxnets.cost import quadratic_cost
from jaxnets.network import Params, init_params
from jaxnets.train import (
  CHUNK_ROWS,
  Dataset,
  History,
  _eval_metrics,
  check_order,
  default_optimizer,
  epoch_order,
  epoch_program,
  key_words,
  with_learning_rate,
)

EVAL_VALUES = 1 << 26
"""About how many activations (per example and layer, all members) one evaluation call holds:
members are evaluated this many values' worth at a time (256 MB in float32)."""


def init_population(
  keys: jax.Array,
  sizes: Sequence[int],
  init: Literal["normal", "scaled"] = "normal",
  dtype: jax.typing.DTypeLike = jnp.float32,
) -> Params:
  """Random parameters for a population: member k is `init_params(keys[k], sizes, init, dtype)`.

  Args:
    keys: M PRNG keys, shape (M,) (e.g. `jax.random.split(key, M)`).
    sizes, init, dtype: as for `init_params`.

  Returns:
    A list of `Layer(w, b)`, w of shape (M, sizes[i+1], sizes[i]), b of shape (M, sizes[i+1]).
  """
  keys = jnp.asarray(keys)
  if not jax.dtypes.issubdtype(keys.dtype, jax.dtypes.prng_key) or keys.ndim != 1:
    raise InputError(
      f"keys has shape {keys.shape} and dtype {keys.dtype}; expected (M,) PRNG keys, "
      "e.g. jax.random.split(jax.random.key(0), M)"
    )
  # one network at a time, stacked: the bits of init_params, compiled once per layer shape
  # (a vmap compiles again for every M, and a jit rounds the "scaled" division differently)
  members = [init_params(keys[k], sizes, init, dtype) for k in range(keys.shape[0])]
  return jax.tree.map(lambda *a: jnp.stack(a), *members)


def population_size(params: Params) -> int:
  """How many networks are stacked in `params` (M)."""
  return check_population(params)[0]


def member(params: Params, k: int) -> Params:
  """Member k of a population: one network, a list of `Layer(w, b)`."""
  m, _ = check_population(params)
  if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k < m:
    raise InputError(f"k={k!r}; expected a member index from 0 to {m - 1}")
  return jax.tree.map(lambda a: a[k], params)


@jax.jit(static_argnames=("batch_size", "optimizer", "cost", "blocks"))
def train_population_epoch(
  params, opt_state, x_NxI, y_N, order, *, batch_size, optimizer, cost=quadratic_cost, blocks=True
):
  """One epoch of every member of a population, compiled whole: `jax.vmap` of `train_epoch` (for
  per-member orders, of each of its steps; for one shared order, in blocks); a population of one
  runs its single run's program.

  Args:
    params: the population, stacked on a leading axis M.
    opt_state: `optimizer`'s state of every member (`jax.vmap(optimizer.init)(params)`).
    x_NxI: the training inputs, shared by all members.
    y_N: their labels (N,) int, or targets (N, n_out) float.
    order: the epoch's order: (M, N) one per member (`order_MxN`), or (N,) shared by all.
    batch_size: the mini-batch size m (static).
    optimizer: an optax `GradientTransformation` (static).
    cost: the mini-batch cost each step differentiates (static).
    blocks: SGD re-associated over blocks of steps where it applies (`jaxnets._blocked_sgd`: the
      default optimizer and cost, small mini-batches; a shared order and M ≥ 2, or members with
      a wide layer, as `train_epoch` does); False: the vmapped plain steps (static).

  Returns:
    (params, opt_state, metrics), each with a leading axis M: metrics["train_cost"] (M,), the
    mean mini-batch cost of each member, and metrics["finite"] (M,).
  """
  check_order(order, rank=2)
  m = jax.tree.leaves(params)[0].shape[0]
  shared = order.ndim == 1
  epoch = functools.partial(
    epoch_program,
    x_NxI=x_NxI,
    y_N=y_N,
    batch_size=batch_size,
    optimizer=optimizer,
    mesh=None,
    cost=cost,
    blocks=blocks,
  )

  def one_network(p, s, o):  # a member's epoch as its single run's: in blocks where they apply
    return epoch(p, s, order=o, chunk_rows=CHUNK_ROWS)

  if m == 1:  # a population of one: its single run's program (a vmap of one is slower)
    p, s = jax.tree.map(lambda a: a[0], (params, opt_state))
    out = one_network(p, s, order if shared else order[0])
    return jax.tree.map(lambda a: a[None], out)
  if shared and blocks and _blocked_sgd.applies(params, optimizer, cost, batch_size):
    return _blocked_sgd.shared_shuffle_epoch(
      params, opt_state, x_NxI, y_N, order, batch_size=batch_size
    )
  if shared or (
    blocks and _blocked_sgd.applies_to_network(params, optimizer, cost, batch_size, None)
  ):
    # each member's epoch vmapped: a shared order gathered once, or members with a wide layer
    # each in blocks on its own order
    return jax.vmap(one_network, (0, 0, None if shared else 0))(params, opt_state, order)
  # per-member orders: M chunks gathered at once, each step vmapped over the members
  return epoch(params, opt_state, order=order, chunk_rows=max(1, CHUNK_ROWS // m), members=True)


def eval_members(members: int, n_eval: int, sizes: Sequence[int]) -> int:
  """How many members `fit_population` evaluates at once: about `EVAL_VALUES` activations."""
  return max(1, min(members, EVAL_VALUES // max(1, n_eval * sum(sizes))))


def evaluate_population(params, x_NxI, y_N, members_per_call: int):
  """(cost (M,), correct (M,)) of every member on a dataset, `members_per_call` at a time."""
  return jax.lax.map(lambda p: _eval_metrics(p, x_NxI, y_N), params, batch_size=members_per_call)


_evaluate_population = jax.jit(evaluate_population, static_argnames="members_per_call")


def fit_population(
  params: Params,
  train: Dataset,
  *,
  epochs: int,
  batch_size: int,
  key: jax.Array,
  eta: Any = None,
  optimizer: optax.GradientTransformation | None = None,
  opt_state: Any = None,
  validation: Dataset | None = None,
  test: Dataset | None = None,
  start_epoch: int = 0,
  cost: Callable[[Params, jax.Array, jax.Array], jax.Array] = quadratic_cost,
  history: History | None = None,
  on_epoch: Callable[[int, Params, Any, dict[str, Any]], None] | None = None,
) -> tuple[Params, History]:
  """Trains every network of a population by mini-batch SGD at once, evaluating after every epoch.

  Args:
    params: the population, stacked on a leading axis M (`init_population`).
    train: the training set, `Dataset(x, y)`, shared by all members.
    epochs: how many epochs to run (counting from `start_epoch`).
    batch_size: the mini-batch size m.
    key: M PRNG keys, shape (M,): member k shuffles as `fit` with key k does (`epoch_order(
      key[k], e, n)`); or one key: every member takes that key's shuffle.
    eta: the learning rate η: one for all, or a sequence of one per member; set in the
      optimizer's state (default 3.0 for the default optimizer, else the optimizer's own).
    optimizer: an optax optimizer, the same for every member; default `SGD`.
    opt_state: the members' optimizer state to continue from (resuming); default a fresh one.
    validation: evaluated after each epoch, if given.
    test: evaluated after each epoch, if given.
    start_epoch: the index of the first epoch (resuming a run).
    cost: the mini-batch cost each step differentiates; default `quadratic_cost`.
    history: a prior run's metrics, extended in place by this run's epochs and returned.
    on_epoch: as for `fit`; its metrics hold a list of one value per member.

  Returns:
    (params, history): the trained population and its per-epoch metrics, a list of one value
    per member for each (`history.member(k)` is member k's alone).

  Raises:
    InputError: bad sizes, data, keys, batch size or η, or a population too large for the
      device's memory (`OutOfMemory`); TrainingDiverged: NaN or Inf, naming the members.
  """
  m, sizes = check_population(params)
  check_training(member_shapes(params), train, epochs, batch_size, validation, test)
  keys = check_keys(key, m)
  optimizer, eta = default_optimizer(optimizer, opt_state, eta)
  n_eval = max([len(d.x) for d in (validation, test) if d is not None], default=0)
  per_call = eval_members(m, n_eval, sizes)
  check_fit_memory(sizes, params, optimizer, batch_size, validation, test, None, m, per_call)
  if opt_state is None:
    opt_state = jax.vmap(optimizer.init)(params)
  if eta is not None:
    opt_state = with_learning_rate(opt_state, eta)
  n = np.shape(train.x)[0]
  words = [key_words(k) for k in keys] if keys.ndim else key_words(keys)

  def order(epoch: int) -> np.ndarray:
    if isinstance(words, tuple):
      return epoch_order(words, epoch, n)
    return np.stack([epoch_order(w, epoch, n) for w in words])

  loop = EpochLoop(
    epoch=train_population_epoch,
    evaluate=lambda p, x, y: _evaluate_population(p, x, y, members_per_call=per_call),
    order=order,
    epoch_flops=m * epoch_flops(sizes, n, batch_size),
    static={"batch_size": batch_size, "optimizer": optimizer, "cost": cost},
  )
  history = History() if history is None else history
  return loop.run(
    params, opt_state, train, validation, test, epochs, start_epoch, history, on_epoch
  )


def check_keys(key: Any, members: int) -> jax.Array:
  """A population's shuffle keys: (M,) PRNG keys, one per member, or one key shared by all."""
  keys = key if isinstance(key, jax.Array) else None
  if keys is None or not jax.dtypes.issubdtype(keys.dtype, jax.dtypes.prng_key):
    raise InputError(
      f"key={key!r}; expected PRNG keys (jax.random.key, or jax.random.split(key, {members}))"
    )
  if keys.shape not in ((), (members,)):
    raise InputError(
      f"key has shape {keys.shape}; expected ({members},), one key per member, or (), one "
      "shuffle shared by all members"
    )
  return keys
