"""The benchmark's population table: M networks trained at once by `train_population_epoch`.

For each network (at mini-batch 10) and each M of `members`, with one shuffle shared by all
members and with one shuffle per member, it times a population's epoch; in the same rounds, one
network trained by `train_epoch` (the rate of training the M networks one after another with
jaxnets) and one network trained by NumPy's matrix form (the rate of NumPy training them one
after another). A row gives network-epochs per second (M / seconds per epoch), GFLOP/s and the
fraction of the matmul peak, and the ratios "× one network" and "× NumPy" of the trials timed in
the same round.
"""

import textwrap
from collections.abc import Callable, Sequence

import jax

from jaxnets._engine.device import DEVICES_PER_CORE, usable_cores
from jaxnets._engine.memory import epoch_flops
from jaxnets._files import write_png
from jaxnets.bench import numpy_reference as reference
from jaxnets.bench import timing
from jaxnets.bench.baselines import NumpySteps, numpy_thread_choices
from jaxnets.bench.timing import Plan, Stats, Trainer, format_seconds, format_stats, ratio_stats
from jaxnets.bench.trainers import Data, JaxEpochs, PopulationEpochs

NETS = ((784, 30, 10), (784, 100, 10))
BATCH_SIZE = 10
MEMBERS_CPU = (1, 8, 32, 128)
MEMBERS_ACCELERATOR = (1, 8, 32, 128, 512, 1024, 4096)

GOAL_SIZES, GOAL_MEMBERS, GOAL_RATIO, GOAL_PER_MEMBER = [784, 30, 10], 32, 3.2, 1.5
"""The populations' goals on 2 cores: 32 members of [784, 30, 10] sharing a shuffle train ≥ 3.2×
the network-epochs per second of one network (at mini-batch 10; 4× the stretch), with per-member
shuffles ≥ 1.5×."""


def members_for(device: str) -> tuple[int, ...]:
  """The population sizes timed on `device`: up to 128 on a CPU, 4096 on an accelerator."""
  return MEMBERS_CPU if device == "cpu" else MEMBERS_ACCELERATOR


def devices_for(members: int, device: str) -> int:
  """The devices a population of `members` spreads over, as the command line's `train --seeds`
  spreads it: `DEVICES_PER_CORE` per usable core on a CPU (at most the devices JAX has), every
  device of an accelerator; the most of those that divide M (the benchmark times no padding)."""
  available = len(jax.devices(device))
  most = min(available, DEVICES_PER_CORE * usable_cores()) if device == "cpu" else available
  return max(d for d in range(1, most + 1) if members % d == 0)


def time_net(
  data: Data,
  sizes: Sequence[int],
  populations_of: Sequence[tuple[int, bool, int]],
  options,
  guess_s: float,
  log: Callable[[str], None],
) -> list[dict]:
  """The rows of one network: one network, NumPy, then each population, all interleaved.

  Args:
    data: the training examples.
    sizes: the network.
    populations_of: (members M, shared shuffle, devices) of each population.
    options: the benchmark's `Options` (`repeats`, `cap_s`, `part_s`, `probe_s`, `settle_s`).
    guess_s: a guess at one network's seconds per epoch (to plan its first trial).
    log: progress lines.
  """
  b = BATCH_SIZE

  def planned(trainer: Trainer, guess: float) -> Plan:
    return timing.plan(trainer, guess, options.cap_s, options.part_s)

  one = JaxEpochs(data, sizes, b, name="one network")
  plans = [planned(one, guess_s)]
  candidates = [
    NumpySteps(data, sizes, b, reference.sgd_step_matrix, name="numpy matrix", threads=t)
    for t in numpy_thread_choices()
  ]
  numpy, tried = timing.pick_threads(candidates, options.probe_s, options.settle_s)
  plans.append(planned(numpy, tried[str(numpy.threads)]))
  populations = []
  per_network_s = plans[0].first_s  # guessed from the last one's: a population's first trial
  for m, shared, devices in populations_of:
    population = PopulationEpochs(data, sizes, b, m, shared=shared, devices=devices)
    log(f"  planning {list(sizes)}, {population.name}")
    plans.append(planned(population, m * per_network_s / devices))
    per_network_s = plans[-1].first_s * devices / m
    populations.append(population)
  trainers: list[Trainer] = [one, numpy, *populations]
  log(f"  timing {list(sizes)}: {len(trainers)} trainers, {options.repeats} rounds")
  seconds = timing.interleave(trainers, options.repeats, options.settle_s)
  flops = epoch_flops(tuple(sizes), data.n, b)

  def row(i: int, impl: str, members: int, shuffle: str | None) -> dict:
    """Trainer i's row: seconds per epoch of all its members; the ratios, of network-epochs
    per second, to the trials of one network (trainer 0) and NumPy (1) in the same rounds."""
    epoch_s = Stats.of(seconds[i])
    return {
      "sizes": list(sizes),
      "batch_size": b,
      "impl": impl,
      "members": members,
      "shuffle": shuffle,
      "devices": getattr(trainers[i], "devices", 1),
      "threads": trainers[i].threads,
      "threads_tried": tried if i == 1 else None,
      "timed_examples": plans[i].examples,
      "whole_epochs": plans[i].whole,
      "compile_s": None if i == 1 else plans[i].compile_s,
      "epoch_s": epoch_s.as_dict(),
      "network_epochs_per_s": Stats.of([members / t for t in seconds[i]]).as_dict(),
      "gflops": members * flops / epoch_s.median / 1e9,
      "vs_one_network": ratio_stats([members * t for t in seconds[0]], seconds[i]).as_dict(),
      "vs_numpy": ratio_stats([members * t for t in seconds[1]], seconds[i]).as_dict(),
    }

  rows = [row(0, "one network", 1, None), row(1, "numpy_matrix", 1, None)]
  for i, population in enumerate(populations, start=2):
    shuffle = "shared" if population.shared else "per-member"
    rows.append(row(i, "population", population.members, shuffle))
  return rows


DEVICE_COUNTS = (1, 2, 4, 8)
"""The devices the device-count table spreads `GOAL_MEMBERS` members of `GOAL_SIZES` over."""


def run(data: Data, options, peak_gflops: float, log: Callable[[str], None]) -> dict:
  """The population table, every network of `options.population_nets`, each population spread
  over its `devices_for`; and the device-count table: `GOAL_MEMBERS` members of `GOAL_SIZES` over
  1, 2, 4 and 8 devices (as many as there are). JSON-ready."""
  members = tuple(options.members or members_for(options.device))
  rows = []
  for sizes in options.population_nets:
    guess_s = timing.guess_seconds(epoch_flops(tuple(sizes), data.n, BATCH_SIZE), peak_gflops)
    each = [
      (m, shared, devices_for(m, options.device)) for shared in (True, False) for m in members
    ]
    rows += time_net(data, sizes, each, options, guess_s, log)
  counts = [d for d in DEVICE_COUNTS if d <= len(jax.devices(options.device))]
  by_devices = []
  if options.device_counts and len(counts) > 1:
    guess_s = timing.guess_seconds(epoch_flops(GOAL_SIZES, data.n, BATCH_SIZE), peak_gflops)
    each = [(GOAL_MEMBERS, shared, d) for shared in (False, True) for d in counts]
    log(f"devices: {GOAL_MEMBERS} members of {GOAL_SIZES} over {counts} devices")
    by_devices = time_net(data, GOAL_SIZES, each, options, guess_s, log)
  for row in rows + by_devices:
    row["peak_fraction"] = row["gflops"] / peak_gflops
  return {
    "batch_size": BATCH_SIZE,
    "members": list(members),
    "usable_cores": usable_cores(),
    "rows": rows,
    "by_devices": by_devices,
  }


def find(table: dict, sizes, members: int, shuffle: str, devices: int | None = None, key="rows"):
  """The population row of `sizes`, `members`, `shuffle` (and `devices`) in `table[key]`."""
  for row in table.get(key, []):
    if (
      row["impl"] == "population"
      and row["sizes"] == list(sizes)
      and row["members"] == members
      and row["shuffle"] == shuffle
      and devices in (None, row.get("devices", 1))
    ):
      return row
  return None


def goals(table: dict) -> dict:
  """The population issues' goals: `GOAL_MEMBERS` members of `GOAL_SIZES` against one network,
  `GOAL_RATIO` with a shared shuffle, `GOAL_PER_MEMBER` with per-member shuffles (and never below
  1.0 on any CPU), each spread over the usable cores as `train --seeds` spreads them."""
  out = {}
  for shuffle, target in (("shared", GOAL_RATIO), ("per-member", GOAL_PER_MEMBER)):
    row = find(table, GOAL_SIZES, GOAL_MEMBERS, shuffle)
    if row is None:
      continue
    shuffles = "a shared shuffle" if shuffle == "shared" else "per-member shuffles"
    devices = row.get("devices", 1)
    name = (
      f"{GOAL_MEMBERS} members of {GOAL_SIZES} batch {BATCH_SIZE}, {shuffles}, on {devices} "
      f"device{'s' * (devices != 1)}, × one network"
    )
    out[name] = timing.goal(row["vs_one_network"], target)
  return out


def _timed(row: dict) -> str:
  return "epochs" if row["whole_epochs"] else f"{row['timed_examples']:,}*"


def format_table(table: dict, rounds: int) -> str:
  """The population table: one line per network, reference and population."""
  about = (
    f"Populations at mini-batch {table['batch_size']}: M networks trained at once "
    "(train_population_epoch); one network: train_epoch; numpy: the matrix form, one network "
    f"after another; median (min–max) of {rounds} rounds; × one network and × numpy: the "
    "ratios of network-epochs per second of the trials in the same round; * timed on that many "
    "examples of each epoch, extrapolated:"
  )
  lines = [textwrap.fill(about, 100), *_rows(table["rows"])]
  if table.get("by_devices"):
    lines += [
      textwrap.fill(
        f"The same {GOAL_MEMBERS} members of {GOAL_SIZES} over 1, 2, 4 and 8 devices (this CPU "
        f"has {table.get('usable_cores')} usable cores; a population spreads over "
        f"{DEVICES_PER_CORE} devices per core):",
        100,
      ),
      *_rows(table["by_devices"]),
    ]
  return "\n".join(lines)


def _rows(rows: list[dict]) -> list[str]:
  lines = [
    f"{'net':>14} {'M':>4} {'shuffle':<12} {'dev':>3} {'timed':>7} {'s/epoch (all M)':<20} "
    f"{'network-epochs/s':<18} {'GFLOP/s':>7} {'% peak':>6} | {'× one network':<19} "
    f"{'× numpy'}",
  ]
  for row in rows:
    ref = row["impl"] != "population"
    net = "[" + ", ".join(map(str, row["sizes"])) + "]"
    label = row["impl"].replace("_", " ") if ref else row["shuffle"]
    devices = "-" if ref else row.get("devices", 1)
    lines.append(
      f"{net:>14} {'-' if ref else row['members']:>4} {label:<12} {devices:>3} {_timed(row):>7} "
      f"{format_stats(Stats(**row['epoch_s'])):<20} "
      f"{format_stats(Stats(**row['network_epochs_per_s'])):<18} {row['gflops']:>7.1f} "
      f"{100 * row['peak_fraction']:>5.1f}% | "
      f"{format_stats(Stats(**row['vs_one_network']), format_seconds):<19} "
      f"{format_stats(Stats(**row['vs_numpy']), format_seconds)}"
    )
  return lines


def _line(ax, rows: list[dict], x: str, y: str, label: str) -> None:
  """One shuffle's line: `y`'s medians against `x`, min–max bars; `label` + " shuffle(s)"."""
  rate = [r[y] for r in rows]
  ax.errorbar(
    [r[x] for r in rows],
    [s["median"] for s in rate],
    yerr=[[s["median"] - s["min"] for s in rate], [s["max"] - s["median"] for s in rate]],
    fmt="o-",
    capsize=3,
    label=f"{label} shuffle{'s' if label.endswith('per-member') else ''}",
  )


def plot(report: dict, path: str) -> None:
  """Network-epochs per second against M, one panel per network: a line per shuffle (min–max
  bars), one network's and NumPy's rates as horizontal lines."""
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  table = report["population"]
  nets = []
  for row in table["rows"]:
    if row["sizes"] not in nets:
      nets.append(row["sizes"])
  by_devices = table.get("by_devices") or []
  panels = len(nets) + bool(by_devices)
  fig, axes = plt.subplots(1, panels, figsize=(5 * panels, 4), squeeze=False)
  if by_devices:
    ax = axes[0][-1]
    for shuffle in ("per-member", "shared"):
      line = [r for r in by_devices if r["impl"] == "population" and r["shuffle"] == shuffle]
      _line(ax, line, "devices", "vs_one_network", f"{GOAL_MEMBERS} members, {shuffle}")
    ax.axvline(table.get("usable_cores", 1), ls=":", c="k", label="usable cores")
    ax.set(xscale="log", xlabel="devices", ylabel="× one network (network-epochs / s)")
    ax.set_xticks([r["devices"] for r in by_devices], [r["devices"] for r in by_devices])
    ax.set_title(f"{GOAL_SIZES} over devices, on {report['device']}", fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
  for ax, sizes in zip(axes[0], nets):
    rows = [r for r in table["rows"] if r["sizes"] == sizes]
    for shuffle in ("shared", "per-member"):
      line = [r for r in rows if r["impl"] == "population" and r["shuffle"] == shuffle]
      _line(ax, line, "members", "network_epochs_per_s", f"population, {shuffle}")
    for impl, style in (("one network", "k--"), ("numpy_matrix", "k:")):
      ref = [r for r in rows if r["impl"] == impl]
      if ref:
        ax.axhline(ref[0]["network_epochs_per_s"]["median"], ls=style[1:], c="k", label=impl)
    ax.set(xscale="log", yscale="log", xlabel="members M", ylabel="network-epochs / s")
    ax.set_title(
      f"{sizes}, mini-batch {table['batch_size']}, on {report['device']} ({report['device_kind']})",
      fontsize=9,
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
  fig.tight_layout()
  write_png(path, fig)
  plt.close(fig)
