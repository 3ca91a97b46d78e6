"""Training: epochs of mini-batch SGD, each epoch one compiled program.

The book's `SGD` loop, for each epoch: shuffle the training data, cut it into mini-batches of
size m, take one gradient step per mini-batch, then evaluate. Here the shuffle is drawn on the
host (`epoch_order`) while the device trains the previous epoch, and a whole epoch (every step,
the training cost) is a single `jax.jit` call: a `lax.scan` over the mini-batches, so Python runs
once per epoch, not once per step, and nothing waits on the device inside an epoch. The same code
runs on CPU, GPU or TPU, and data-parallel over a `Mesh` of devices.

Each step differentiates the mini-batch cost 1/(2m) Σ ‖y − a‖² (the forward pass vmapped over
the examples, `feedforward_batch`) and hands the gradient to an optax optimizer; the default
`optax.sgd(eta)` is exactly `sgd_step`'s w ← w − η ∇C.
"""

import dataclasses
import functools
import os
import time
from collections.abc import Callable
from typing import Any

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from jaxnets.cost import quadratic_cost
from jaxnets.data import Dataset
from jaxnets.evaluation import evaluate
from jaxnets.network import Params, check_params, layer_sizes


class TrainingDiverged(FloatingPointError):
  """The training cost or the parameters became NaN or infinite."""


@dataclasses.dataclass
class History:
  """Per-epoch metrics of a run, one entry per epoch (JSON-ready lists of floats)."""

  train_cost: list[float] = dataclasses.field(default_factory=list)
  validation_cost: list[float] = dataclasses.field(default_factory=list)
  validation_accuracy: list[float] = dataclasses.field(default_factory=list)
  test_cost: list[float] = dataclasses.field(default_factory=list)
  test_accuracy: list[float] = dataclasses.field(default_factory=list)
  epoch_seconds: list[float] = dataclasses.field(default_factory=list)

  def append(self, metrics: dict[str, float]) -> None:
    """Appends one epoch's metrics; those an epoch lacks (no test set, say) are NaN."""
    for field in dataclasses.fields(self):
      getattr(self, field.name).append(metrics.get(field.name, float("nan")))

  def as_dict(self) -> dict[str, list[float]]:
    return dataclasses.asdict(self)

  @classmethod
  def from_dict(cls, d: dict[str, list[float]]) -> "History":
    """A history from `as_dict`'s output (as saved in a checkpoint)."""
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: list(v) for k, v in d.items() if k in names})


def targets(y: jax.Array, n_out: int) -> jax.Array:
  """Desired outputs: one-hot vectors (n, n_out) for integer labels, float targets unchanged."""
  if jnp.issubdtype(y.dtype, jnp.integer):
    return jax.nn.one_hot(y, n_out, dtype=jnp.float32)
  return y


@jax.jit
def _eval_metrics(params, x_NxI, y_N):
  """(cost, correct) on a dataset; correct counts argmax hits (−1 for regression targets)."""
  cost = quadratic_cost(params, x_NxI, targets(y_N, params[-1].w.shape[0]))
  if jnp.issubdtype(y_N.dtype, jnp.integer):
    return cost, evaluate(params, x_NxI, y_N)
  return cost, jnp.int32(-1)


def key_words(key: jax.Array) -> tuple[int, ...]:
  """A PRNG key's raw words as Python ints (read from the device once), to seed `epoch_order`."""
  return tuple(int(w) for w in np.asarray(jax.random.key_data(key)).ravel())


def epoch_order(key: jax.Array | tuple[int, ...], epoch: int, n: int) -> np.ndarray:
  """The shuffle of epoch `epoch`: a random permutation of range(n), int32.

  A function of (key, epoch) alone, so that resuming at any epoch repeats the same order. It is
  drawn on the host by NumPy (PCG64, seeded with the key's words and the epoch), as a data
  loader would: a permutation of 50,000 takes about 0.5 ms there and `fit` draws it while the
  device trains the previous epoch, where `jax.random.permutation`'s sorts take about 23 ms of a
  2-core CPU's epoch.

  Args:
    key: a JAX PRNG key, or its `key_words` (which avoids reading the device again).
    epoch: the epoch's index.
    n: how many training examples.
  """
  words = key if isinstance(key, tuple) else key_words(key)
  return np.random.default_rng([*words, epoch]).permutation(n).astype(np.int32)


def minibatch_indices(order_N: jax.Array, batch_size: int) -> tuple[jax.Array, jax.Array]:
  """An epoch's order cut into mini-batches, as the book's slicing does.

  Returns:
    (full_SxB, rest_R): S = n // batch_size full mini-batches of indices, and the R = n % batch_size
    indices of a last, smaller mini-batch, possibly empty.
  """
  steps = order_N.shape[0] // batch_size
  return order_N[: steps * batch_size].reshape(steps, batch_size), order_N[steps * batch_size :]


def _step(params, opt_state, x_BxI, y_BxO, optimizer, cost_fn):
  cost, grads = jax.value_and_grad(cost_fn)(params, x_BxI, y_BxO)
  updates, opt_state = optimizer.update(grads, opt_state, params)
  return optax.apply_updates(params, updates), opt_state, cost


CHUNK_ROWS = 1024
"""About how many training rows `train_epoch` gathers at once (see `chunk_steps`)."""


def chunk_steps(steps: int, batch_size: int) -> int:
  """How many mini-batches `train_epoch` gathers in one go: about `CHUNK_ROWS` rows, ≤ `steps`."""
  return max(1, min(steps, CHUNK_ROWS // batch_size))


@jax.jit(static_argnames=("batch_size", "optimizer", "mesh", "cost"))
def train_epoch(
  params, opt_state, x_NxI, y_N, order_N, *, batch_size, optimizer, mesh=None, cost=quadratic_cost
):
  """One epoch of mini-batch training, compiled whole.

  The shuffled mini-batches are gathered from `x_NxI` a chunk of about `CHUNK_ROWS` rows at a
  time (an outer `lax.scan` over chunks, an inner one over their mini-batches): a gather from the
  whole training set is costly per call on the CPU (XLA splits it over threads, sized by the
  training set), and the chunk avoids a shuffled copy of the whole set. The steps, their order and
  their arithmetic are those of looping `sgd_step` over `minibatch_indices`.

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
  n_out = params[-1].w.shape[0]
  chex.assert_rank(order_N, 1, custom_message="argument order_N must be (n,) indices")
  chex.assert_type(order_N, int, custom_message="argument order_N must be integer indices")
  full_SxB, rest_R = minibatch_indices(order_N, batch_size)
  steps = full_SxB.shape[0]
  k = chunk_steps(steps, batch_size)

  def gather(idx_KxB):
    """The chunk's mini-batches: x (K, B, I) and targets (K, B, O), B sharded over the mesh.

    A last mini-batch too small to split evenly over the devices (the book's remainder) is not
    sharded: each device computes it whole.
    """
    x_KxBxI, y_KxBxO = x_NxI[idx_KxB], targets(y_N[idx_KxB], n_out)
    if mesh is not None and idx_KxB.shape[1] % mesh.size == 0:
      shard = NamedSharding(mesh, PartitionSpec(None, "batch"))
      x_KxBxI = jax.lax.with_sharding_constraint(x_KxBxI, shard)
      y_KxBxO = jax.lax.with_sharding_constraint(y_KxBxO, shard)
    return x_KxBxI, y_KxBxO

  def step(carry, xy):
    params, opt_state, cost_value = _step(*carry, *xy, optimizer, cost)
    return (params, opt_state), cost_value

  def chunk(carry, idx_KxB):
    return jax.lax.scan(step, carry, gather(idx_KxB))

  carry, cost_CxK = jax.lax.scan(
    chunk, (params, opt_state), full_SxB[: steps // k * k].reshape(steps // k, k, batch_size)
  )
  total_cost = jnp.sum(cost_CxK)
  if steps % k:
    carry, cost_K = chunk(carry, full_SxB[steps // k * k :])
    total_cost += jnp.sum(cost_K)
  if rest_R.shape[0]:
    carry, cost_1 = chunk(carry, rest_R[None])
    total_cost += jnp.sum(cost_1)
  params, opt_state = carry
  mean_cost = total_cost / (steps + (1 if rest_R.shape[0] else 0))
  finite = jnp.isfinite(mean_cost)
  for leaf in jax.tree.leaves(params):
    finite &= jnp.all(jnp.isfinite(leaf))
  return params, opt_state, {"train_cost": mean_cost, "finite": finite}


def _local(tree):
  """Replicated scalars as NumPy values, read from this process's copy (so that a mesh spanning
  several hosts, whose arrays no one process holds whole, can still be read)."""
  return jax.tree.map(lambda a: np.asarray(a.addressable_data(0)), tree)


def data_mesh(devices: list | None = None) -> Mesh:
  """A one-axis `Mesh` named "batch" over `devices` (default: every visible device)."""
  return Mesh(np.array(devices if devices is not None else jax.devices()), ("batch",))


def _all_finite(a) -> bool:
  """Whether an array holds no NaN or Inf: its min and max are finite (no temporary array)."""
  a = np.asarray(a)
  if a.size == 0 or not np.issubdtype(a.dtype, np.floating):
    return True
  return bool(np.isfinite(np.min(a)) and np.isfinite(np.max(a)))


def _to_device(a) -> jax.Array:
  """An array on the default device; a read-only NumPy array may be used in place, not copied."""
  if isinstance(a, np.ndarray) and not a.flags.writeable:
    return jax.device_put(a)  # zero-copy on the CPU where its memory is aligned
  return jnp.asarray(a)


def enable_compilation_cache(path: str | None = None) -> str | None:
  """Turns on JAX's persistent compilation cache, so a second run skips compiling.

  Args:
    path: the cache folder; default `$JAXNETS_CACHE_DIR`, else `~/.cache/jaxnets/jax` (or under
      `$XDG_CACHE_HOME`). Nothing changes if a cache folder is already configured, or if
      `JAXNETS_COMPILATION_CACHE=0`.

  Returns:
    The cache folder in use, or None.
  """
  if os.environ.get("JAXNETS_COMPILATION_CACHE", "1") == "0":
    return None
  if jax.config.jax_compilation_cache_dir:
    return jax.config.jax_compilation_cache_dir
  if path is None:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = os.environ.get("JAXNETS_CACHE_DIR") or os.path.join(base, "jaxnets", "jax")
  try:
    os.makedirs(path, exist_ok=True)
  except OSError:
    return None
  jax.config.update("jax_compilation_cache_dir", path)
  jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
  return path


def check_dataset(params: Params, data: Dataset, name: str) -> None:
  """Raises ValueError naming `name` if `data` doesn't fit the network (sizes, dtypes, values)."""
  sizes = layer_sizes(params)
  x, y = data
  if np.ndim(x) != 2 or np.shape(x)[1] != sizes[0]:
    raise ValueError(
      f"{name} inputs have shape {np.shape(x)}; the network {list(sizes)} expects (n, {sizes[0]})"
    )
  if np.shape(y)[:1] != np.shape(x)[:1]:
    raise ValueError(f"{name} has {np.shape(x)[0]} inputs but {np.shape(y)[0]} labels/targets")
  if np.issubdtype(np.asarray(y).dtype, np.integer):
    if np.ndim(y) != 1:
      raise ValueError(f"{name} labels have shape {np.shape(y)}; expected (n,)")
    lo, hi = int(np.min(y)), int(np.max(y))
    if lo < 0 or hi >= sizes[-1]:
      raise ValueError(
        f"{name} labels span {lo}..{hi}; the network's {sizes[-1]} outputs "
        f"expect labels in 0..{sizes[-1] - 1}"
      )
  elif np.shape(y)[1:] != (sizes[-1],):
    raise ValueError(
      f"{name} targets have shape {np.shape(y)}; the network {list(sizes)} "
      f"expects integer labels (n,) or float targets (n, {sizes[-1]})"
    )
  if not all(_all_finite(a) for a in (x, y)):
    raise ValueError(f"{name} holds NaN or infinite values; expected finite numbers")


@functools.lru_cache(maxsize=32)
def default_optimizer(eta: float) -> optax.GradientTransformation:
  """`optax.sgd(eta)`, one object per η: `train_epoch` is compiled per optimizer object, so
  repeated `fit(eta=...)` calls reuse the compiled epoch instead of compiling it again."""
  return optax.sgd(eta)


def fit(
  params: Params,
  train: Dataset,
  *,
  epochs: int,
  batch_size: int,
  key: jax.Array,
  eta: float = 3.0,
  optimizer: optax.GradientTransformation | None = None,
  opt_state: Any = None,
  validation: Dataset | None = None,
  test: Dataset | None = None,
  start_epoch: int = 0,
  mesh: Mesh | None = None,
  on_epoch: Callable[[int, Params, Any, dict[str, float]], None] | None = None,
) -> tuple[Params, History]:
  """Trains a network by mini-batch SGD, evaluating after every epoch.

  Args:
    params: the starting network (random, or a saved one to fine-tune).
    train: the training set, `Dataset(x, y)`.
    epochs: how many epochs to run (counting from `start_epoch`).
    batch_size: the mini-batch size m.
    key: PRNG key for the shuffles; epoch e uses `epoch_order(key, e, n)`.
    eta: the learning rate η of the default optimizer `optax.sgd(eta)`.
    optimizer: any optax optimizer; default `optax.sgd(eta)`.
    opt_state: the optimizer's state to continue from (resuming); default a fresh one.
    validation: evaluated after each epoch, if given.
    test: evaluated after each epoch, if given.
    start_epoch: the index of the first epoch (resuming a run).
    mesh: a `Mesh` with a "batch" axis to train data-parallel (see `data_mesh`).
    on_epoch: called after each epoch with (epoch, params, opt_state, metrics of that epoch).

  Returns:
    (params, history): the trained network and its per-epoch metrics.

  Raises:
    ValueError: bad sizes or data; TrainingDiverged: NaN or Inf, naming the epoch.
  """
  check_params(params)
  if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
    raise ValueError(f"epochs={epochs!r}; expected an integer ≥ 0")
  n = np.shape(train.x)[0]
  if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= n:
    raise ValueError(
      f"batch_size={batch_size!r}; expected an integer from 1 to the {n} training examples"
    )
  if optimizer is None:
    if not np.isfinite(eta) or eta <= 0:
      raise ValueError(f"eta={eta!r}; expected a finite learning rate > 0")
    optimizer = default_optimizer(float(eta))
  for name, data in (("train", train), ("validation", validation), ("test", test)):
    if data is not None:
      check_dataset(params, data, name)
  if mesh is not None and batch_size % mesh.size:
    raise ValueError(
      f"batch_size={batch_size} can't be split evenly over {mesh.size} devices; "
      f"expected a multiple of {mesh.size}"
    )

  replicated = NamedSharding(mesh, PartitionSpec()) if mesh is not None else None
  put = (lambda a: jax.device_put(a, replicated)) if mesh is not None else _to_device
  params = jax.tree.map(put, params)
  if opt_state is None:
    opt_state = optimizer.init(params)
  opt_state = jax.tree.map(put, opt_state)
  x_NxI, y_N = put(train.x), put(train.y)
  evals = {k: (put(d.x), put(d.y)) for k, d in (("validation", validation), ("test", test)) if d}

  words = key_words(key)
  order_N = put(epoch_order(words, start_epoch, n))
  history = History()
  for epoch in range(start_epoch, start_epoch + epochs):
    start = time.perf_counter()
    params, opt_state, metrics = train_epoch(
      params, opt_state, x_NxI, y_N, order_N, batch_size=batch_size, optimizer=optimizer, mesh=mesh
    )
    evaluated = {k: _eval_metrics(params, x, y) for k, (x, y) in evals.items()}
    if epoch + 1 < start_epoch + epochs:  # drawn on the host while the device trains
      order_N = put(epoch_order(words, epoch + 1, n))
    metrics, evaluated = _local((metrics, evaluated))  # the epoch's one wait for the device
    if not bool(metrics["finite"]):
      raise TrainingDiverged(
        f"epoch {epoch}: the training cost is {float(metrics['train_cost'])} or the params "
        "hold NaN/Inf; the parameters from the end of the previous epoch are the last good ones "
        "(try a smaller eta)"
      )
    summary = {"train_cost": float(metrics["train_cost"])}
    for k, (cost, correct) in evaluated.items():
      summary[f"{k}_cost"] = float(cost)
      if int(correct) >= 0:
        summary[f"{k}_correct"] = int(correct)
        summary[f"{k}_accuracy"] = int(correct) / evals[k][0].shape[0]
    summary["epoch_seconds"] = time.perf_counter() - start
    history.append(summary)
    if on_epoch is not None:
      on_epoch(epoch, params, opt_state, summary)
  return params, history
