"""Training: Nielsen's `SGD`, epochs of mini-batch SGD with validation and test sets.

    for each epoch: shuffle the training data, cut it into mini-batches of m examples, take one
    gradient step on each (`sgd_step`), then evaluate on the validation and test sets.

`fit` is that loop. Each epoch is one compiled program (`train_epoch`, a `lax.scan` over its
mini-batches), so Python runs once per epoch, on CPU, GPU or TPU, and data-parallel over a mesh
of devices. The step hands the gradient of the mini-batch cost to an optax optimizer; the
default, `SGD`, is `optax.sgd` with η in its state, so one compiled epoch serves every η.
"""

import functools
from collections.abc import Callable
from typing import Any

import jax
import numpy as np
import optax
from jax.sharding import Mesh

from jaxnets._checks import (
  InputError,
  check_batch_size,
  check_dataset,
  check_inputs,
  check_int,
  check_key,
  check_order,
  check_params,
  is_population,
)
from jaxnets._engine import blocks as blocked
from jaxnets._engine import program
from jaxnets._engine.loop import Run
from jaxnets.cost import quadratic_cost
from jaxnets.data.dataset import Dataset
from jaxnets.history import History
from jaxnets.network import Params
from jaxnets.sgd import SGD

__all__ = ["epoch_order", "fit", "train_epoch"]


def key_words(key: jax.Array) -> tuple[int, ...]:
  """A PRNG key's raw words as Python ints (read from the device once), to seed `epoch_order`."""
  return tuple(int(w) for w in np.asarray(jax.random.key_data(check_key(key))).ravel())


def epoch_order(key: jax.Array | tuple[int, ...], epoch: int, n: int) -> np.ndarray:
  """The shuffle of epoch `epoch`: a random permutation of range(n), int32, a function of (key,
  epoch) alone (resuming at any epoch repeats it): NumPy's PCG64 seeded with the key's words and
  the epoch, drawn on the host as a data loader would.

  Args:
    key: a PRNG key, or its `key_words` (which avoids reading the device again).
    epoch: the epoch's index, ≥ 0.
    n: how many training examples.
  """
  words = key if isinstance(key, tuple) else key_words(key)
  epoch, n = check_int("epoch", epoch, 0), check_int("n", n, 0)
  return np.random.default_rng([*words, epoch]).permutation(n).astype(np.int32)


def train_epoch(
  params, opt_state, x, y, order, *, batch_size, optimizer=SGD, cost=quadratic_cost, mesh=None,
  blocks="auto",
) -> tuple[Params, Any, dict[str, jax.Array]]:  # fmt: skip
  """One epoch of mini-batch training, compiled whole: the steps of `jaxnets.sgd.sgd_epoch`, its
  Python loop of `sgd_step` over `minibatch_indices(order, batch_size)`, as a `lax.scan`.

  Args:
    params: the network.
    opt_state: `optimizer`'s state.
    x, y: the training inputs (N, n_in), and labels (N,) or targets (N, n_out).
    order: the epoch's order, indices into x in [0, N) (`epoch_order`, or any such as
      `jax.random.permutation(key, N)`); a shorter order trains on those examples only.
    batch_size: the mini-batch size m; a last, smaller mini-batch takes the rest.
    optimizer: an optax `GradientTransformation`; default `SGD` (η from `opt_state`).
    cost: the mini-batch cost C(params, x (B, I), y (B, O)) each step differentiates.
    mesh: a `Mesh` with one axis "batch": each mini-batch is sharded over its devices.
    blocks: "auto": with `SGD` and the quadratic cost, a network with a layer of at least
      `jaxnets._engine.blocks.MIN_LAYER_WEIGHTS` weights at a mini-batch of at most
      `BLOCK_ROWS // 2` takes the same steps in blocks (the same SGD with its sums in another
      order: within float32 rounding, faster; docs/design.md); True: in blocks wherever they
      can run; False: plain steps, bit for bit `sgd_epoch`'s.

  Returns:
    (params, opt_state, metrics): metrics["train_cost"] the mean mini-batch cost of the epoch,
    metrics["finite"] whether it and all params are finite.

  Raises:
    InputError: arguments that don't fit (labels and order checked where concrete).
  """
  x, y, order = check_epoch(params, x, y, order, batch_size, mesh)
  options = epoch_options(params, batch_size, optimizer, cost, mesh, blocks)
  return program.compiled_network_epoch(params, opt_state, x, y, order, **options)


def check_epoch(network, x, y, order, batch_size, mesh=None, order_ranks=(1,)):
  """An epoch's checks: (x, y, order) for `network` (one network's params, or shapes)."""
  sizes = check_params(network)
  x = check_inputs(network, x, "x", ranks=(2,))
  check_dataset(sizes, (x, y), "training")
  order = check_order(order, x.shape[0], ranks=order_ranks)
  check_batch_size(batch_size, x.shape[0], mesh.size if mesh is not None else 1)
  return x, y, order


def epoch_options(params, batch_size, optimizer, cost, mesh, blocks, *, members=None, shared=False):
  """The compiled epoch's static arguments, with `blocks` decided (`jaxnets._engine.blocks`)."""
  if mesh is not None and tuple(mesh.axis_names) != ("batch",):
    raise InputError(
      f"mesh has axes {tuple(mesh.axis_names)}; expected one axis named 'batch', e.g. "
      "jax.sharding.Mesh(jax.devices(), ('batch',))"
    )
  use = blocked.choose(
    blocks, optimizer=optimizer, cost=cost, batch_size=batch_size, params=params, mesh=mesh,
    members=members, shared=shared,
  )  # fmt: skip
  options = {"batch_size": batch_size, "optimizer": optimizer, "cost": cost, "blocks": use}
  return options if members is not None else {**options, "mesh": mesh}


def fit(
  params: Params,
  train: Dataset | tuple,
  *,
  epochs: int,
  batch_size: int,
  key: jax.Array,
  eta: float | None = None,
  optimizer: optax.GradientTransformation | None = None,
  opt_state: Any = None,
  validation: Dataset | tuple | None = None,
  test: Dataset | tuple | None = None,
  start_epoch: int = 0,
  mesh: Mesh | None = None,
  cost: Callable = quadratic_cost,
  blocks: bool | str = "auto",
  history: History | None = None,
  on_epoch: Callable | None = None,
  steps_per_call: int | None = None,
  train_accuracy: bool = False,
) -> tuple[Params, History]:
  """Trains a network by mini-batch SGD, evaluating after every epoch.

  Args:
    params: the starting network (random, or a saved one to fine-tune).
    train: the training set, a `Dataset(x, y)` or a pair (x, y).
    epochs: how many epochs to run (counting from `start_epoch`).
    batch_size: the mini-batch size m.
    key: the PRNG key of the shuffles: epoch e takes `epoch_order(key, e, n)`.
    eta: the learning rate η, set in the optimizer's state (`with_learning_rate`); default 3.0
      for the default optimizer, else the optimizer's own.
    optimizer: an optax optimizer; default `SGD`.
    opt_state: the optimizer's state to continue from (resuming); default a fresh one.
    validation, test: evaluated after each epoch where given.
    train_accuracy: also evaluate the whole training set's accuracy after each epoch (a
      forward pass over it: on the book's run about a fifth of an epoch's time more).
    start_epoch: the index of the first epoch (resuming a run).
    mesh: a `Mesh` with one axis "batch": data-parallel training over its devices.
    cost: the mini-batch cost each step differentiates; default `quadratic_cost`.
    blocks: whether epochs run in blocks of steps: "auto", True or False (see `train_epoch`).
    history: a prior run's metrics, extended in place by this run's epochs and returned.
    on_epoch: called after each epoch with (epoch, params, opt_state, that epoch's metrics). If
      it has them, `begin(start_epoch, end_epoch, history, settings)` is called once every
      argument has been checked (`settings`: what the run is, JSON-ready: sizes, dtype, epochs,
      batch_size, eta, the sets' sizes), `within(epoch, examples done, n)` after each call of a
      long epoch, and `wait(arrays)` instead of `jax.block_until_ready`
      (`jaxnets.runs.Recorder` has all three).
    steps_per_call: None: an epoch is one compiled call; k: calls of about k mini-batches, the
      same steps in the same order (for progress within a long epoch).

  Returns:
    (params, history): the trained network and the per-epoch metrics.

  Raises:
    InputError: bad sizes, data, key, batch size or η (a population's params: use
      `jaxnets.fit_population`); TrainingDiverged: NaN or Inf, naming the epoch.
  """
  if is_population(params):
    check_params(params)  # says: a population, use fit_population
  key = check_key(key)
  run = Run.setup(
    params, train, validation, test, epochs, batch_size, eta, optimizer, opt_state, start_epoch,
    mesh, steps_per_call, on_epoch, init=lambda o, p: o.init(p), train_accuracy=train_accuracy,
  )  # fmt: skip
  options = epoch_options(params, batch_size, run.optimizer, cost, mesh, blocks)
  words, n = key_words(key), len(run.train.x)
  return run.loop(
    params,
    epoch=functools.partial(program.compiled_network_epoch, **options),
    evaluate=program.evaluate_set,
    order=lambda epoch: epoch_order(words, epoch, n),
    history=History() if history is None else history,
  )
