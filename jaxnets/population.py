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
where it picks others for a larger batch (tested). Given one key, every member takes the same
mini-batches: the first layer's products of all members then share their input and run as one
matrix product, and with `SGD` the epoch runs in blocks of steps (`blocks=`), which is faster
still; its rounding differs from a single run's, within float32 rounding.
"""

import functools
from collections.abc import Callable, Sequence
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh

from jaxnets._checks import InputError, check_keys, check_population, is_int, member_shapes
from jaxnets._engine import members as spread
from jaxnets._engine import program
from jaxnets.cost import quadratic_cost
from jaxnets.data.dataset import Dataset
from jaxnets.history import PopulationHistory
from jaxnets.network import Params, init_params
from jaxnets.sgd import SGD
from jaxnets.train import Run, check_epoch, epoch_options, epoch_order, key_words

__all__ = [
  "evaluate_population",
  "fit_population",
  "init_population",
  "member",
  "population_size",
  "train_population_epoch",
]

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
    keys: M PRNG keys, shape (M,) (e.g. `jax.random.split(key, M)`; legacy uint32 keys (M, 2)
      too).
    sizes, init, dtype: as for `init_params`.

  Returns:
    A list of `Layer(w, b)`, w of shape (M, sizes[i+1], sizes[i]), b of shape (M, sizes[i+1]).
  """
  keys = check_keys(keys, name="keys")
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
  if not is_int(k) or not 0 <= k < m:
    raise InputError(f"k={k!r}; expected a member index from 0 to {m - 1}")
  return jax.tree.map(lambda a: a[k], params)


def train_population_epoch(
  params, opt_state, x, y, order, *, batch_size, optimizer=None, cost=quadratic_cost, mesh=None,
  blocks="auto",
) -> tuple[Params, Any, dict[str, jax.Array]]:  # fmt: skip
  """One epoch of every member of a population, compiled whole: each member's `train_epoch`.

  Args:
    params: the population, stacked on a leading axis M.
    opt_state: `optimizer`'s state of every member (`jax.vmap(optimizer.init)(params)`).
    x, y: the training inputs (N, n_in), shared by all members, and labels (N,) or targets.
    order: the epoch's order: (M, N) one per member, or (N,) shared by all.
    batch_size: the mini-batch size m.
    optimizer: an optax optimizer, the same for every member; default `jaxnets.SGD`.
    cost: the mini-batch cost each step differentiates.
    mesh: a `Mesh` with one axis "members": the members split over its devices, each device
      training its own (a population that doesn't divide evenly is padded, the padding dropped).
    blocks: "auto", True or False, as for `train_epoch`; a shared order in blocks stacks the
      members' first layers into one matrix (from `jaxnets._engine.blocks.MIN_MEMBERS` members).

  Returns:
    (params, opt_state, metrics), each with a leading axis M: metrics["train_cost"] (M,), the
    mean mini-batch cost of each member, and metrics["finite"] (M,).
  """
  m, _ = check_population(params)
  x, y, order = check_epoch(member_shapes(params), x, y, order, batch_size, order_ranks=(1, 2))
  if order.ndim == 2 and order.shape[0] != m:
    raise InputError(f"argument order has shape {order.shape}; expected ({m}, n) or (n,)")
  shared = order.ndim == 1
  if mesh is None:
    options = population_options(params, optimizer, cost, batch_size, blocks, shared)
    return program.compiled_population_epoch(params, opt_state, x, y, order, **options)
  total = spread.padded(m, spread.check_mesh(mesh))
  options = population_options(params, optimizer, cost, batch_size, blocks, shared,
                               per_device=total // mesh.size)  # fmt: skip
  state = spread.put(spread.pad((params, opt_state), m, total), mesh, split=True)
  order = spread.put(order if shared else spread.pad(order, m, total), mesh, split=not shared)
  data = spread.put((x, y), mesh, split=False)
  out = spread.population_epoch(*state, *data, order, mesh=mesh, **options)
  return spread.unpad(out, m)


def population_options(params, optimizer, cost, batch_size, blocks, shared, per_device=None):
  """The compiled population epoch's static arguments; `per_device`: the members each device
  trains, where they are split over devices (the blocks' rule counts them)."""
  m = jax.tree.leaves(params)[0].shape[0] if per_device is None else per_device
  optimizer = SGD if optimizer is None else optimizer
  return epoch_options(params, batch_size, optimizer, cost, None, blocks, members=m, shared=shared)


def eval_members(members: int, n_eval: int, sizes: Sequence[int]) -> int:
  """How many members `fit_population` evaluates at once: about `EVAL_VALUES` activations."""
  return max(1, min(members, EVAL_VALUES // max(1, n_eval * sum(sizes))))


def evaluate_population(params: Params, x: Any, y: Any) -> tuple[jax.Array, jax.Array]:
  """Every member's cost and correct answers on a set.

  Args:
    params: the population.
    x, y: the set's inputs (n, n_in) and labels (n,) or targets (n, n_out).

  Returns:
    (cost (M,), correct (M,)): each member's quadratic cost, and how many examples have their
    largest output at their label (−1 for regression targets).
  """
  m, sizes = check_population(params)
  x, y, _ = check_epoch(member_shapes(params), x, y, np.arange(1), 1)
  per_call = eval_members(m, len(x), sizes)
  return program.evaluate_population(params, x, jnp.asarray(y), members_per_call=per_call)


def fit_population(
  params: Params,
  train: Dataset | tuple,
  *,
  epochs: int,
  batch_size: int,
  key: jax.Array,
  eta: Any = None,
  optimizer: optax.GradientTransformation | None = None,
  opt_state: Any = None,
  validation: Dataset | tuple | None = None,
  test: Dataset | tuple | None = None,
  start_epoch: int = 0,
  mesh: Mesh | None = None,
  cost: Callable = quadratic_cost,
  blocks: bool | str = "auto",
  history: PopulationHistory | None = None,
  on_epoch: Callable | None = None,
  steps_per_call: int | None = None,
  train_accuracy: bool = False,
) -> tuple[Params, PopulationHistory]:
  """Trains every network of a population by mini-batch SGD at once, evaluating after every epoch.

  Args:
    params: the population, stacked on a leading axis M (`init_population`).
    train: the training set, `Dataset(x, y)` or a pair (x, y), shared by all members.
    key: M PRNG keys, shape (M,): member k shuffles as `fit` with key k does (`epoch_order(
      key[k], e, n)`); or one key: every member takes that key's shuffle.
    eta: the learning rate η: one for all, or a sequence of one per member; set in the
      optimizer's state (default 3.0 for the default optimizer, else the optimizer's own).
    epochs, batch_size, optimizer, opt_state, validation, test, start_epoch, cost, blocks,
      on_epoch, steps_per_call, train_accuracy: as for `fit`; the optimizer is the same for
      every member, the metrics given to `on_epoch` hold one value per member.
    history: a prior run's `PopulationHistory`, extended in place and returned.
    mesh: a `jax.sharding.Mesh` with one axis "members": the members split over its devices
      (every device of every process, with `jax.distributed`), each device training its own as
      one device would, the data replicated; a population that doesn't divide evenly over the
      devices is padded with copies of its last member, which never show in the results. The
      returned params are then global arrays, split over the devices.

  Returns:
    (params, history): the trained population and its per-epoch metrics, a list of one value
    per member for each (`history.member(k)` is member k's alone).

  Raises:
    InputError: bad sizes, data, keys, batch size or η; TrainingDiverged: NaN or Inf, naming the
      members.
  """
  m, sizes = check_population(params)
  keys = check_keys(key, m, "key", one=True)
  run = Run.setup(
    params, train, validation, test, epochs, batch_size, eta, optimizer, opt_state, start_epoch,
    None, steps_per_call, on_epoch, init=lambda o, p: jax.vmap(o.init)(p),
    network=member_shapes(params), train_accuracy=train_accuracy,
  )  # fmt: skip
  shared = keys.ndim == 0
  devices = spread.check_mesh(mesh) if mesh is not None else 1
  total = spread.padded(m, devices)
  options = population_options(
    params, run.optimizer, cost, batch_size, blocks, shared, per_device=total // devices
  )
  n = len(run.train.x)
  n_eval = max([len(d.x) for d in run.sets.values()] + [n if train_accuracy else 0])
  words = [key_words(k) for k in (keys[None] if shared else keys)]

  def order(epoch: int) -> np.ndarray:
    if shared:
      return epoch_order(words[0], epoch, n)
    return spread.pad(np.stack([epoch_order(w, epoch, n) for w in words]), m, total)

  per_call = eval_members(total // devices, n_eval, sizes)
  history = PopulationHistory() if history is None else history
  if mesh is None:
    return run.loop(
      params,
      epoch=functools.partial(program.compiled_population_epoch, **options),
      evaluate=functools.partial(program.evaluate_population, members_per_call=per_call),
      order=order,
      history=history,
    )
  params, run.opt_state = spread.pad((params, run.opt_state), m, total)
  return run.loop(
    params,
    epoch=functools.partial(spread.population_epoch, mesh=mesh, **options),
    evaluate=functools.partial(spread.evaluate_population, mesh=mesh, members_per_call=per_call),
    order=order,
    history=history,
    put=lambda tree: spread.put(tree, mesh, split=False),
    put_state=lambda tree: spread.put(tree, mesh, split=True),
    put_order=lambda tree: spread.put(tree, mesh, split=not shared),
    members=m if total != m else None,
  )
