"""Command line: `python -m jaxnets train ...` (thin: parses flags, calls `jaxnets.run`)."""

import argparse
import sys

from jaxnets.checkpoint import CheckpointError
from jaxnets.config import ConfigError, TrainConfig
from jaxnets.data import DataError
from jaxnets.run import RunError


def _train_parser(sub) -> None:
  defaults = TrainConfig()
  p = sub.add_parser("train", help="train a network by mini-batch SGD (the book's run by default)")
  p.add_argument(
    "--sizes",
    type=int,
    nargs="+",
    default=list(defaults.sizes),
    help="neurons per layer, input first (default: 784 30 10)",
  )
  p.add_argument("--epochs", type=int, default=defaults.epochs)
  p.add_argument("--batch-size", type=int, default=defaults.batch_size)
  p.add_argument("--eta", type=float, default=defaults.eta, help="learning rate η")
  p.add_argument("--seed", type=int, default=defaults.seed)
  p.add_argument(
    "--init",
    choices=["normal", "scaled"],
    default=defaults.init,
    help="weights N(0, 1) as the book (normal), or N(0, 1)/√n_in (scaled)",
  )
  p.add_argument(
    "--data-parallel", action="store_true", help="shard every mini-batch over all visible devices"
  )
  p.add_argument("--out", default=None, help="folder for metrics.json and params.npz")
  p.add_argument("--force", action="store_true", help="overwrite an earlier run in --out")
  p.add_argument("--quiet", action="store_true", help="print nothing but errors")


def _bench_parser(sub) -> None:
  p = sub.add_parser("bench", help="seconds per epoch: jaxnets vs NumPy and PyTorch, and a table")
  p.add_argument("--device", choices=["cpu", "gpu", "tpu"], default="cpu")
  p.add_argument("--out", default="results/bench", help="folder for bench-DEVICE.json and .png")
  p.add_argument("--quick", action="store_true", help="the small net only, timed briefly")
  p.add_argument("--no-baselines", action="store_true", help="time jaxnets only")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
  parser = argparse.ArgumentParser(prog="python -m jaxnets", description=__doc__)
  sub = parser.add_subparsers(dest="command", required=True)
  _train_parser(sub)
  _bench_parser(sub)
  return parser.parse_args(argv)


def _train(args: argparse.Namespace) -> int:
  from jaxnets import run  # imports jax: after the flags are known to be well-formed
  from jaxnets.train import enable_compilation_cache

  enable_compilation_cache()  # a second run skips compiling (~1 s)

  config = TrainConfig(
    sizes=tuple(args.sizes),
    epochs=args.epochs,
    batch_size=args.batch_size,
    eta=args.eta,
    seed=args.seed,
    init=args.init,
    data_parallel=args.data_parallel,
  )
  run.train(config, out=args.out, force=args.force, quiet=args.quiet)
  return 0


def _bench(args: argparse.Namespace) -> int:
  from jaxnets import bench  # imports jax

  options = bench.Options.quick(args.device) if args.quick else bench.Options(device=args.device)
  options.baselines = not args.no_baselines
  bench.main(options, out=args.out)
  return 0


def main(argv: list[str] | None = None) -> int:
  args = parse_args(argv)
  try:
    return {"train": _train, "bench": _bench}[args.command](args)
  except (ConfigError, DataError, CheckpointError, RunError) as e:
    print(f"error: {e}", file=sys.stderr)
    return 2
  except KeyboardInterrupt:
    print("interrupted", file=sys.stderr)
    return 130


if __name__ == "__main__":
  sys.exit(main())
