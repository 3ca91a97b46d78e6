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
from collections.abc import Iterator

import jax
import jax.numpy as jnp

from jaxnets._checks import InputError, TrainingDiverged, network_or_population
from jaxnets._memory import check_memory
from jaxnets.data import Dataset, Splits, load_dataset
from jaxnets.network import Layer, Params, init_params
from jaxnets.population import eval_members, fit_population, init_population
from jaxnets.runs.checkpoint import CheckpointError, WriteError, load_checkpoint, load_params
from jaxnets.runs.config import ConfigError, TrainConfig
from jaxnets.runs.lock import LOCK_FILE, lock_run
from jaxnets.runs.recorder import CHECKPOINT, RUN_FILES, Recorder, RunWriteFailed
from jaxnets.runs.signals import Aborted
from jaxnets.train import History, data_mesh, fit


class RunError(InputError):
  """A run that can't start as asked (its data, its output folder): one line, exit status 2."""


def load_splits(config: TrainConfig) -> Splits:
  """The dataset a config names, cut to `config.train_size` training examples if set."""
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


def check_out(out: str | None, force: bool, resume: bool) -> None:
  """Refuses an `out` that is a file, or holds an earlier run unless `force` or `resume`."""
  if out is None:
    if resume:
      raise RunError("--resume needs --out, the folder of the run to continue")
    return
  if os.path.exists(out) and not os.path.isdir(out):
    raise RunError(f"--out {out!r} is a file; expected a folder (new or empty)")
  if resume:
    if not os.path.exists(os.path.join(out, CHECKPOINT)):
      raise RunError(f"--resume: {out!r} holds no {CHECKPOINT} to continue from")
    return
  earlier = [f for f in RUN_FILES if os.path.exists(os.path.join(out, f))]
  if earlier and not force:
    raise RunError(
      f"--out {out!r} holds an earlier run ({', '.join(earlier)}); pass --resume to continue "
      "it, --force to overwrite it, or choose another folder"
    )


@contextlib.contextmanager
def claimed(out: str | None, force: bool, resume: bool) -> Iterator[None]:
  """Holds the run's folder for the whole run: created if missing, locked against every other
  run (`lock_run`), then checked (`check_out`). If the run fails before writing anything, a
  folder it created is removed again, so bad input leaves nothing behind."""
  if out is None or (os.path.exists(out) and not os.path.isdir(out)):
    check_out(out, force, resume)
    yield
    return
  created = not os.path.exists(out)
  os.makedirs(out, exist_ok=True)
  lock = lock_run(out)
  try:
    check_out(out, force, resume)
    yield
  except BaseException:
    if created and os.listdir(out) == [LOCK_FILE]:
      os.remove(os.path.join(out, LOCK_FILE))
      os.rmdir(out)
    raise
  finally:
    lock.release()


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


def resume_state(config: TrainConfig, out: str, optimizer, init_key: jax.Array):
  """(params, opt_state, epochs done, history) from `out`'s checkpoint."""
  sizes = config.sizes
  init = jax.vmap(optimizer.init) if init_key.ndim else optimizer.init
  like = jax.eval_shape(lambda: init(fresh_params(config, init_key, sizes)))
  ckpt = load_checkpoint(os.path.join(out, CHECKPOINT), like)
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
  return ckpt.params, ckpt.opt_state, ckpt.epoch, History.from_dict(ckpt.history)


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
  with x64, claimed(out, force, resume):
    splits = load_splits(config)
    mesh = data_mesh() if config.data_parallel else None
    check_run_memory(config, splits)  # before any array of the network exists
    init_key, shuffle_key = member_keys(config)
    optimizer = config.make_optimizer()
    if resume:
      assert out is not None  # check_out refused --resume without --out
      params, opt_state, done, history = resume_state(config, out, optimizer, init_key)
    else:
      params, opt_state, done, history = initial_params(config, init_key), None, 0, History()
    recorder = Recorder(
      out,
      key=shuffle_key,
      epochs=config.epochs,
      config=config.to_dict(),
      history=history,
      checkpoint_every=config.checkpoint_every,
      progress=progress,
      header=header(config, splits, mesh, done),
      title=title(config),
      n_test=len(splits.test.x),
      clear=force and not resume,
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
    )
    with recorder:
      try:
        if config.is_population:
          etas = [eta for _, eta in config.members]
          params, history = fit_population(params, splits.train, eta=None if resume else etas, **kw)
        else:
          eta = None if resume else config.eta
          params, history = fit(params, splits.train, eta=eta, mesh=mesh, **kw)
        recorder.finish(params, started)
      except TrainingDiverged as e:
        raise recorder.diverged(e) from e
      except Aborted as e:
        raise recorder.aborted(e) from None
      except WriteError as e:
        raise RunWriteFailed(recorder.write_failed(e)) from None
  return params, history


def check_run_memory(config: TrainConfig, splits: Splits) -> None:
  """`check_memory` for the run: its networks, mini-batch, optimizer, evaluation and data."""
  device = jax.devices()[0]
  data = sum(a.nbytes for d in splits for a in d) if device.platform != "cpu" else 0
  members = len(config.members)
  n_eval = max(len(splits.validation.x), len(splits.test.x))
  check_memory(
    config.sizes,
    config.batch_size,
    dtype=config.dtype,
    optimizer_slots={"sgd": 0, "momentum": 1, "adam": 2}[config.optimizer],
    members=members,
    eval_examples=n_eval,
    eval_members=eval_members(members, n_eval, config.sizes) if config.is_population else 1,
    data_bytes=data,
    device=device,
  )


def span(values) -> str:
  """ "0–15" for a range of consecutive integers, else "0, 3, 7"."""
  values = list(values)
  consecutive = len(values) > 2 and values == list(range(values[0], values[0] + len(values)))
  return f"{values[0]}–{values[-1]}" if consecutive else ", ".join(map(str, values))


def what(config: TrainConfig) -> str:
  """The network(s) a run trains: "[784, 30, 10], eta 3.0, seed 0", or its population's."""
  if not config.is_population:
    return f"{list(config.sizes)}, eta {config.eta}, seed {config.seed}"
  seeds, etas = config.seeds or (config.seed,), config.etas or (config.eta,)
  shuffle = "one shared shuffle" if config.shared_shuffle else "a shuffle per member"
  return (
    f"a population of {len(config.members)} networks {list(config.sizes)} (seeds {span(seeds)} "
    f"× eta {span(etas)}; {shuffle})"
  )


def title(config: TrainConfig) -> str:
  """The curves' title."""
  if not config.is_population:
    return (
      f"{list(config.sizes)}, η = {config.eta}, mini-batch {config.batch_size}, seed {config.seed}"
    )
  seeds, etas = config.seeds or (config.seed,), config.etas or (config.eta,)
  return (
    f"{list(config.sizes)}, {len(config.members)} networks (seeds {span(seeds)}, "
    f"η {span(etas)}), mini-batch {config.batch_size}"
  )


def header(config: TrainConfig, splits: Splits, mesh, done: int) -> str:
  """The run's first line: what is trained, on what, where."""
  return (
    f"jaxnets: {what(config)}, mini-batch {config.batch_size}, {config.epochs} epochs, "
    f"{config.optimizer}, {config.dtype}, {len(splits.train.x)} training examples, "
    f"on {jax.devices()[0].platform} ({mesh.size if mesh else 1} device(s))"
    + (f"; resuming after epoch {done - 1}" if done else "")
  )
