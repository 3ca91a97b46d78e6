"""Shared plumbing of the experiments: arguments, JSON and PNG output, tables, the optimizer."""

import argparse
import io
import json
import math
import os
import platform
import time
from pathlib import Path

import jax
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the Agg backend)

import jaxnets as jn  # noqa: E402
from jaxnets.runs.checkpoint import write_atomic  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def seed_keys(seed: int) -> tuple[jax.Array, jax.Array]:
  """(init_key, shuffle_key) of a seed, split as `python -m jaxnets train --seed` does."""
  init_key, shuffle_key = jax.random.split(jax.random.key(seed))
  return init_key, shuffle_key


def train(params, data, *, eta, epochs, batch_size, key, **kwargs):
  """`jn.fit` with plain SGD at learning rate η: returns (params, history). η lives in the
  optimizer's state, so every η and seed of an experiment shares one compiled epoch."""
  return jn.fit(params, data, epochs=epochs, batch_size=batch_size, key=key, eta=eta, **kwargs)


def parse_args(name: str, description: str, argv=None) -> argparse.Namespace:
  """--seed, --quick and --out; the default out is results/<name> (results/quick/<name>)."""
  parser = argparse.ArgumentParser(description=description.strip().splitlines()[0])
  parser.add_argument("--seed", type=int, default=0, help="the base PRNG seed (default 0)")
  parser.add_argument(
    "--quick", action="store_true", help="a small, fast version (used by the tests)"
  )
  parser.add_argument("--out", type=Path, default=None, help="output folder")
  args = parser.parse_args(argv)
  if args.out is None:
    args.out = ROOT / "results" / ("quick" if args.quick else "") / name
  args.name = name
  args.start = time.perf_counter()
  return args


def mean_sd(values) -> tuple[float, float]:
  """Mean and sample standard deviation (0 for a single value)."""
  values = np.asarray(values, np.float64)
  sd = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
  return float(np.mean(values)), sd


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
  """What the numbers were measured on."""
  return {
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
  mode = " (quick)" if args.quick else ""
  print(f"{args.name}{mode}, seed {args.seed}, {results['meta']['seconds']:.1f} s → {args.out}")
  print(table(headers, rows))
  return results
