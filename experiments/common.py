"""Shared plumbing of the experiments: arguments, seeds and populations, training, JSON and PNG
output, tables, spreads over seeds and their plots."""

import argparse
import io
import json
import math
import os
import platform
import time
from pathlib import Path

from jaxnets.runs import use_host_devices

use_host_devices()  # before JAX's first computation, as `python -m jaxnets train` gives them: a
# population's members spread over the CPU's cores (`mesh`); a count in XLA_FLAGS wins

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import matplotlib  # noqa: E402
import numpy as np  # noqa: E402
from jax.sharding import Mesh  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the Agg backend)
from matplotlib.ticker import MaxNLocator  # noqa: E402

import jaxnets as jn  # noqa: E402
from jaxnets.bench.machine import cpu_info, describe_cpu  # noqa: E402
from jaxnets.runs import population_keys, write_atomic  # noqa: E402, F401  (population_keys: seeds keyed as `train --seeds`)

ROOT = Path(__file__).resolve().parents[1]

SHARED_SHUFFLE = False
"""The default of --shared-shuffle. False: every member of a population shuffles as the single
run of its seed does, so member k takes the steps of `python -m jaxnets train --seed s_k` (bit for
bit where XLA runs the population's products with one network's kernels: see
`jn.fit_population`).
True: every member takes the first seed's shuffle (faster: the first layer's products of all
members run as one), the seeds then differing in their initial parameters only."""

DEAD_RECALL = 0.1
"""A digit is dead for a network that answers it for fewer than this fraction of its test images
(an output neuron that stayed saturated)."""


def mesh() -> Mesh | None:
  """The devices a population's members spread over (`jn.fit_population(mesh=...)`): every
  device, where there are several; None on one."""
  devices = jax.devices()
  return Mesh(np.array(devices), ("members",)) if len(devices) > 1 else None


def seed_keys(seed: int) -> tuple[jax.Array, jax.Array]:
  """(init_key, shuffle_key) of a seed, split as `python -m jaxnets train --seed` does."""
  init_key, shuffle_key = jax.random.split(jax.random.key(seed))
  return init_key, shuffle_key


def train(params, data, *, eta, epochs, batch_size, key, **kwargs):
  """`jn.fit` with plain SGD at learning rate η: returns (params, history). η lives in the
  optimizer's state, so every η and seed of an experiment shares one compiled epoch."""
  return jn.fit(params, data, epochs=epochs, batch_size=batch_size, key=key, eta=eta, **kwargs)


def parse_args(
  name: str,
  description: str,
  argv=None,
  seeds: tuple[int, int] | None = None,
  shared_shuffle: bool = SHARED_SHUFFLE,
) -> argparse.Namespace:
  """--seed, --quick and --out; the default out is results/<name> (results/quick/<name>).

  With `seeds` = (full, quick), an experiment over seeds: also --n-seeds (default `full`, or
  `quick` with --quick) and --shared-shuffle (default `shared_shuffle`); args.seeds lists the
  seeds, --seed the first.
  """
  parser = argparse.ArgumentParser(description=description.strip().splitlines()[0])
  parser.add_argument("--seed", type=int, default=0, help="the base PRNG seed (default 0)")
  parser.add_argument(
    "--quick", action="store_true", help="a small, fast version (used by the tests)"
  )
  parser.add_argument("--out", type=Path, default=None, help="output folder")
  if seeds is not None:
    parser.add_argument(
      "--n-seeds",
      type=int,
      default=None,
      help=f"how many seeds, from --seed on (default {seeds[0]}; {seeds[1]} with --quick)",
    )
    parser.add_argument(
      "--shared-shuffle",
      action=argparse.BooleanOptionalAction,
      default=shared_shuffle,
      help="every seed takes the first seed's shuffle (faster); off: each its own, "
      f"as its single run (default {'on' if shared_shuffle else 'off'})",
    )
  args = parser.parse_args(argv)
  if seeds is not None:
    if args.n_seeds is None:
      args.n_seeds = seeds[1] if args.quick else seeds[0]
    if args.n_seeds < 1:
      parser.error(f"--n-seeds {args.n_seeds}: expected at least 1")
    args.seeds = list(range(args.seed, args.seed + args.n_seeds))
    args.shuffle = "shared" if args.shared_shuffle else "per-member"
  if args.out is None:
    args.out = ROOT / "results" / ("quick" if args.quick else "") / name
  args.name = name
  args.start = time.perf_counter()
  return args


def quick_note(args, quick: str, full: str) -> None:
  """With --quick, says how small the run is before any of its numbers: "quick: 2 epochs on
  10,000 training examples, 3 seeds (the full run: ...)", printed now and with the table."""
  if args.quick:
    args.quick_note = (
      f"quick: {quick} (the full run: {full}); a smoke test, its numbers not comparable with "
      "the book's"
    )
    print(args.quick_note, flush=True)


def mean_sd(values) -> tuple[float, float]:
  """Mean and sample standard deviation (0 for a single value)."""
  values = np.asarray(values, np.float64)
  sd = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
  return float(np.mean(values)), sd


def spread(name: str, values) -> dict[str, float]:
  """{name_mean, name_sd, name_min, name_max} of values over seeds (sd: the sample's)."""
  values = np.asarray(values, np.float64)
  mean, sd = mean_sd(values)
  return {
    f"{name}_mean": mean,
    f"{name}_sd": sd,
    f"{name}_min": float(np.min(values)),
    f"{name}_max": float(np.max(values)),
  }


def pm(summary: dict, name: str, minmax: bool = True) -> str:
  """A `spread` of fractions as text: "95.00% ± 0.19% (94.75–95.28%)", the min–max in brackets."""
  text = f"{summary[f'{name}_mean']:.2%} ± {summary[f'{name}_sd']:.2%}"
  lo, hi = summary[f"{name}_min"], summary[f"{name}_max"]
  if minmax:
    text += f" ({lo:.2%} to {hi:.2%})" if lo < 0 else f" ({lo * 100:.2f}–{hi:.2%})"
  return text


def member_histories(history: jn.PopulationHistory) -> list[jn.History]:
  """A population's history as one history per member."""
  return [history.member(k) for k in range(history.members or 0)]


def stack(*populations):
  """Populations (params of one shape) as one: their members one after another."""
  return jax.tree.map(lambda *a: jnp.concatenate(a), *populations)


def digit_recall(params, data: jn.Dataset, classes: int = 10) -> np.ndarray:
  """(members, classes): for each member of a population, the fraction of each class's examples
  that it answers with that class."""
  predicted_MxN = np.asarray(jax.lax.map(lambda p: jn.predict(p, data.x), params, batch_size=8))
  y_N = np.asarray(data.y)
  return np.stack([np.mean(predicted_MxN[:, y_N == d] == d, axis=1) for d in range(classes)], 1)


def dead_digits(recall) -> list[int]:
  """The digits answered for fewer than `DEAD_RECALL` of their images: saturated outputs."""
  return [d for d, r in enumerate(recall) if r < DEAD_RECALL]


def band(ax, x, values, color, label=None, lines=False, scale=100.0, **kwargs):
  """The mean over seeds as a line and their min–max as a band (values: (seeds, len(x))); with
  `lines`, every seed's curve too, thin."""
  values = np.asarray(values, np.float64) * scale
  if lines:
    for row in values:
      ax.plot(x, row, color=color, lw=0.6, alpha=0.35)
  ax.fill_between(x, values.min(0), values.max(0), color=color, alpha=0.18, lw=0)
  ax.plot(x, values.mean(0), color=color, label=label, **{"lw": 1.8, **kwargs})
  ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # x counts epochs


def subset(data: jn.Dataset, n: int | None) -> jn.Dataset:
  """The first n examples of a dataset (all of them for n=None)."""
  return data if n is None else jn.Dataset(data.x[:n], data.y[:n])


def _jsonable(value):
  if isinstance(value, dict):
    return {str(k): _jsonable(v) for k, v in value.items()}
  if isinstance(value, (list, tuple)):
    return [_jsonable(v) for v in value]
  if isinstance(value, (np.ndarray, jax.Array)):
    return _jsonable(np.asarray(value).tolist())
  if isinstance(value, (np.floating, float)):
    return float(value) if math.isfinite(value) else None  # NaN/Inf → null: valid JSON
  if isinstance(value, np.integer):
    return int(value)
  if isinstance(value, np.bool_):
    return bool(value)
  return value


def machine() -> dict:
  """What the numbers were measured on: the CPU (model, family, model number, cores, vector
  extensions), the platform, JAX's version and backend."""
  cpu = cpu_info()
  return {
    "cpu": describe_cpu(cpu),
    "cpu_model": cpu["model_name"],
    "cpu_family": cpu["family"],
    "cpu_model_number": cpu["model"],
    "platform": platform.platform(),
    "processor": platform.processor() or platform.machine(),
    "cpu_count": os.cpu_count(),
    "jax": jax.__version__,
    "backend": jax.default_backend(),
  }


def table(headers: list[str], rows: list[list]) -> str:
  """A plain-text table, numbers as given (format them before)."""
  cells = [headers, *[[str(c) for c in row] for row in rows]]
  widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
  lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
  lines.insert(1, "  ".join("-" * w for w in widths))
  return "\n".join(lines)


def finish(args, results: dict, figures: dict, headers: list[str], rows: list[list]) -> dict:
  """Writes <out>/results.json and <out>/<figure>.png atomically and prints the table."""
  args.out.mkdir(parents=True, exist_ok=True)
  results = {
    **results,
    "meta": {
      "experiment": args.name,
      "seed": args.seed,
      **({"seeds": args.seeds, "shuffle": args.shuffle} if hasattr(args, "seeds") else {}),
      "quick": args.quick,
      "seconds": time.perf_counter() - args.start,
      "machine": machine(),
    },
  }
  results = _jsonable(results)
  text = json.dumps(results, indent=1, allow_nan=False) + "\n"
  write_atomic(args.out / "results.json", text.encode())
  for name, fig in figures.items():
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    write_atomic(args.out / f"{name}.png", buffer.getvalue())
  mode = f" ({getattr(args, 'quick_note', 'quick')})" if args.quick else ""
  seeds = f"seed {args.seed}"
  if hasattr(args, "seeds"):
    seeds = f"seeds {args.seeds[0]}–{args.seeds[-1]}, {args.shuffle} shuffles"
  print(f"{args.name}{mode}, {seeds}, {results['meta']['seconds']:.1f} s → {args.out}")
  print(table(headers, rows))
  return results
