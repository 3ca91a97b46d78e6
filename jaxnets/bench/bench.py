"""The benchmark, `python -m jaxnets bench`: mini-batch SGD on MNIST, jaxnets against NumPy and
PyTorch, one network and populations of them.

Three tables, each timed as `jaxnets.bench.timing` says (whole epochs of 50,000 examples, or
parts of ≥ `part_s` seconds of an epoch that takes longer than `cap_s`; the things compared
interleaved round by round; the median and the spread of seconds per epoch, and of the ratios of
the trials of the same round):
  - `speed`: jaxnets' `train_epoch` against NumPy (`numpy_reference`: the mini-batch as one
    matrix; the book's per-example loop) and PyTorch eager (`pip install 'jaxnets[bench]'`), for
    each network and mini-batch size, with GFLOP/s against the device's float32 matmul peak;
  - `variants`: `train_epoch`'s design choices against their alternatives;
  - `population`: M networks trained at once, against one network and against NumPy.
`goals` evaluates the speed and population issues' goals on them. `main` prints the tables and
writes every number to `bench-DEVICE.json`, with the CPU, the versions and the timing method,
and plots them.
"""

import dataclasses
import json
import os
import platform
import textwrap
import time
from collections.abc import Callable, Sequence

import jax
import numpy as np

from jaxnets._files import write_atomic
from jaxnets.bench import population as population_table
from jaxnets.bench import speed, timing, variants
from jaxnets.bench.baselines import torch_version
from jaxnets.bench.machine import cpu_info, describe_cpu, matmul_peak, one_core_peak
from jaxnets.bench.population import NETS as POPULATION_NETS
from jaxnets.bench.speed import BATCH_SIZES, NETS
from jaxnets.bench.trainers import Data
from jaxnets.bench.variants import BLOCK_CASES
from jaxnets.bench.variants import CASES as VARIANT_CASES

EPOCH = 50_000


@dataclasses.dataclass
class Options:
  """What to measure, and how long to time it.

  Attributes:
    device: "cpu", "gpu" or "tpu".
    nets, batch_sizes: the speed table's networks and mini-batch sizes.
    epoch_examples: the examples of an epoch: the first of MNIST's training set (50,000: all).
    repeats: rounds: timed trials of everything compared (after an untimed first one).
    cap_s: whole epochs are timed when one takes at most this many seconds...
    part_s: ...else the first examples of each epoch, for at least this many seconds.
    probe_s: the seconds of the short trials that choose a baseline's threads.
    settle_s: the seconds of rest before each timed trial.
    peak_n: the size of the matmul that measures the peak (default by device).
    speed, variants, population: which tables to time.
    baselines: time NumPy and PyTorch in the speed table.
    variant_cases: the design-choices table's (network, mini-batch size) cases.
    block_cases: its cases of SGD in blocks against plain steps.
    population_nets: the population table's networks.
    members: the population sizes M (default `population.members_for(device)`).
    device_counts: time the device-count table (a population over 1, 2, 4, 8 devices).
  """

  device: str = "cpu"
  nets: Sequence[Sequence[int]] = NETS
  batch_sizes: Sequence[int] = BATCH_SIZES
  epoch_examples: int = EPOCH
  repeats: int = 5
  cap_s: float = 3.0
  part_s: float = 2.0
  probe_s: float = 0.2
  settle_s: float = timing.SETTLE_S
  peak_n: int | None = None
  speed: bool = True
  baselines: bool = True
  variants: bool = True
  population: bool = True
  variant_cases: Sequence[tuple[Sequence[int], int]] = VARIANT_CASES
  block_cases: Sequence[tuple[Sequence[int], int]] = BLOCK_CASES
  population_nets: Sequence[Sequence[int]] = POPULATION_NETS
  members: Sequence[int] | None = None
  device_counts: bool = True

  @classmethod
  def quick(cls, device: str = "cpu") -> "Options":
    """A run of seconds (tests): the small net at mini-batch 10, epochs of 500 examples, 3
    rounds, populations of 32."""
    return cls(
      device=device,
      nets=((784, 30, 10),),
      batch_sizes=(10,),
      epoch_examples=500,
      repeats=3,
      cap_s=60.0,
      probe_s=0.01,
      settle_s=0.0,
      peak_n=256,
      variant_cases=VARIANT_CASES[:1],
      block_cases=BLOCK_CASES[:1],
      population_nets=((784, 30, 10),),
      members=(32,),
    )


def torch_device_for(device: str) -> str | None:
  """Where PyTorch runs beside `device`: "cpu", "cuda" (a GPU, with a CUDA build), or None."""
  if torch_version() is None or device == "tpu":
    return None
  if device == "gpu":
    import torch

    return "cuda" if torch.cuda.is_available() else None
  return "cpu"


def versions() -> dict:
  """Python, JAX, NumPy (and its BLAS, where threadpoolctl names it), PyTorch."""
  import jaxlib

  blas = None
  try:
    from threadpoolctl import threadpool_info

    blas = [
      {k: lib.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
      for lib in threadpool_info()
      if lib.get("user_api") == "blas"
    ]
  except ImportError:
    pass
  return {
    "python": platform.python_version(),
    "jax": jax.__version__,
    "jaxlib": jaxlib.__version__,
    "numpy": np.__version__,
    "numpy_blas": blas,
    "torch": torch_version(),
  }


def timing_method(options: Options) -> dict:
  """How this run timed, for the JSON and the tables' header."""
  return {
    "description": (
      f"whole epochs of {options.epoch_examples:,} examples where one takes ≤ "
      f"{options.cap_s:g} s, else the first examples of each epoch for ≥ {options.part_s:g} s "
      "(marked *), extrapolated; the things compared interleaved, one trial each per round "
      f"(A B C, then C B A), {options.repeats} rounds after an untimed first trial, "
      f"{options.settle_s:g} s of rest before each; median and min–max of seconds per epoch; "
      "ratios of the trials of the same round; each baseline at the better of its default "
      "threads and 1 thread (two short trials each); jaxnets' orders drawn outside the clock "
      "(fit draws them while the device trains), but in the design choices"
    ),
    "rounds": options.repeats,
    "cap_s": options.cap_s,
    "part_s": options.part_s,
    "probe_s": options.probe_s,
    "settle_s": options.settle_s,
    "epoch_examples": options.epoch_examples,
  }


def run(options: Options, log: Callable[[str], None] = print) -> dict:
  """Measures the tables `options` asks for; returns them as a JSON-ready dict."""
  device = jax.devices(options.device)[0]
  peak = matmul_peak(device, options.peak_n)
  core = one_core_peak(options.peak_n or 1024) if options.device == "cpu" else None
  cpu = cpu_info()
  log(
    f"{options.device}: {device.device_kind}; CPU {describe_cpu(cpu)}; float32 matmul "
    f"peak {peak:.1f} GFLOP/s"
  )
  torch_device = torch_device_for(options.device) if options.baselines else None
  data = Data.load(device, options.epoch_examples)
  report: dict = {
    "device": options.device,
    "device_kind": device.device_kind,
    "devices": len(jax.devices(options.device)),
    "cpu": cpu,
    "versions": versions(),
    "torch_device": torch_device,
    "matmul_peak_gflops": peak,
    "one_core_peak_gflops": core,
    "epoch_examples": data.n,
    "timing": timing_method(options),
    "results": [],
    "ratios": [],
    "variants": [],
    "population": None,
  }
  if options.speed:
    report.update(speed.run(data, options, peak, torch_device, log))
  if options.variants:
    report["variants"] = variants.run(data, options, peak, log)
  if options.population:
    report["population"] = population_table.run(data, options, peak, log)
  report["goals"] = goals(report)
  return report


def goals(report: dict) -> dict:
  """The goals this run measured: `speed.goals` and `population.goals`, name → value (a median
  of ratios), min and max, the goal (None: reported only), met (by the median), rounds met."""
  out = speed.goals(report)
  if report["population"]:
    out.update(population_table.goals(report["population"]))
  return out


def format_header(report: dict) -> str:
  """The machine, the versions, the peaks and the timing method."""
  v = report["versions"]
  blas = ", ".join(
    f"{b['internal_api']} {b['version']} ({b['architecture']})" for b in v["numpy_blas"] or []
  )
  core = report["one_core_peak_gflops"]
  return "\n".join(
    [
      textwrap.fill(
        f"device {report['device']} ({report['device_kind']}, {report['devices']} device(s)); "
        f"CPU {describe_cpu(report['cpu'])}",
        100,
        subsequent_indent="  ",
      ),
      f"python {v['python']}, jax {v['jax']}, jaxlib {v['jaxlib']}, numpy {v['numpy']}"
      f"{f' ({blas})' if blas else ''}, torch {v['torch'] or 'not installed'}",
      f"float32 matmul peak {report['matmul_peak_gflops']:.1f} GFLOP/s (the device)"
      + (f", one core {core:.1f} GFLOP/s (NumPy's BLAS, 1 thread)" if core else ""),
      textwrap.fill(f"timing: {report['timing']['description']}", 100, subsequent_indent="  "),
    ]
  )


def format_goals(report: dict) -> str:
  """One line per goal: its value, min–max over the rounds, met or not and in how many rounds."""
  lines = []
  for name, g in report["goals"].items():
    value = f"{g['value']:.3g}"
    if "min" in g:
      value += f" ({g['min']:.3g}–{g['max']:.3g})"
    if g["goal"] is None:
      if "step_us" in g:
        value += f": {g['step_us']:.1f} µs vs {g['limit_us']:.1f} µs"
      lines.append(f"reported {name}: {value}")
      continue
    verdict = "met" if g["met"] else "NOT met"
    if "rounds" in g:
      verdict += f" (in {g['rounds_met']} of {g['rounds']} rounds)"
    lines.append(f"goal {name} ≥ {g['goal']:g}: {value} {verdict}")
  return "\n".join(lines)


def format_report(report: dict) -> str:
  """Every table of the report, with the machine and the goals."""
  parts = [format_header(report)]
  if report["results"]:
    parts.append(speed.format_table(report))
  if report["variants"]:
    parts.append(variants.format_table(report["variants"], report["timing"]["rounds"]))
  if report["population"]:
    parts.append(population_table.format_table(report["population"], report["timing"]["rounds"]))
  if report["goals"]:
    parts.append(format_goals(report))
  if report.get("wall_s") is not None:
    parts.append(f"the benchmark took {report['wall_s']:.0f} s")
  return "\n".join(parts)


def main(options: Options, out: str = "results/bench", log: Callable = print) -> dict:
  """Runs the benchmark, prints its tables, writes `out/bench-DEVICE.json` (every number) and
  its plots: `bench-DEVICE.png` (the speed table), `bench-DEVICE-population.png`."""
  start = time.perf_counter()
  report = run(options, log=log)
  report["wall_s"] = time.perf_counter() - start
  os.makedirs(out, exist_ok=True)
  stem = os.path.join(out, f"bench-{options.device}")
  write_atomic(stem + ".json", (json.dumps(report, indent=2) + "\n").encode())
  written = [stem + ".json"]
  if report["results"]:
    speed.plot(report, stem + ".png")
    written.append(stem + ".png")
  if report["population"]:
    population_table.plot(report, stem + "-population.png")
    written.append(stem + "-population.png")
  log(format_report(report))
  log(f"wrote {', '.join(written)}")
  return report
