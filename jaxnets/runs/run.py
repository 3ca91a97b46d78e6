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

from jaxnets._checks import InputError
from jaxnets._memory import check_memory
from jaxnets.data import Dataset, Splits, load_dataset
from jaxnets.network import Params, init_params, layer_sizes
from jaxnets.runs.checkpoint import CheckpointError, WriteError, load_checkpoint, load_params
from jaxnets.runs.config import ConfigError, TrainConfig
from jaxnets.runs.lock import LOCK_FILE, lock_run
from jaxnets.runs.recorder import CHECKPOINT, RUN_FILES, Recorder, RunWriteFailed
from jaxnets.runs.signals import Aborted
from jaxnets.train import History, TrainingDiverged, data_mesh, fit


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
  ckpt = load_checkpoint(os.path.join(out, CHECKPOINT))
  try:
    return TrainConfig.from_dict(ckpt.config)
  except ConfigError as e:
    raise CheckpointError(f"checkpoint in {out!r} holds an invalid config: {e}") from e


def initial_params(config: TrainConfig, key: jax.Array) -> Params:
  """Random parameters, or `config.init_from`'s network (with a new output layer if asked).

  Transfer learning: when the saved network's last size differs from `config.sizes[-1]`, or
  `reinit_output` is set, its hidden layers are kept and the output layer is drawn afresh.
  """
  if config.init_from is None:
    return init_params(key, config.sizes, config.init)
  params = load_params(config.init_from)
  saved = layer_sizes(params)
  want = tuple(config.sizes)
  if saved == want and not config.reinit_output:
    return params
  if saved[:-1] == want[:-1]:
    return params[:-1] + init_params(key, want[-2:], config.init)
  raise CheckpointError(
    f"--init-from {config.init_from!r} holds a network of sizes {list(saved)} but the run has "
    f"sizes {list(want)}; expected the same sizes, or the same up to the output layer "
    "(transfer learning)"
  )


def resume_state(config: TrainConfig, out: str, optimizer, init_key: jax.Array):
  """(params, opt_state, epochs done, history) from `out`'s checkpoint."""
  sizes = config.sizes
  like = jax.eval_shape(lambda: optimizer.init(init_params(init_key, sizes, config.init)))
  ckpt = load_checkpoint(os.path.join(out, CHECKPOINT), like)
  if tuple(ckpt.config["sizes"]) != sizes or layer_sizes(ckpt.params) != sizes:
    raise CheckpointError(
      f"checkpoint in {out!r} has sizes {list(layer_sizes(ckpt.params))} "
      f"but the run has sizes {list(sizes)}"
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
  with claimed(out, force, resume):
    splits = load_splits(config)
    mesh = data_mesh() if config.data_parallel else None
    check_run_memory(config, splits)  # before any array of the network exists
    init_key, shuffle_key = jax.random.split(jax.random.key(config.seed))
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
      title=f"{list(config.sizes)}, η = {config.eta}, mini-batch {config.batch_size}, "
      f"seed {config.seed}",
      n_test=len(splits.test.x),
      clear=force and not resume,
    )
    with recorder:
      try:
        params, history = fit(
          params,
          splits.train,
          epochs=config.epochs - done,
          batch_size=config.batch_size,
          key=shuffle_key,
          eta=None if resume else config.eta,
          optimizer=optimizer,
          opt_state=opt_state,
          validation=splits.validation,
          test=splits.test,
          start_epoch=done,
          mesh=mesh,
          history=history,
          on_epoch=recorder,
        )
        recorder.finish(params, started)
      except TrainingDiverged as e:
        raise recorder.diverged(e) from e
      except Aborted as e:
        raise recorder.aborted(e) from None
      except WriteError as e:
        raise RunWriteFailed(recorder.write_failed(e)) from None
  return params, history


def check_run_memory(config: TrainConfig, splits: Splits) -> None:
  """`check_memory` for the run: its network, mini-batch, optimizer, evaluation and data."""
  device = jax.devices()[0]
  data = sum(a.nbytes for d in splits for a in d) if device.platform != "cpu" else 0
  check_memory(
    config.sizes,
    config.batch_size,
    optimizer_slots={"sgd": 0, "momentum": 1, "adam": 2}[config.optimizer],
    eval_examples=max(len(splits.validation.x), len(splits.test.x)),
    data_bytes=data,
    device=device,
  )


def header(config: TrainConfig, splits: Splits, mesh, done: int) -> str:
  """The run's first line: what is trained, on what, where."""
  return (
    f"jaxnets: {list(config.sizes)}, eta {config.eta}, mini-batch {config.batch_size}, "
    f"{config.epochs} epochs, seed {config.seed}, {config.optimizer}, {len(splits.train.x)} "
    f"training examples, on {jax.devices()[0].platform} ({mesh.size if mesh else 1} device(s))"
    + (f"; resuming after epoch {done - 1}" if done else "")
  )
