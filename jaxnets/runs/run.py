"""A training run from a `TrainConfig`: its data, its starting network, `fit`, and its folder.

The driver, `train`, checks the run's folder, loads the data, builds or resumes the network and
hands everything to `fit` with a `Recorder` as `on_epoch`, which writes the folder's files (see
`jaxnets.runs.recorder`). `fit` checks every argument before its first epoch, and the folder is
written only after that, so bad input writes nothing. `resume=True` continues a checkpointed run
to exactly the parameters an uninterrupted run ends with.
"""

import contextlib
import os
import time

import jax
import jax.numpy as jnp

from jaxnets._checks import TrainingDiverged, network_or_population
from jaxnets._engine.memory import epoch_flops
from jaxnets.data import Dataset, Splits, load_dataset
from jaxnets.history import History, PopulationHistory
from jaxnets.network import Layer, Params, init_params
from jaxnets.population import eval_members, fit_population, init_population
from jaxnets.runs.checkpoint import CheckpointError, WriteError, load_checkpoint, load_params
from jaxnets.runs.config import ConfigError, TrainConfig
from jaxnets.runs.distributed import DistributedError, run_mesh, share_state
from jaxnets.runs.folder import CHECKPOINT, RunError, claimed
from jaxnets.runs.memory import check_memory
from jaxnets.runs.recorder import Recorder, RunWriteFailed
from jaxnets.runs.signals import Aborted
from jaxnets.runs.text import header, title
from jaxnets.train import fit

SECONDS_PER_CALL = 1.0
"""About how long one compiled call of a long epoch runs, so that progress and a signal are seen
within it: an epoch expected to take under twice this is one call."""

GUESSED_FLOPS = {"cpu": 10e9, "gpu": 1e12, "tpu": 1e12}
"""Training speed (FLOP/s) a device kind is guessed to reach at least: a long epoch's calls are
planned from it (`steps_per_call`), from what the machine is, never from a timing."""


def load_splits(config: TrainConfig) -> Splits:
  """The dataset a config names, cut to `config.train_size` training examples if set. A file's
  labels are checked against the network's outputs, naming the line and column of a bad one."""
  if config.is_file:
    splits = load_dataset(
      config.dataset, label_column=config.label_column, targets=config.targets,
      scale=config.scale, n_out=config.sizes[-1],
    )  # fmt: skip
  else:
    splits = load_dataset(config.dataset, data_dir=config.data_dir)
  if config.train_size is not None:
    n = len(splits.train.x)
    if config.train_size > n:
      raise RunError(
        f"train_size {config.train_size} is larger than the {n} training examples "
        f"of {config.dataset}"
      )
    splits = splits._replace(train=Dataset(*(a[: config.train_size] for a in splits.train)))
  if config.dtype != "float32":  # inputs in the network's dtype
    splits = Splits(*(Dataset(d.x.astype(config.dtype), d.y) for d in splits))
  return splits


def resume_config(out: str) -> TrainConfig:
  """The config saved in `out`'s checkpoint."""
  with jax.enable_x64(True):  # a float64 run's arrays, read as they are (then dropped)
    ckpt = load_checkpoint(os.path.join(out, CHECKPOINT))
  try:
    return TrainConfig.from_dict(ckpt.config)
  except ConfigError as e:
    raise CheckpointError(f"checkpoint in {out!r} holds an invalid config: {e}") from e


def member_keys(config: TrainConfig) -> tuple[jax.Array, jax.Array]:
  """(init key, shuffle key) of the run: `jax.random.key(seed)` split in two. For a population,
  the init keys (M,) and the shuffle keys (M,) of its members, member k keyed as the single run
  with its seed; with `shared_shuffle`, the first member's shuffle key alone (shape ())."""
  if not config.is_population:
    init_key, shuffle_key = jax.random.split(jax.random.key(config.seed))
    return init_key, shuffle_key
  return population_keys([seed for seed, _ in config.members], config.shared_shuffle)


def population_keys(seeds, shared: bool = False) -> tuple[jax.Array, jax.Array]:
  """(init keys (M,), shuffle keys) of one member per seed, each keyed as the single run with that
  seed; the shuffle keys are (M,), or with `shared` the first member's alone (shape ())."""
  keys = jnp.stack([jax.random.split(jax.random.key(seed)) for seed in seeds])
  return keys[:, 0], keys[0, 1] if shared else keys[:, 1]


def fresh_params(config: TrainConfig, key: jax.Array, sizes) -> Params:
  """Random parameters of `sizes`: one network for one key, a population for (M,) keys."""
  if key.ndim:
    return init_population(key, sizes, config.init, dtype=config.dtype)
  return init_params(key, sizes, config.init, dtype=config.dtype)


def initial_params(config: TrainConfig, key: jax.Array) -> Params:
  """Random parameters, or `config.init_from`'s network (with a new output layer if asked); for a
  population, `key` holds one init key per member.

  Transfer learning: when the saved network's last size differs from `config.sizes[-1]`, or
  `reinit_output` is set, its hidden layers are kept and the output layer is drawn afresh. A
  population starts every member from the saved network, or from the saved population's
  members if it has as many.
  """
  if config.init_from is None:
    return fresh_params(config, key, config.sizes)
  params = load_params(config.init_from, dtype=config.dtype)
  saved_members, saved = network_or_population(params)
  members = len(config.members) if config.is_population else None
  if saved_members != members:
    if saved_members is not None:
      raise CheckpointError(
        f"--init-from {config.init_from!r} holds a population of {saved_members} networks but "
        + (f"the run trains {members}" if members else "the run trains one network")
        + "; expected one network, or a population of as many members"
      )
    assert members is not None
    params = [Layer(*(jnp.stack([a] * members) for a in layer)) for layer in params]
  want = tuple(config.sizes)
  if saved == want and not config.reinit_output:
    return params
  if saved[:-1] == want[:-1]:
    return params[:-1] + fresh_params(config, key, want[-2:])
  raise CheckpointError(
    f"--init-from {config.init_from!r} holds a network of sizes {list(saved)} but the run has "
    f"sizes {list(want)}; expected the same sizes, or the same up to the output layer "
    "(transfer learning)"
  )


def resume_state(config: TrainConfig, out: str | None, optimizer, init_key: jax.Array):
  """(params, opt_state, epochs done, history) from `out`'s checkpoint; over several processes,
  process 0's (only process 0 reads the run's folder)."""
  sizes = config.sizes
  init = jax.vmap(optimizer.init) if init_key.ndim else optimizer.init
  like = jax.eval_shape(lambda: (p := fresh_params(config, init_key, sizes), init(p)))
  kind = PopulationHistory if config.is_population else History
  if out is None:  # not process 0: its state comes from there
    params, opt_state, done, history = share_state(None, like)
    return params, opt_state, done, kind.from_dict(history)
  ckpt = load_checkpoint(os.path.join(out, CHECKPOINT), like[1])
  _, saved = network_or_population(ckpt.params)
  if tuple(ckpt.config["sizes"]) != sizes or saved != sizes:
    raise CheckpointError(
      f"checkpoint in {out!r} has sizes {list(saved)} but the run has sizes {list(sizes)}"
    )
  if ckpt.epoch >= config.epochs:
    raise RunError(
      f"--resume: the run in {out!r} has already done {ckpt.epoch} of {config.epochs} "
      f"epochs; pass --epochs N with N > {ckpt.epoch} to train further"
    )
  params, opt_state, done, history = share_state(
    (ckpt.params, ckpt.opt_state, ckpt.epoch, ckpt.history), like
  )
  return params, opt_state, done, kind.from_dict(history)


def train(
  config: TrainConfig,
  out: str | None = None,
  *,
  force: bool = False,
  resume: bool = False,
  progress: str = "auto",
) -> tuple[Params, History]:
  """Runs `config`: checks everything first, then trains, checkpoints and writes its files.

  Args:
    config: the run.
    out: folder for the run's files (None: write nothing).
    force: overwrite an earlier run in `out`.
    resume: continue the run checkpointed in `out` up to `config.epochs`.
    progress: "auto" (a bar on a terminal, else lines), "bar", "lines" or "quiet".

  Returns:
    (params, history) of the whole run, resumed epochs included.
  """
  started = time.perf_counter()
  # float64, the book's NumPy arithmetic, needs JAX's x64 mode: on for this run only
  x64 = jax.enable_x64(True) if config.dtype == "float64" else contextlib.nullcontext()
  leader = jax.process_index() == 0  # over several processes, only process 0 writes files
  folder = claimed(out, force, resume) if leader else contextlib.nullcontext()
  with x64, folder:
    splits = load_splits(config)
    mesh = run_mesh(config.is_population, config.data_parallel)
    check_run_memory(config, splits, mesh)  # before any array of the network exists
    init_key, shuffle_key = member_keys(config)
    optimizer = config.make_optimizer()
    if resume:
      assert out is not None or not leader  # check_out refused --resume without --out
      source = out if leader else None
      params, opt_state, done, history = resume_state(config, source, optimizer, init_key)
    else:
      history = PopulationHistory() if config.is_population else History()
      params, opt_state, done = initial_params(config, init_key), None, 0
    recorder = Recorder(
      out if leader else None,
      key=shuffle_key,
      config=config.to_dict(),
      checkpoint_every=config.checkpoint_every,
      progress=progress if leader else "quiet",
      header=header(config, splits, mesh, done),
      title=title(config),
      replace=force,
      resume=resume,
      members=[{"seed": s, "eta": e} for s, e in config.members] if config.is_population else None,
    )
    kw = dict(
      epochs=config.epochs - done,
      batch_size=config.batch_size,
      key=shuffle_key,
      optimizer=optimizer,
      opt_state=opt_state,
      validation=splits.validation,
      test=splits.test,
      start_epoch=done,
      history=history,
      on_epoch=recorder,
      steps_per_call=steps_per_call(config, len(splits.train.x)),
      train_accuracy=config.train_accuracy,
    )
    with recorder:
      try:
        if config.is_population:
          etas = None if resume else [eta for _, eta in config.members]
          params, history = fit_population(params, splits.train, eta=etas, mesh=mesh, **kw)
        else:
          eta = None if resume else config.eta
          params, history = fit(params, splits.train, eta=eta, mesh=mesh, **kw)
        recorder.finish(params, started, test=splits.test)
      except TrainingDiverged as e:
        raise recorder.diverged(e) from e
      except Aborted as e:
        raise recorder.aborted(e) from None
      except WriteError as e:
        raise RunWriteFailed(recorder.write_failed(e)) from None
      except jax.errors.JaxRuntimeError as e:
        if jax.process_count() == 1:
          raise
        raise DistributedError(lost_process(e, recorder.kept())) from None
  return params, history


def lost_process(error: Exception, kept: str) -> str:
  """One line for a collective that failed because another process of the run went away."""
  reason = str(error).splitlines()[0].split("] ")[-1][:120]
  where = f"process {jax.process_index()} of {jax.process_count()}"
  return (
    f"{where}: another process of the run stopped ({reason}); the run cannot go on without it"
    + (f"; {kept}" if kept else "")
  )


def steps_per_call(config: TrainConfig, n: int) -> int | None:
  """Mini-batches per compiled call for an epoch expected (from its FLOPs and the device kind's
  `GUESSED_FLOPS`) to take about `SECONDS_PER_CALL` seconds; None for an epoch of one call."""
  steps = -(-n // config.batch_size)
  flops = len(config.members) * epoch_flops(config.sizes, n, config.batch_size)
  seconds = flops / GUESSED_FLOPS.get(jax.devices()[0].platform, GUESSED_FLOPS["cpu"])
  if seconds < 2 * SECONDS_PER_CALL:
    return None
  return max(1, int(steps * SECONDS_PER_CALL / seconds))


def check_run_memory(config: TrainConfig, splits: Splits, mesh=None) -> None:
  """`check_memory` for the run, per device: its networks (a population's share of them over a
  mesh), mini-batch (its share, data-parallel), optimizer, evaluation and data."""
  device = jax.devices()[0]
  data = sum(a.nbytes for d in splits for a in d) if device.platform != "cpu" else 0
  devices = mesh.size if mesh is not None else 1
  members = -(-len(config.members) // devices)
  n_eval = max(len(splits.validation.x), len(splits.test.x))
  check_memory(
    config.sizes,
    max(1, config.batch_size // (1 if config.is_population else devices)),
    dtype=config.dtype,
    optimizer_slots={"sgd": 0, "momentum": 1, "adam": 2}[config.optimizer],
    members=members,
    eval_examples=n_eval,
    eval_members=eval_members(members, n_eval, config.sizes) if config.is_population else 1,
    data_bytes=data,
    device=device,
  )
