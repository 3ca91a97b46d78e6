"""Command line: `python -m jaxnets train ...` (thin: flags → `TrainConfig` → `jaxnets.run`).

A run's config is the book's defaults, overridden by `--config FILE` (JSON or TOML), overridden by
the flags given. `--resume` takes the config saved in `--out`'s checkpoint; of the flags only
`--epochs` (to train further) may differ from it. Every bad input is one line on stderr and exit
status 2; nothing is written before all the input has been checked.
"""

import argparse
import gc
import os
import sys

from jaxnets.runs.config import ConfigError, TrainConfig, load_config_file

# Flags that map one-to-one onto TrainConfig fields.
CONFIG_FLAGS = (
  "sizes",
  "epochs",
  "batch_size",
  "eta",
  "seed",
  "init",
  "optimizer",
  "dataset",
  "data_dir",
  "train_size",
  "checkpoint_every",
  "init_from",
  "reinit_output",
  "data_parallel",
  "seeds",
  "etas",
  "shared_shuffle",
  "dtype",
)


class OneLineParser(argparse.ArgumentParser):
  """argparse that reports a bad flag as one line and exit status 2."""

  def error(self, message):
    self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def seed_list(text: str) -> list[int]:
  """A --seeds value: "7", or a range "0-15" (both ends included)."""
  first, dash, last = text.partition("-")
  try:
    seeds = list(range(int(first), int(last) + 1)) if dash else [int(text)]
  except ValueError:
    raise argparse.ArgumentTypeError(
      f"{text!r} is not a seed or a seed range such as 0-15"
    ) from None
  if not seeds:
    raise argparse.ArgumentTypeError(
      f"{text!r} is an empty range; expected FIRST-LAST, FIRST ≤ LAST"
    )
  return seeds


def _train_parser(sub) -> None:
  d = TrainConfig()
  p = sub.add_parser(
    "train",
    help="train a network by mini-batch SGD (the book's run by default)",
    argument_default=argparse.SUPPRESS,
  )
  p.add_argument("--config", help="a .json or .toml file of config values (flags override it)")
  p.add_argument(
    "--sizes",
    type=int,
    nargs="+",
    help=f"neurons per layer, input first (default: {' '.join(map(str, d.sizes))})",
  )
  p.add_argument("--epochs", type=int, help=f"epochs in all (default: {d.epochs})")
  p.add_argument("--batch-size", type=int, help=f"mini-batch size (default: {d.batch_size})")
  p.add_argument(
    "--eta",
    type=float,
    nargs="+",
    help=f"learning rate η (default: {d.eta}); several values train a population, one member "
    "per η (and per seed of --seeds)",
  )
  p.add_argument("--seed", type=int, help=f"seeds init and shuffles (default: {d.seed})")
  p.add_argument(
    "--seeds",
    type=seed_list,
    nargs="+",
    help="train a population at once, one member per seed: 0-15, or 0 3 7",
  )
  p.add_argument(
    "--shared-shuffle",
    action="store_true",
    help="a population's members share one shuffle (faster; rounding differs from single runs)",
  )
  p.add_argument(
    "--dtype", choices=["float32", "float64"], help="float32 (default) or float64 (the book's)"
  )
  p.add_argument("--init", help="normal: weights N(0, 1) as the book; scaled: N(0, 1)/√n_in")
  p.add_argument("--optimizer", help="sgd (default, the book's), momentum or adam")
  p.add_argument(
    "--dataset",
    help="mnist (default, bundled), idx:PATH (a folder of IDX files), or a TFDS name such as "
    "fashion_mnist",
  )
  p.add_argument(
    "--data-dir",
    help="where TFDS datasets are looked for (default: $TFDS_DATA_DIR, else ~/tensorflow_datasets)",
  )
  p.add_argument("--train-size", type=int, help="use only the first N training examples")
  p.add_argument("--checkpoint-every", type=int, help="save a checkpoint every N epochs (1)")
  p.add_argument("--init-from", help="start from a saved network (params.npz or checkpoint.npz)")
  p.add_argument(
    "--reinit-output",
    action="store_true",
    help="with --init-from: keep the hidden layers, draw a new output layer",
  )
  p.add_argument(
    "--data-parallel", action="store_true", help="shard every mini-batch over all visible devices"
  )
  p.add_argument("--out", help="folder for the run's checkpoint, metrics, curves and params")
  p.add_argument("--resume", action="store_true", help="continue the run checkpointed in --out")
  p.add_argument("--force", action="store_true", help="overwrite an earlier run in --out")
  p.add_argument("--quiet", action="store_true", help="print nothing but errors")


def _bench_parser(sub) -> None:
  from jaxnets.bench.args import add_arguments  # no JAX

  p = sub.add_parser(
    "bench", help="seconds per epoch: jaxnets vs NumPy and PyTorch; populations; tables"
  )
  add_arguments(p)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
  parser = OneLineParser(
    prog="python -m jaxnets",
    description=__doc__,
    formatter_class=argparse.RawDescriptionHelpFormatter,
  )
  sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
  _train_parser(sub)
  _bench_parser(sub)
  return parser.parse_args(argv)


def train_config(args: argparse.Namespace) -> TrainConfig:
  """The run's config: defaults ← --config file ← flags; or the checkpoint's with --resume."""
  flags = {k: getattr(args, k) for k in CONFIG_FLAGS if hasattr(args, k)}
  if "seeds" in flags:  # --seeds 0-3 8 → [[0, 1, 2, 3], [8]] → (0, 1, 2, 3, 8)
    flags["seeds"] = tuple(s for group in flags["seeds"] for s in group)
  if "eta" in flags:  # one η: a single run's; several: a population's
    etas = flags.pop("eta")
    flags.update({"eta": etas[0]} if len(etas) == 1 else {"etas": tuple(etas)})
  if getattr(args, "resume", False):
    from jaxnets.runs import folder, lock, run

    if not hasattr(args, "out"):
      raise ConfigError("--resume needs --out, the folder of the run to continue")
    if os.path.isdir(args.out):
      lock.lock_run(args.out).release()  # a run in progress there: say so, before reading it
    folder.check_out(args.out, force=False, resume=True)
    saved = run.resume_config(args.out)
    conflicts = [
      f"--{k.replace('_', '-')} {v!r} (the run has {getattr(saved, k)!r})"
      for k, v in flags.items()
      if k != "epochs" and _differs(v, getattr(saved, k))
    ]
    if conflicts or hasattr(args, "config"):
      raise ConfigError(
        "--resume continues the run as it was configured; these differ: "
        + ", ".join(conflicts or ["--config"])
      )
    return saved.replace(**{k: v for k, v in flags.items() if k == "epochs"})
  base = load_config_file(args.config) if hasattr(args, "config") else TrainConfig()
  return base.replace(**flags)


def _differs(flag_value, saved_value) -> bool:
  if isinstance(saved_value, tuple):
    return tuple(flag_value) != saved_value
  return flag_value != saved_value


def _train(args: argparse.Namespace) -> int:
  config = train_config(args)
  from jaxnets.runs import run  # imports jax: only once the flags are known to be well-formed
  from jaxnets.runs.cache import enable_compilation_cache

  enable_compilation_cache()  # a second run skips compiling (~1 s)

  run.train(
    config,
    out=getattr(args, "out", None),
    force=getattr(args, "force", False),
    resume=getattr(args, "resume", False),
    progress="quiet" if getattr(args, "quiet", False) else "auto",
  )
  return 0


def _bench(args: argparse.Namespace) -> int:
  from jaxnets.bench import args as bench_args
  from jaxnets.bench import bench  # imports jax

  bench.main(bench_args.options(args), out=args.out)
  return 0


def main(argv: list[str] | None = None, *, hard_exit: bool = False) -> int:
  """Runs the command line; returns the exit status.

  Args:
    argv: the arguments (default `sys.argv[1:]`).
    hard_exit: after a second SIGINT or SIGTERM, end the process at once (`os._exit`) rather
      than wait for the device to finish the epoch that was abandoned (the command line's way).
  """
  try:
    args = parse_args(argv)
  except SystemExit as e:  # a bad flag (one line printed, status 2), or --help (status 0)
    return e.code if isinstance(e.code, int) else 0
  from jaxnets._checks import InputError
  from jaxnets.runs.recorder import RunDiverged, RunInterrupted, RunWriteFailed

  try:
    return {"train": _train, "bench": _bench}[args.command](args)
  except InputError as e:  # every bad argument, config, file or dataset: the library's words
    print(f"error: {e}", file=sys.stderr)
    return 2
  except (RunDiverged, RunWriteFailed) as e:
    print(f"error: {e}", file=sys.stderr)
    return 1
  except RunInterrupted as e:
    print(str(e), file=sys.stderr)
    if e.at_once and hard_exit:  # the device may still run the lost epoch: don't wait for it
      sys.stdout.flush()
      sys.stderr.flush()
      os._exit(128 + e.signum)
    return 128 + e.signum
  except KeyboardInterrupt:
    print("interrupted outside training; every file already written is complete", file=sys.stderr)
    return 130


def entry_point() -> None:
  """`python -m jaxnets` and the `jaxnets` script."""
  status = main(hard_exit=True)
  gc.freeze()  # the interpreter's exit then skips a collection over JAX's objects
  sys.exit(status)


if __name__ == "__main__":
  entry_point()
