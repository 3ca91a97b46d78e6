"""The benchmark's speed table: seconds per epoch of jaxnets against NumPy and PyTorch.

For each network and mini-batch size, one row: jaxnets' `train_epoch`, the two NumPy forms of
`numpy_reference` (the mini-batch as one matrix; the book's per-example loop) and PyTorch eager
where it is installed, each baseline at the better of its default threads and one thread, all
interleaved. A row gives each one's seconds per epoch; jaxnets' compile seconds, examples per
second, GFLOP/s and fraction of the matmul peak; and the ratios (× NumPy, × torch) of the trials
of the same round.
"""

from collections.abc import Sequence

from jaxnets._engine.memory import epoch_flops
from jaxnets._files import write_png
from jaxnets.bench import numpy_reference as reference
from jaxnets.bench import timing
from jaxnets.bench.baselines import NumpySteps, TorchSteps, numpy_thread_choices
from jaxnets.bench.timing import Stats, Trainer, format_seconds, format_stats, ratio_stats
from jaxnets.bench.trainers import Data, JaxEpochs

NETS = ((784, 30, 10), (784, 100, 10), (784, 1024, 1024, 10))
BATCH_SIZES = (10, 100, 1000)
IMPLS = ("jaxnets", "numpy_matrix", "numpy_loop", "torch")
BASELINES = IMPLS[1:]


def baseline_candidates(data: Data, sizes, batch_size: int, torch_device: str | None) -> dict:
  """Each baseline at each thread setting it is tried at: impl → [trainers]."""
  out: dict[str, list[Trainer]] = {
    impl: [
      NumpySteps(data, sizes, batch_size, step, name=impl, threads=t)
      for t in numpy_thread_choices()
    ]
    for impl, step in (
      ("numpy_matrix", reference.sgd_step_matrix),
      ("numpy_loop", reference.sgd_step_loop),
    )
  }
  if torch_device is not None:
    threads = ("default", 1) if torch_device == "cpu" else ("default",)
    out["torch"] = [
      TorchSteps(data, sizes, batch_size, device=torch_device, threads=t) for t in threads
    ]
  return out


def time_row(
  data: Data, sizes: Sequence[int], batch_size: int, options, peak: float, torch_device
) -> tuple[list[dict], list[dict]]:
  """One row: (an entry per implementation; the ratios of each baseline to jaxnets).

  Args:
    data: the training examples.
    sizes, batch_size: the network and the mini-batch size.
    options: the benchmark's `Options` (`baselines`, `repeats`, `cap_s`, `part_s`, `probe_s`,
      `settle_s`).
    peak: the device's float32 matmul GFLOP/s.
    torch_device: where PyTorch runs ("cpu", "cuda"), or None for no PyTorch.
  """
  jax_epochs = JaxEpochs(data, sizes, batch_size)
  flops = epoch_flops(tuple(sizes), data.n, batch_size)
  trainers: list[Trainer] = [jax_epochs]
  guesses = [timing.guess_seconds(flops, peak)]
  tried: dict[str, dict] = {}
  if options.baselines:
    for impl, candidates in baseline_candidates(data, sizes, batch_size, torch_device).items():
      best, tried[impl] = timing.pick_threads(candidates, options.probe_s, options.settle_s)
      trainers.append(best)
      guesses.append(tried[impl][str(best.threads)])
  plans = [timing.plan(t, g, options.cap_s, options.part_s) for t, g in zip(trainers, guesses)]
  seconds = timing.interleave(trainers, options.repeats, options.settle_s)
  entries = []
  for trainer, plan, s in zip(trainers, plans, seconds):
    epoch_s = Stats.of(s)
    gflops = flops / epoch_s.median / 1e9
    entries.append(
      {
        "impl": trainer.name,
        "sizes": list(sizes),
        "batch_size": batch_size,
        "timed_examples": plan.examples,
        "whole_epochs": plan.whole,
        "compile_s": plan.compile_s if trainer is jax_epochs else None,
        "threads": trainer.threads,
        "threads_tried": tried.get(trainer.name),
        "epoch_s": epoch_s.as_dict(),
        "examples_per_s": data.n / epoch_s.median,
        "gflops": gflops,
        "peak_fraction": gflops / peak,
      }
    )
  ratios = [
    {
      "sizes": list(sizes),
      "batch_size": batch_size,
      "against": trainer.name,
      "ratio": ratio_stats(s, seconds[0]).as_dict(),
      "of_medians": Stats.of(s).median / Stats.of(seconds[0]).median,
    }
    for trainer, s in zip(trainers[1:], seconds[1:])
  ]
  return entries, ratios


def run(data: Data, options, peak: float, torch_device: str | None, log) -> dict:
  """Every row of `options.nets` × `options.batch_sizes`: {"results": entries, "ratios"}."""
  results, ratios = [], []
  for sizes in options.nets:
    for batch_size in options.batch_sizes:
      log(f"speed: {list(sizes)}, mini-batch {batch_size}")
      entries, row_ratios = time_row(data, sizes, batch_size, options, peak, torch_device)
      results += entries
      ratios += row_ratios
  return {"results": results, "ratios": ratios}


def find(rows: list[dict], sizes, batch_size: int, **match) -> dict | None:
  """The first row of `sizes` and `batch_size` whose other fields equal `match`'s."""
  for r in rows:
    if r["sizes"] == list(sizes) and r["batch_size"] == batch_size:
      if all(r.get(k) == v for k, v in match.items()):
        return r
  return None


def target(sizes, batch_size: int, against: str) -> float:
  """The speed issue's goal for jaxnets' ratio to `against` ("numpy_matrix" or "torch"):
  [784, 30, 10] at mini-batch 10 ≥ 2.5× NumPy and ≥ 10× PyTorch; every other row at mini-batch
  10 ≥ 1.5× NumPy and ≥ 1.2× PyTorch; at 100 and 1000 ≥ both."""
  if list(sizes) == [784, 30, 10] and batch_size == 10:
    return 2.5 if against == "numpy_matrix" else 10.0
  if batch_size == 10:
    return 1.5 if against == "numpy_matrix" else 1.2
  return 1.0


def goals(report: dict) -> dict:
  """The speed issues' goals, where this run measured them (`timing.goal` for each).

  Every ratio to NumPy's matrix form and to PyTorch against its `target`; a step of
  [784, 30, 10] at mini-batch 10 against its time at one core's float32 peak (reported, no
  goal); [784, 100, 10] at mini-batch 1000 ≥ 60% of the matmul peak (the first speed issue's).
  """
  out = {}
  for r in report["ratios"]:
    if r["against"] in ("numpy_matrix", "torch"):
      name = f"{r['sizes']} batch {r['batch_size']} × {r['against'].replace('_', ' ')}"
      out[name] = timing.goal(r["ratio"], target(r["sizes"], r["batch_size"], r["against"]))
  small = find(report["results"], (784, 30, 10), 10, impl="jaxnets")
  if small and report["one_core_peak_gflops"]:
    steps = report["epoch_examples"] // 10
    flops = epoch_flops((784, 30, 10), report["epoch_examples"], 10) / steps
    limit_s = flops / (report["one_core_peak_gflops"] * 1e9)
    step_s = [s / steps for s in small["epoch_s"]["samples"]]
    out["[784, 30, 10] batch 10: a step's time ÷ its time at one core's float32 peak"] = {
      **timing.goal(Stats.of([s / limit_s for s in step_s]).as_dict(), None),
      "step_us": Stats.of(step_s).median * 1e6,
      "limit_us": limit_s * 1e6,
      "step_flops": flops,
    }
  wide = find(report["results"], (784, 100, 10), 1000, impl="jaxnets")
  if wide:
    fraction = wide["peak_fraction"]
    out["[784, 100, 10] batch 1000: fraction of the matmul peak"] = {
      "value": fraction,
      "goal": 0.6,
      "met": fraction >= 0.6,
    }
  return out


def net_name(sizes) -> str:
  """ "[784, 30, 10]"."""
  return "[" + ", ".join(map(str, sizes)) + "]"


def cell(entry: dict | None, width: int) -> str:
  """Seconds per epoch, median (min–max), * where timed on a part of an epoch."""
  if entry is None:
    return f"{'-':<{width}}"
  mark = "" if entry["whole_epochs"] else "*"
  return f"{format_stats(Stats(**entry['epoch_s'])) + mark:<{width}}"


def format_table(report: dict) -> str:
  """The speed table: seconds per epoch of each implementation; then jaxnets' compile seconds,
  throughput and peak fraction, and the ratios."""
  rows, ratios = report["results"], report["ratios"]
  cases = []
  for r in rows:
    if (r["sizes"], r["batch_size"]) not in cases:
      cases.append((r["sizes"], r["batch_size"]))
  lines = [
    f"Seconds per epoch of {report['epoch_examples']:,} examples, median (min–max) of "
    f"{report['timing']['rounds']} rounds:",
    f"{'net':>21} {'batch':>5} | " + " ".join(f"{i.replace('_', ' '):<22}" for i in IMPLS).rstrip(),
  ]
  for sizes, b in cases:
    cells = [cell(find(rows, sizes, b, impl=i), 22) for i in IMPLS]
    lines.append(f"{net_name(sizes):>21} {b:>5} | " + " ".join(cells).rstrip())
  lines += [
    "jaxnets' compile seconds, examples/s, GFLOP/s and % of the peak (of the median); × each\n"
    "baseline: the ratios of the trials of the same round, median (min–max):",
    f"{'net':>21} {'batch':>5} | {'compile s':>9} {'examples/s':>10} {'GFLOP/s':>7} "
    f"{'% peak':>6} | " + " ".join(f"{'× ' + i.replace('_', ' '):<20}" for i in BASELINES).rstrip(),
  ]
  for sizes, b in cases:
    j = find(rows, sizes, b, impl="jaxnets")
    assert j is not None
    cells = []
    for impl in BASELINES:
      r = find(ratios, sizes, b, against=impl)
      cells.append(f"{format_stats(Stats(**r['ratio']), format_seconds) if r else '-':<20}")
    lines.append(
      f"{net_name(sizes):>21} {b:>5} | {j['compile_s']:>9.2f} {j['examples_per_s']:>10,.0f} "
      f"{j['gflops']:>7.1f} {100 * j['peak_fraction']:>5.1f}% | " + " ".join(cells).rstrip()
    )
  return "\n".join(lines)


def plot(report: dict, path: str) -> None:
  """Examples per second against the mini-batch size, one panel per network, one line per
  implementation, with min–max bars."""
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  nets = []
  for r in report["results"]:
    if r["sizes"] not in nets:
      nets.append(r["sizes"])
  n = report["epoch_examples"]
  fig, axes = plt.subplots(1, len(nets), figsize=(5 * len(nets), 4), squeeze=False)
  for ax, sizes in zip(axes[0], nets):
    for impl in IMPLS:
      rows = [r for r in report["results"] if r["impl"] == impl and r["sizes"] == sizes]
      if rows:
        rates = [Stats.of([n / s for s in r["epoch_s"]["samples"]]) for r in rows]
        ax.errorbar(
          [r["batch_size"] for r in rows],
          [s.median for s in rates],
          yerr=[[s.median - s.min for s in rates], [s.max - s.median for s in rates]],
          fmt="o-",
          capsize=3,
          label=impl,
        )
    ax.set(xscale="log", yscale="log", xlabel="mini-batch size", ylabel="examples / s")
    ax.set_title(f"{sizes} on {report['device']} ({report['device_kind']})", fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
  fig.tight_layout()
  write_png(path, fig)
  plt.close(fig)
