"""The train command's flags (`python -m jaxnets train ...`) and the `TrainConfig` they give.

Each flag is a `TrainConfig` field (`CONFIG_FLAGS`), named in the book's words where it has them
(`--batch-size` is `mini_batch_size`, m; `--eta` is η); `SYNONYMS` lists the other names a
learner may try, which the command line answers with the flag they mean.
"""

import argparse
import os

from jaxnets.runs.cache import CACHE_HELP
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
  "label_column",
  "targets",
  "scale",
  "train_accuracy",
)

SYNONYMS = {
  "--batch-size": ("--mini-batch-size", "--mini_batch_size", "--minibatch-size", "--mini-batch",
                   "--batch", "--bs", "--m"),
  "--eta": ("--lr", "--learning-rate", "--learning_rate", "--rate", "--step-size"),
  "--epochs": ("--n-epochs", "--num-epochs", "--num_epochs", "--iterations"),
  "--sizes": ("--layers", "--hidden", "--architecture", "--net", "--network", "--shape"),
  "--out": ("--output", "--out-dir", "--output-dir", "--outdir", "--dir", "--save"),
  "--dataset": ("--data", "--data-set", "--training-data", "--training_data"),
  "--seed": ("--random-seed", "--rng"),
  "--train-accuracy": ("--training-accuracy", "--monitor-training-accuracy"),
  "--label-column": ("--label", "--labels", "--target-column", "--y"),
}  # fmt: skip
"""Other names for train's flags: the book's (`network.SGD(training_data, epochs,
mini_batch_size, eta)`) and other libraries'. An unknown flag among them gets its flag."""
WHAT = {
  "--batch-size": "the book's mini_batch_size, m",
  "--eta": "the learning rate η, the book's eta",
}


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


def add_arguments(sub) -> None:
  """Adds the `train` subcommand and its flags to `sub` (an argparse subparsers object)."""
  d = TrainConfig()
  p = sub.add_parser(
    "train",
    help="train a network by mini-batch SGD (the book's run by default)",
    description="Trains a network by mini-batch SGD: the book's run by default ([784, 30, 10], "
    "η = 3.0, mini-batch 10, 30 epochs on MNIST). Each epoch prints the test set's correct "
    "answers (the book's '9129 / 10000') and the validation accuracy; with --out the run's "
    "folder keeps its network, metrics, curves and pictures.",
    epilog=CACHE_HELP,
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
  p.add_argument(
    "--batch-size",
    type=int,
    help=f"mini-batch size m, the book's mini_batch_size (default: {d.batch_size})",
  )
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
    help="mnist (default, bundled); your own PATH.csv or PATH.npz; idx:PATH (a folder of IDX "
    "files); or a TFDS name such as fashion_mnist",
  )
  p.add_argument(
    "--label-column",
    help="a .csv dataset's label column: its header name, or its number from 1 (the first, the "
    "default; -1 the last)",
  )
  p.add_argument(
    "--targets",
    nargs="+",
    help="a .csv dataset's regression target columns (names or numbers), instead of a label",
  )
  p.add_argument(
    "--scale",
    type=float,
    help="divide a .csv or .npz dataset's inputs by this: 255 for pixels 0..255 (default: as "
    "given)",
  )
  p.add_argument(
    "--train-accuracy",
    action="store_true",
    help="also evaluate the training set's accuracy after every epoch (to watch overfitting; "
    "about a fifth more time per epoch on the book's run)",
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
  p.add_argument(
    "--out",
    help="folder for the run's network (params.npz), checkpoint, metrics, curves and pictures "
    "(weights.png, mistakes.png, confusion.png); without it nothing is saved",
  )
  p.add_argument("--resume", action="store_true", help="continue the run checkpointed in --out")
  p.add_argument("--force", action="store_true", help="overwrite an earlier run in --out")
  p.add_argument("--quiet", action="store_true", help="print nothing but errors")
  g = p.add_argument_group(
    "several processes (JAX's distributed runtime: the same command on every process; process 0 "
    "writes the run's folder; --seeds spreads the members over every device of every process, "
    "--data-parallel each mini-batch)"
  )
  g.add_argument("--coordinator", metavar="HOST:PORT", help="where process 0 listens")
  g.add_argument("--num-processes", type=int, metavar="N", help="how many processes in all")
  g.add_argument("--process-id", type=int, metavar="I", help="this process's index, 0 to N - 1")
  g.add_argument(
    "--distributed",
    action="store_true",
    help="join a distributed run whose coordinator, count and index JAX finds itself (SLURM, "
    "Open MPI, TPU pods)",
  )


DISTRIBUTED_FLAGS = ("coordinator", "num_processes", "process_id")
LOCAL_FLAGS = ("process_id", "out", "quiet", "force", "argv")
"""Flags that may differ between the processes of a distributed run (only process 0 writes)."""


def distributed(args: argparse.Namespace) -> tuple[str | None, int | None, int | None] | None:
  """(coordinator, processes, index) of a distributed run (all None: JAX finds them), or None."""
  given = [f for f in DISTRIBUTED_FLAGS if hasattr(args, f)]
  if getattr(args, "distributed", False):
    if given:
      raise ConfigError(
        f"--distributed finds the coordinator, count and index itself; expected it without "
        f"{', '.join('--' + f.replace('_', '-') for f in given)}"
      )
    return None, None, None
  if not given:
    return None
  if len(given) < 3:
    missing = [f"--{f.replace('_', '-')}" for f in DISTRIBUTED_FLAGS if f not in given]
    raise ConfigError(f"a distributed run needs {', '.join(missing)} too (or --distributed)")
  n, i = args.num_processes, args.process_id
  if n < 1 or not 0 <= i < n:
    raise ConfigError(
      f"--process-id {i} of --num-processes {n}; expected N ≥ 1 and I from 0 to N - 1"
    )
  if ":" not in args.coordinator or not args.coordinator.rsplit(":", 1)[1].isdigit():
    raise ConfigError(f"--coordinator {args.coordinator!r}; expected HOST:PORT, e.g. host0:1234")
  return args.coordinator, n, i


def shared_flags(args: argparse.Namespace) -> dict:
  """The flags every process of a distributed run must agree on, JSON-ready."""
  return {k: v for k, v in sorted(vars(args).items()) if k not in LOCAL_FLAGS}


def train_config(args: argparse.Namespace) -> TrainConfig:
  """The run's config: defaults ← --config file ← flags; or the checkpoint's with --resume."""
  flags = {k: getattr(args, k) for k in CONFIG_FLAGS if hasattr(args, k)}
  if "seeds" in flags:  # --seeds 0-3 8 → [[0, 1, 2, 3], [8]] → (0, 1, 2, 3, 8)
    flags["seeds"] = tuple(s for group in flags["seeds"] for s in group)
  if "label_column" in flags:  # "3" → 3: a column number; else a header name
    column = flags["label_column"]
    flags["label_column"] = int(column) if column.lstrip("-").isdigit() else column
  if "targets" in flags:
    flags["targets"] = tuple(int(c) if c.lstrip("-").isdigit() else c for c in flags["targets"])
  if "eta" in flags:  # one η: a single run's; several: a population's
    etas = flags.pop("eta")
    flags.update({"eta": etas[0]} if len(etas) == 1 else {"etas": tuple(etas)})
  if getattr(args, "resume", False):
    from jaxnets.runs import folder, lock, run  # (run imports the trainer: only to resume)

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
