"""The benchmark's flags (`python -m jaxnets bench ...`) and the `Options` they ask for.

Importing this module imports no JAX: the command line parses its flags before JAX starts.
"""

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
  """Adds the benchmark's flags to `parser` (the `bench` subcommand's)."""
  parser.add_argument("--device", choices=["cpu", "gpu", "tpu"], default="cpu")
  parser.add_argument(
    "--out", default="results/bench", help="folder for bench-DEVICE.json and its .png plots"
  )
  parser.add_argument(
    "--quick", action="store_true", help="a run of seconds: the small net, epochs of 500 examples"
  )
  parser.add_argument("--no-baselines", action="store_true", help="time jaxnets only")
  parser.add_argument(
    "--no-variants", action="store_true", help="skip timing train_epoch's design alternatives"
  )
  tables = parser.add_mutually_exclusive_group()
  tables.add_argument(
    "--population-only", action="store_true", help="time the population table alone"
  )
  tables.add_argument("--no-population", action="store_true", help="skip the population table")


def options(args: argparse.Namespace):
  """The benchmark's `Options` for parsed flags (imports JAX)."""
  from jaxnets.bench.bench import Options

  o = Options.quick(args.device) if args.quick else Options(device=args.device)
  o.baselines = not args.no_baselines
  o.speed = not args.population_only
  o.variants = not (args.no_variants or args.population_only)
  o.population = not args.no_population
  return o
