"""Command line: `python -m jaxnets train|predict|bench ...` (thin: flags → `TrainConfig` →
`jaxnets.runs.train`; `predict` → `jaxnets.runs.predict`).

A run's config is the book's defaults, overridden by `--config FILE` (JSON or TOML), overridden by
the flags given. `--resume` takes the config saved in `--out`'s checkpoint; of the flags only
`--epochs` (to train further) may differ from it. Every bad input is one line on stderr and exit
status 2; nothing is written before all the input has been checked. An unknown flag gets the
nearest known one, the book's words included (`--mini-batch-size` → `--batch-size`).
"""

import argparse
import difflib
import gc
import os
import re
import sys

from jaxnets.runs import flags


class OneLineParser(argparse.ArgumentParser):
  """argparse that reports a bad flag as one line and exit status 2."""

  def error(self, message):
    choice = re.search(r"invalid choice: '([^']*)'.*\(choose from (.*)\)", message)
    if choice:  # a misspelt command: its nearest, in one form on every Python
      bad, names = choice.group(1), re.findall(r"'?([\w-]+)'?", choice.group(2))
      message = (
        f"{message[: choice.start()]}invalid choice: '{bad}' (choose from {', '.join(names)})"
      )
      near = difflib.get_close_matches(bad, names, n=1, cutoff=0.5)
      message += f"; did you mean {near[0]}?" if near else ""
    self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def nearest_flag(flag: str, known: list[str]) -> str | None:
  """The known flag an unknown one most likely means: a synonym's, else the closest spelling."""
  name = flag.split("=", 1)[0]
  for known_flag, others in flags.SYNONYMS.items():
    if name in others and known_flag in known:
      return known_flag
  near = difflib.get_close_matches(name, known, n=1, cutoff=0.7)
  return near[0] if near else None


def unknown_arguments(extras: list[str], parser: argparse.ArgumentParser) -> str:
  """One line for arguments a command doesn't know: each flag with the nearest known one."""
  known = [o for a in parser._actions for o in a.option_strings if o.startswith("--")]
  said = []
  for arg in extras:
    if not arg.startswith("-"):
      continue  # the value of an unknown flag
    near = nearest_flag(arg, known)
    what = f" ({flags.WHAT[near]})" if near in flags.WHAT else ""
    name = arg.split("=", 1)[0]
    said.append(f"unknown flag {name}" + (f"; did you mean {near}{what}?" if near else ""))
  if not said:
    said = [f"unexpected argument(s) {' '.join(extras)}"]
  return f"error: {'; '.join(said)} (see {parser.prog} --help for its flags)\n"


def _bench_parser(sub) -> None:
  from jaxnets.bench.args import add_arguments  # no JAX

  p = sub.add_parser(
    "bench", help="seconds per epoch: jaxnets vs NumPy and PyTorch; populations; tables"
  )
  add_arguments(p)


def _predict_parser(sub) -> None:
  p = sub.add_parser(
    "predict",
    help="the digit a trained network sees in your images (PNG, JPEG) or .npy arrays",
    description="Prints, per image, the network's answer and its output activations. A PNG or "
    "JPEG is brought to MNIST's form first (grayscale, light digit on dark, fitted in 20 × 20 "
    "and centred by its centre of mass in 28 × 28), so a photo of a digit in dark ink on light "
    "paper works; an .npy of shape (784,) or (28, 28) is taken as it is.",
  )
  p.add_argument("network", help="a run's folder (its params.npz), or a params.npz or checkpoint")
  p.add_argument("images", nargs="+", help="PNG or JPEG images, or .npy arrays")
  p.add_argument("--show", action="store_true", help="print the image the network saw, as text")
  p.add_argument("--save-seen", metavar="FOLDER", help="write the image it saw as FOLDER/NAME.png")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
  parser = OneLineParser(
    prog="python -m jaxnets",
    description=__doc__,
    formatter_class=argparse.RawDescriptionHelpFormatter,
  )
  sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
  flags.add_arguments(sub)
  _predict_parser(sub)
  _bench_parser(sub)
  args, extras = parser.parse_known_args(argv)
  if extras:
    parser.exit(2, unknown_arguments(extras, sub.choices[args.command]))
  args.argv = list(sys.argv[1:] if argv is None else argv)  # as given: a distributed worker's
  return args


def _train(args: argparse.Namespace) -> int:
  from jaxnets.runs import distributed  # no JAX

  joined = flags.distributed(args)
  if joined is not None and not os.environ.get(distributed.WORKER):
    coordinator, n, i = joined
    where = f"process {i} of {n}" if n is not None else "this process"
    out = getattr(args, "out", None) if i in (0, None) else None
    return distributed.supervise(args.argv, coordinator, where, out)
  from jaxnets._engine.device import use_host_devices

  use_host_devices()  # before JAX starts: a population spreads over them
  from jaxnets.runs import run  # imports jax: only once the flags are known to be well-formed
  from jaxnets.runs.cache import enable_compilation_cache
  from jaxnets.runs.config import TrainConfig

  if joined is None:
    enable_compilation_cache()  # a second run skips compiling (~1 s)
    config = flags.train_config(args)
  else:  # no persistent cache: with JAX 0.12, processes that read it hung in their first collective
    distributed.initialize(*joined)
    distributed.check_flags(flags.shared_flags(args))
    config = TrainConfig.from_dict(distributed.leaders(lambda: flags.train_config(args).to_dict()))

  out = getattr(args, "out", None)
  quiet = getattr(args, "quiet", False)
  run.train(
    config,
    out=out,
    force=getattr(args, "force", False),
    resume=getattr(args, "resume", False),
    progress="quiet" if quiet else "auto",
  )
  if out is None and not quiet:
    print("nothing was saved: pass --out FOLDER to keep the network, its metrics and pictures")
  return 0


def _predict(args: argparse.Namespace) -> int:
  from jaxnets.runs import predict  # imports jax

  return predict.main(args.network, args.images, show=args.show, save_seen=args.save_seen)


def _bench(args: argparse.Namespace) -> int:
  from jaxnets._engine.device import use_host_devices

  use_host_devices(at_least=8)  # before JAX starts: the population table over 1, 2, 4, 8 devices
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
  from jaxnets.runs.distributed import DistributedError
  from jaxnets.runs.recorder import RunDiverged, RunInterrupted, RunWriteFailed

  try:
    return {"train": _train, "predict": _predict, "bench": _bench}[args.command](args)
  except InputError as e:  # every bad argument, config, file or dataset: the library's words
    print(f"error: {e}", file=sys.stderr)
    return 2
  except (RunDiverged, RunWriteFailed, DistributedError) as e:
    print(f"error: {e}", file=sys.stderr)
    return 1
  except RunInterrupted as e:
    print(str(e), file=sys.stderr)
    if e.at_once and hard_exit:  # the device may still run the lost epoch: don't wait for it
      sys.stdout.flush()
      sys.stderr.flush()
      os._exit(128 + e.signum)
    _STOPPED_TOGETHER.append(e.signum)  # after an epoch: every process of a run stops there
    return 128 + e.signum
  except KeyboardInterrupt:
    print("interrupted outside training; every file already written is complete", file=sys.stderr)
    return 130


_STOPPED_TOGETHER: list[int] = []
"""The signal that stopped this run after an epoch, if one did (`main`)."""


def entry_point() -> None:
  """`python -m jaxnets` and the `jaxnets` script."""
  status = main(hard_exit=True)
  if status and os.environ.get("JAXNETS_DISTRIBUTED_WORKER") and not _STOPPED_TOGETHER:
    # a distributed worker that fails leaves at once, without the runtime's orderly shutdown,
    # which would hold it until every other process ends: they notice it gone and end too (one
    # stopped by a signal after an epoch leaves in order: the others stop after the same epoch,
    # and process 0 would take one gone before it wrote its files for a lost process)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
  gc.freeze()  # the interpreter's exit then skips a collection over JAX's objects
  sys.exit(status)


if __name__ == "__main__":
  entry_point()
