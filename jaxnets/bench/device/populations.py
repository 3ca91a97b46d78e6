"""The check's populations part: network-epochs per second of populations of [784, 30, 10]
against M, with a shared shuffle and per-member ones, against one network; and the fit part:
the largest M that fits in the device's free memory, estimated, then run on one block."""

import gc
import time
from typing import Any

from jaxnets._engine import blocks as blocked
from jaxnets._engine.memory import epoch_flops, training_bytes
from jaxnets.bench import timing
from jaxnets.bench.device import info
from jaxnets.bench.device.plan import Cap, Plan, one_line, out_of_memory
from jaxnets.bench.device.rounds import entry, timed_rounds
from jaxnets.bench.device.trainers import Population
from jaxnets.bench.machine import matmul_peak
from jaxnets.bench.timing import Stats, Trainer, ratio_stats
from jaxnets.bench.trainers import Data, JaxEpochs

POPULATION_SIZES = (784, 30, 10)
POPULATION_BATCH = 10


def populations_part(device, plan: Plan, data: Data, cap: Cap, say) -> dict[str, Any]:
  """Network-epochs per second against M, both shuffles, and one network."""
  sizes, b = POPULATION_SIZES, POPULATION_BATCH
  peak = matmul_peak(device, 256, repeats=3)
  one = JaxEpochs(data, sizes, b, name="one network")
  guess = timing.guess_seconds(epoch_flops(sizes, data.n, b), peak)
  trainers: list[Trainer] = [one]
  plans = [timing.plan(one, guess, plan.whole_s, plan.part_s)]
  rows_of: list[tuple[int, str | None]] = [(1, None)]
  skipped = []
  for shared in (True, False):
    per_network_s = plans[0].first_s
    for m in plan.members:
      shuffle = "shared" if shared else "per-member"
      if cap.left() < 0.25 * cap.seconds:  # keep a quarter of the cap for the timed rounds
        skipped.append(f"M={m} {shuffle}: time cap")
        continue
      say(f"populations: planning M = {m}, {shuffle}")
      try:
        population = Population(data, sizes, b, m, shared=shared)
        plans.append(timing.plan(population, m * per_network_s, plan.whole_s, plan.part_s))
      except Exception as e:
        if not out_of_memory(e):
          raise
        skipped.append(f"M={m} {shuffle}: out of memory ({one_line(e)})")
        continue
      per_network_s = plans[-1].first_s / m
      trainers.append(population)
      rows_of.append((m, shuffle))
  say(f"populations: timing {len(trainers)} trainers, {plan.rounds} rounds")
  seconds = timed_rounds(trainers, plan.rounds, cap, 0.02)
  rows = []
  for (members, kind), t, p, s in zip(rows_of, trainers, plans, seconds):
    rows.append(
      entry(
        t, p, s, members=members, shuffle=kind,
        network_epochs_per_s=Stats.of([members / x for x in s]).as_dict(),
        vs_one_network=ratio_stats([members * x for x in seconds[0]], s).as_dict(),
      )
    )  # fmt: skip
  for row in rows[1:]:
    say(
      f"populations: M = {row['members']:>5} {row['shuffle']:<10} "
      f"{row['network_epochs_per_s']['median']:10.1f} network-epochs/s, "
      f"× one network {row['vs_one_network']['median']:.1f}"
    )
  return {
    "sizes": list(sizes),
    "batch_size": b,
    "members": list(plan.members),
    "rows": rows,
    "skipped": skipped,
  }


def free_bytes(device) -> tuple[int | None, str]:
  """The device's free memory for a new run, and where it was read: `memory_stats` (bytes_limit
  − bytes_in_use) on an accelerator, /proc/meminfo's MemAvailable on the CPU."""
  stats = info.memory_stats(device)
  if stats and "bytes_limit" in stats:
    return stats["bytes_limit"] - stats.get("bytes_in_use", 0), "memory_stats"
  try:
    with open("/proc/meminfo") as f:
      for line in f:
        if line.startswith("MemAvailable:"):
          return int(line.split()[1]) * 1024, "MemAvailable"
  except (OSError, ValueError, IndexError):
    pass
  return None, "unknown"


def fit_part(device, plan: Plan, data: Data, cap: Cap, say) -> dict[str, Any]:
  """The largest population of [784, 30, 10] that fits: estimated, then run on one block."""
  sizes, b = POPULATION_SIZES, POPULATION_BATCH
  gc.collect()
  free, source = free_bytes(device)
  if free is None:
    return {"free_bytes": None, "source": source, "estimate_members": None, "tries": []}
  budget = plan.fit_fraction * free
  m = 1
  while m * 2 <= plan.fit_max_members and training_bytes(sizes, b, members=m * 2) <= budget:
    m *= 2
  say(f"fit: {free / 1e9:.1f} GB free ({source}); M = {m} takes "
      f"{training_bytes(sizes, b, members=m) / 1e9:.2f} GB by training_bytes")  # fmt: skip
  examples = blocked.block_steps(b) * b
  tries: list[dict[str, Any]] = []
  largest = None
  while m >= 1 and not cap.out() and len(tries) < 4:
    start = time.perf_counter()
    try:
      population = Population(data, sizes, b, m, shared=True)
      compile_s = population.prepare(examples)
      seconds = timing.time_trial(population)
    except Exception as e:
      if not out_of_memory(e):
        raise
      tries.append({"members": m, "ok": False, "error": one_line(e)})
      say(f"fit: M = {m}: out of memory; halving")
      population = None
      gc.collect()
      m //= 2
      continue
    rate = m * examples / data.n / seconds
    tries.append(
      {
        "members": m,
        "ok": True,
        "examples": examples,
        "compile_s": compile_s,
        "trial_s": seconds,
        "network_epochs_per_s": rate,
        "wall_s": time.perf_counter() - start,
      }
    )
    say(f"fit: M = {m} trained {examples} examples in {seconds:.3f} s ({rate:.1f} net-epochs/s)")
    largest = m
    del population
    break
  return {
    "free_bytes": free,
    "source": source,
    "fraction": plan.fit_fraction,
    "max_members_tried": plan.fit_max_members,
    "estimate_members": tries[0]["members"] if tries else m,
    "estimate_bytes": training_bytes(sizes, b, members=max(1, tries[0]["members"] if tries else m)),
    "largest_members_run": largest,
    "tries": tries,
  }
