"""Training: epochs of mini-batch SGD, each epoch one compiled program (Nielsen's `SGD`).

For each epoch: shuffle the training data, cut it into mini-batches of size m, take one gradient
step per mini-batch, then evaluate on the validation and test sets. A whole epoch is one
`jax.jit` call, a `lax.scan` over its mini-batches, so Python runs once per epoch; the same code
runs on CPU, GPU or TPU, and data-parallel over a `Mesh` of devices.

Each step differentiates the mini-batch cost C = 1/(2m) Σ ‖y − a‖² and hands the gradient to an
optax optimizer. The default, `SGD`, is `optax.sgd` with η in its state
(`optax.inject_hyperparams`): w ← w − η ∇C, the bits of `sgd_step`, and one compiled epoch serves
every η.
"""

import dataclasses
import math
from collections.abc import Callable
from typing import Any, NamedTuple

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from jaxnets import _blocked_sgd
from jaxnets._checks import InputError, check_eta, check_int, check_training, epoch_metrics
from jaxnets._device import epoch_flops
from jaxnets._loop import EpochLoop
from jaxnets._memory import check_fit_memory
from jaxnets.cost import quadratic_cost, targets
from jaxnets.evaluation import evaluate
from jaxnets.network import Params
from jaxnets.sgd import minibatch_indices


class Dataset(NamedTuple):
  """Examples: inputs x (N, n_in) float, and y: integer labels (N,) for classification or float
  targets (N, n_out) for regression."""

  x: np.ndarray | jax.Array
  y: np.ndarray | jax.Array


SGD = optax.inject_hyperparams(optax.sgd, static_args=("momentum", "nesterov"))(learning_rate=3.0)
"""Plain SGD, w ← w − η ∇C, with η in the optimizer state: `with_learning_rate` sets it."""


@dataclasses.dataclass
class History:
  """Per-epoch metrics of a run, one entry per epoch, JSON-ready: a float per epoch for one
  network; for a population, a list of one float per member (`epoch_seconds` stays one float)."""

  train_cost: list[Any] = dataclasses.field(default_factory=list)
  validation_cost: list[Any] = dataclasses.field(default_factory=list)
  validation_accuracy: list[Any] = dataclasses.field(default_factory=list)
  test_cost: list[Any] = dataclasses.field(default_factory=list)
  test_accuracy: list[Any] = dataclasses.field(default_factory=list)
  epoch_seconds: list[float] = dataclasses.field(default_factory=list)

  def append(self, metrics: dict[str, Any]) -> None:
    """Appends one epoch's metrics; those an epoch lacks (no test set, say) are NaN."""
    cost = metrics["train_cost"]
    missing = [math.nan] * len(cost) if isinstance(cost, list) else math.nan
    for field in dataclasses.fields(self):
      getattr(self, field.name).append(metrics.get(field.name, missing))

  @property
  def members(self) -> int | None:
    """The population's size, or None for the history of one network (or of no epoch yet)."""
    first = self.train_cost[0] if self.train_cost else None
    return len(first) if isinstance(first, list) else None

  def member(self, k: int) -> "History":
    """The history of member k of a population, as one network's."""
    if self.members is None:
      raise InputError("member(): this is the history of one network, not of a population")
    check_int("k", k, 0, self.members - 1)
    picked = {
      name: [v[k] if isinstance(v, list) else v for v in values]
      for name, values in self.as_dict().items()
    }
    return History(**picked)

  def as_dict(self) -> dict[str, list[Any]]:
    return dataclasses.asdict(self)

  @classmethod
  def from_dict(cls, d: dict[str, list[Any]]) -> "History":
    """A history from `as_dict`'s output (as saved in a checkpoint)."""
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: list(v) for k, v in d.items() if k in names})


@jax.jit
def _eval_metrics(params, x_NxI, y_N):
  """(cost, correct) on a dataset; correct counts argmax hits (−1 for regression targets)."""
  w_OxI = params[-1].w
  cost = quadratic_cost(params, x_NxI, targets(y_N, w_OxI.shape[0], w_OxI.dtype))
  if jnp.issubdtype(y_N.dtype, jnp.integer):
    return cost, evaluate(params, x_NxI, y_N)
  return cost, jnp.int32(-1)


def key_words(key: jax.Array) -> tuple[int, ...]:
  """A PRNG key's raw words as Python ints (read from the device once), to seed `epoch_order`."""
  return tuple(int(w) for w in np.asarray(jax.random.key_data(key)).ravel())


def epoch_order(key: jax.Array | tuple[int, ...], epoch: int, n: int) -> np.ndarray:
  """The shuffle of epoch `epoch`: a random permutation of range(n), int32.

  A function of (key, epoch) alone, so that resuming at any epoch repeats the same order: NumPy's
  PCG64 seeded with the key's words and the epoch, drawn on the host as a data loader would.

  Args:
    key: a JAX PRNG key, or its `key_words` (which avoids reading the device again).
    epoch: the epoch's index.
    n: how many training examples.
  """
  words = key if isinstance(key, tuple) else key_words(key)
  return np.random.default_rng([*words, epoch]).permutation(n).astype(np.int32)


def _step(params, opt_state, x_BxI, y_BxO, optimizer, cost_fn):
  cost, grads = jax.value_and_grad(cost_fn)(params, x_BxI, y_BxO)
  with jax.numpy_dtype_promotion("standard"):  # optax's own arithmetic (adam's β^t: float ** int)
    updates, opt_state = optimizer.update(grads, opt_state, params)
  return optax.apply_updates(params, updates), opt_state, cost


CHUNK_ROWS = 1024
"""About how many training rows `train_epoch` gathers at once: an outer scan over chunks of
mini-batches, an inner one over a chunk's mini-batches (README, Speed, says why)."""


def epoch_program(
  params,
  opt_state,
  x_NxI,
  y_N,
  order,
  *,
  batch_size,
  optimizer,
  mesh,
  cost,
  chunk_rows,
  members=False,
  blocks=True,
):
  """`train_epoch`'s program, unjitted: mini-batches of `order` gathered about `chunk_rows` rows
  at a time, then a step on each; or, with `blocks` where they apply (a wide layer, `SGD`, the
  quadratic cost, a small mini-batch, no mesh), the same steps in blocks
  (`jaxnets._blocked_sgd.network_epoch`).

  With `members`, a population (`jaxnets.population`: params and opt_state stacked on a leading
  axis M) in which member k takes the mini-batches of `order[k]`, order (M, N): each step is then
  `jax.vmap` of one network's step over the members, and a chunk holds every member's mini-batches
  of its steps, x of shape (K, M, B, I).
  """
  if (
    blocks
    and not members
    and _blocked_sgd.applies_to_network(params, optimizer, cost, batch_size, mesh)
  ):
    return _blocked_sgd.network_epoch(params, opt_state, x_NxI, y_N, order, batch_size=batch_size)
  n_out = params[-1].w.shape[-2]
  x_NxI, y_N = jnp.asarray(x_NxI), jnp.asarray(y_N)
  if members:  # each member's order cut alike, then steps first: (S, M, B) and (1, M, R)
    full_MxSxB, rest_MxR = jax.vmap(lambda o: minibatch_indices(o, batch_size))(order)
    full, rest = full_MxSxB.transpose(1, 0, 2), rest_MxR[None]
  else:
    full, rest_R = minibatch_indices(order, batch_size)
    rest = rest_R[None]
  steps = full.shape[0]
  k = max(1, min(steps, chunk_rows // batch_size))

  def gather(idx):
    """The chunk's mini-batches: x (K, B, I) and targets (K, B, O) (or (K, M, B, ·)), B sharded
    over the mesh.

    A last mini-batch too small to split evenly over the devices (the book's remainder) is not
    sharded: each device computes it whole.
    """
    x_KxBxI, y_KxBxO = x_NxI[idx], targets(y_N[idx], n_out, params[-1].w.dtype)
    if mesh is not None and idx.shape[1] % mesh.size == 0:
      shard = NamedSharding(mesh, PartitionSpec(None, "batch"))
      x_KxBxI = jax.lax.with_sharding_constraint(x_KxBxI, shard)
      y_KxBxO = jax.lax.with_sharding_constraint(y_KxBxO, shard)
    return x_KxBxI, y_KxBxO

  def one(params, opt_state, x_BxI, y_BxO):
    return _step(params, opt_state, x_BxI, y_BxO, optimizer, cost)

  if members:
    one = jax.vmap(one)

  def step(carry, xy):
    params, opt_state, total = carry
    params, opt_state, cost_value = one(params, opt_state, *xy)
    return (params, opt_state, total + cost_value), None  # the costs summed step by step

  def chunk(carry, idx):
    return jax.lax.scan(step, carry, gather(idx))[0]

  total = jnp.zeros(params[-1].b.shape[:-1], params[-1].w.dtype)  # (), or (M,) for a population
  carry = jax.lax.scan(
    lambda c, idx: (chunk(c, idx), None),
    (params, opt_state, total),
    full[: steps // k * k].reshape(steps // k, k, *full.shape[1:]),
  )[0]
  if steps % k:
    carry = chunk(carry, full[steps // k * k :])
  if rest.shape[-1]:
    carry = chunk(carry, rest)
  params, opt_state, total = carry
  return params, opt_state, epoch_metrics(params, total, steps + (1 if rest.shape[-1] else 0))


@jax.jit(static_argnames=("batch_size", "optimizer", "mesh", "cost"))
def train_epoch(
  params, opt_state, x_NxI, y_N, order_N, *, batch_size, optimizer, mesh=None, cost=quadratic_cost
):
  """One epoch of mini-batch training, compiled whole.

  The steps, their order and their arithmetic are those of `sgd_epoch`, the Python loop of
  `sgd_step` over `minibatch_indices(order_N, batch_size)`: a `lax.scan` over chunks of about
  `CHUNK_ROWS` training rows gathered at once, and within a chunk over its mini-batches. A network
  with a wide layer (≥ 2^18 weights) trained by `SGD` at a small mini-batch takes the same steps
  in blocks (`jaxnets._blocked_sgd`): the same SGD, its sums in another order, within float32
  rounding, faster.

  Args:
    params: the network.
    opt_state: `optimizer`'s state.
    x_NxI: the training inputs.
    y_N: their labels (N,) int, or targets (N, n_out) float.
    order_N: the epoch's order, indices into `x_NxI`, each in [0, N) (`epoch_order`, or any
      permutation such as `jax.random.permutation(key, N)`); a shorter index array trains on
      those examples only. Their values are not checked (that would wait on the device), and
      JAX's gather clamps an index out of range.
    batch_size: the mini-batch size m (static).
    optimizer: an optax `GradientTransformation` (static).
    mesh: optional `Mesh` with a "batch" axis: each mini-batch is sharded over it.
    cost: the mini-batch cost C(params, x (B, I), y (B, O)) each step differentiates (static);
      default the book's `quadratic_cost`.

  Returns:
    (params, opt_state, metrics): metrics["train_cost"] is the mean mini-batch cost over the
    epoch, and metrics["finite"] says whether that cost and all params are finite.
  """
  check_order(order_N, rank=1)
  return epoch_program(
    params,
    opt_state,
    x_NxI,
    y_N,
    order_N,
    batch_size=batch_size,
    optimizer=optimizer,
    mesh=mesh,
    cost=cost,
    chunk_rows=CHUNK_ROWS,
  )


def check_order(order, rank: int) -> None:
  """An epoch's order: integer indices, (N,) for one network ((M, N) also for a population)."""
  shapes = "(n,) indices" if rank == 1 else "(n,) or (members, n) indices"
  chex.assert_rank(order, {1, rank}, custom_message=f"argument order_N must be {shapes}")
  chex.assert_type(order, int, custom_message="argument order_N must be integer indices")


def data_mesh(devices: list | None = None) -> Mesh:
  """A one-axis `Mesh` named "batch" over `devices` (default: every visible device)."""
  return Mesh(np.array(devices if devices is not None else jax.devices()), ("batch",))


def with_learning_rate(opt_state: Any, eta: Any) -> Any:
  """`opt_state` with its learning rate η set, for an optimizer made by `optax.inject_hyperparams`
  (such as `SGD`): changing η changes the state, not the compiled program.

  Args:
    opt_state: the optimizer's state: of one network, or of a population (`jax.vmap` of
      `optimizer.init`, one learning rate per member).
    eta: η, or for a population one η per member (a sequence of M values), or one for all.

  Raises:
    InputError: the state has no injected `learning_rate`, an η is not a finite number > 0, or
      the count of η doesn't match the members.
  """
  rate = _learning_rate(opt_state, eta)
  if isinstance(eta, (list, tuple, np.ndarray, jax.Array)):
    etas = [check_eta(e) for e in np.asarray(eta, dtype=object).ravel().tolist()]
    if np.ndim(eta) != 1 or rate.shape != (len(etas),):
      raise InputError(
        f"eta has {len(etas)} values (shape {np.shape(eta)}) but the optimizer's state holds "
        f"{'one learning rate' if rate.ndim == 0 else f'{rate.shape[0]} learning rates'}: "
        "expected one η per member of the population, or a single η"
      )
    value = jnp.asarray(etas, rate.dtype)
  else:
    value = jnp.full(rate.shape, check_eta(eta), rate.dtype)
  hyperparams = {**opt_state.hyperparams, "learning_rate": value}
  return opt_state._replace(hyperparams=hyperparams)


def _learning_rate(opt_state: Any, eta: Any) -> jax.Array:
  hyperparams = getattr(opt_state, "hyperparams", None)
  if not isinstance(hyperparams, dict) or "learning_rate" not in hyperparams:
    raise InputError(
      f"eta={eta!r} needs an optimizer with its learning rate in its state "
      "(optax.inject_hyperparams), such as jaxnets.SGD; pass the optimizer's own learning rate "
      "instead"
    )
  return hyperparams["learning_rate"]


def fit(
  params: Params,
  train: Dataset,
  *,
  epochs: int,
  batch_size: int,
  key: jax.Array,
  eta: float | None = None,
  optimizer: optax.GradientTransformation | None = None,
  opt_state: Any = None,
  validation: Dataset | None = None,
  test: Dataset | None = None,
  start_epoch: int = 0,
  mesh: Mesh | None = None,
  cost: Callable[[Params, jax.Array, jax.Array], jax.Array] = quadratic_cost,
  history: "History | None" = None,
  on_epoch: Callable[[int, Params, Any, dict[str, Any]], None] | None = None,
) -> tuple[Params, "History"]:
  """Trains a network by mini-batch SGD, evaluating after every epoch.

  Args:
    params: the starting network (random, or a saved one to fine-tune).
    train: the training set, `Dataset(x, y)`.
    epochs: how many epochs to run (counting from `start_epoch`).
    batch_size: the mini-batch size m.
    key: PRNG key for the shuffles; epoch e uses `epoch_order(key, e, n)`.
    eta: the learning rate η, set in the optimizer's state (`with_learning_rate`); default 3.0
      for the default optimizer, else the optimizer's own.
    optimizer: an optax optimizer; default `SGD`.
    opt_state: the optimizer's state to continue from (resuming); default a fresh one.
    validation: evaluated after each epoch, if given.
    test: evaluated after each epoch, if given.
    start_epoch: the index of the first epoch (resuming a run).
    mesh: a `Mesh` with a "batch" axis to train data-parallel (see `data_mesh`).
    cost: the mini-batch cost each step differentiates; default `quadratic_cost`.
    history: a prior run's metrics, extended in place by this run's epochs and returned.
    on_epoch: called after each epoch with (epoch, params, opt_state, that epoch's metrics). If
      it has a `begin` method, `begin(start_epoch)` is called once every argument has been
      checked, before the first epoch.

  Returns:
    (params, history): the trained network and the per-epoch metrics.

  Raises:
    InputError: bad sizes, data, batch size or η, or a run too large for the device's memory
      (`OutOfMemory`, naming the bytes needed and available); TrainingDiverged: NaN or Inf,
      naming the epoch.
  """
  sizes = check_training(params, train, epochs, batch_size, validation, test, mesh)
  optimizer, eta = default_optimizer(optimizer, opt_state, eta)
  check_fit_memory(sizes, params, optimizer, batch_size, validation, test, mesh)
  if opt_state is None:
    opt_state = optimizer.init(params)
  if eta is not None:
    opt_state = with_learning_rate(opt_state, eta)
  words = key_words(key)
  n = np.shape(train.x)[0]
  loop = EpochLoop(
    epoch=train_epoch,
    evaluate=_eval_metrics,
    order=lambda epoch: epoch_order(words, epoch, n),
    epoch_flops=epoch_flops(sizes, n, batch_size),
    static={"batch_size": batch_size, "optimizer": optimizer, "mesh": mesh, "cost": cost},
  )
  history = History() if history is None else history
  return loop.run(
    params, opt_state, train, validation, test, epochs, start_epoch, history, on_epoch
  )


def default_optimizer(optimizer, opt_state, eta):
  """(optimizer, η): `SGD` at η = 3.0 unless an optimizer, a state or η is given."""
  if optimizer is None:
    return SGD, (3.0 if eta is None and opt_state is None else eta)
  return optimizer, eta
