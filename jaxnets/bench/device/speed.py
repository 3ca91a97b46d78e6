"""The check's speed part: seconds per epoch of jaxnets (in blocks and in plain steps) and of
PyTorch (eager, and `torch.compile` where it works) on the same device, for each network and
mini-batch size; and `blocks_rule`, what the table says of blocks on this device kind."""

from collections.abc import Sequence
from typing import Any

import jax
import numpy as np

from jaxnets._engine import blocks as blocked
from jaxnets._engine.memory import epoch_flops
from jaxnets.bench import timing
from jaxnets.bench.baselines import TorchSteps
from jaxnets.bench.device.plan import Cap, Plan, one_line
from jaxnets.bench.device.report import format_row
from jaxnets.bench.device.rounds import entry, timed_rounds
from jaxnets.bench.device.trainers import TorchCompiledSteps
from jaxnets.bench.machine import matmul_peak
from jaxnets.bench.timing import Trainer, ratio_stats
from jaxnets.bench.trainers import Data, JaxEpochs
from jaxnets.cost import quadratic_cost
from jaxnets.network import Layer
from jaxnets.sgd import SGD

BLOCKS_WIN = 1.05
"""Blocks "make a network faster" on a device when plain steps take ≥ this × their seconds."""


def torch_guess(trainer: Trainer, probe_s: float) -> float:
  """A first guess at a baseline's seconds per epoch: a short trial grown to ≈ probe_s."""
  examples = timing.probe_examples(trainer, probe_s)
  trainer.prepare(examples)
  return timing.time_trial(trainer) * trainer.epoch_examples / examples


def torch_eager(data: Data, sizes, batch_size: int, device: str, probe_s: float):
  """PyTorch eager on `device`, with a first guess at its seconds per epoch. On a CPU, at the
  better of its default threads and one thread (two short trials each, as the benchmark picks:
  on a small shared machine its default threads can spin against XLA's)."""
  threads: tuple[str | int, ...] = ("default", 1) if device == "cpu" else ("default",)
  candidates: list[Trainer] = [
    TorchSteps(data, sizes, batch_size, device=device, threads=t) for t in threads
  ]
  eager: Trainer
  if len(candidates) == 1:
    eager = candidates[0]
    guess_s = torch_guess(eager, probe_s)
  else:
    eager, tried = timing.pick_threads(candidates, probe_s, 0.02)
    guess_s = tried[str(eager.threads)]
  eager.name = "torch eager"
  return eager, guess_s


def shapes(sizes: Sequence[int]) -> list[Any]:
  """A network's parameters as shapes (for `blocks.choose`)."""
  f32 = np.float32
  return [
    Layer(*(jax.ShapeDtypeStruct(s, f32) for s in ((o, i), (o,))))  # type: ignore[arg-type]
    for i, o in zip(sizes[:-1], sizes[1:])
  ]


def auto_blocks(sizes: Sequence[int], batch_size: int) -> bool:
  """Whether `blocks="auto"` (the CPU-measured rule) runs this network in blocks."""
  return blocked.choose(
    "auto", optimizer=SGD, cost=quadratic_cost, batch_size=batch_size, params=shapes(sizes)
  )


def speed_part(device, plan: Plan, data: Data, torch_device, cap: Cap, say) -> dict[str, Any]:
  """The speed table: each network and mini-batch size, jaxnets against PyTorch."""
  peak = matmul_peak(device, 256 if plan.epoch_examples < 50_000 else None, repeats=3)
  rows: list[dict] = []
  skipped: list[str] = []
  kept: dict[tuple, Trainer] = {}
  settle = 0.02
  for sizes in plan.nets:
    for b in plan.batch_sizes:
      if cap.out():
        skipped.append(f"{list(sizes)} batch {b}: time cap")
        continue
      say(f"speed: {list(sizes)}, mini-batch {b}")
      trainers: list[Trainer] = [JaxEpochs(data, sizes, b, name="jaxnets plain", blocks=False)]
      if blocked.block_steps(b) >= 2:
        trainers.append(JaxEpochs(data, sizes, b, name="jaxnets blocks", blocks=True))
      guess = timing.guess_seconds(epoch_flops(tuple(sizes), data.n, b), peak)
      guesses = [guess] * len(trainers)
      if torch_device is not None:
        eager, guess_s = torch_eager(data, sizes, b, torch_device, plan.part_s / 4)
        guesses.append(guess_s)
        trainers.append(eager)
      plans = [timing.plan(t, g, plan.whole_s, plan.part_s) for t, g in zip(trainers, guesses)]
      seconds = timed_rounds(trainers, plan.rounds, cap, settle)
      auto = auto_blocks(sizes, b)
      row: dict[str, Any] = {
        "sizes": list(sizes),
        "batch_size": b,
        "auto_blocks": auto,
        "entries": [entry(t, p, s) for t, p, s in zip(trainers, plans, seconds)],
        "ratios": {},
      }
      names = [t.name for t in trainers]
      shipped = names.index("jaxnets blocks" if auto else "jaxnets plain")
      kept[tuple(sizes), b] = trainers[shipped]
      if "jaxnets blocks" in names:
        row["ratios"]["plain ÷ blocks"] = ratio_stats(seconds[0], seconds[1]).as_dict()
      if "torch eager" in names:
        i = names.index("torch eager")
        row["ratios"]["torch eager ÷ jaxnets"] = ratio_stats(seconds[i], seconds[shipped]).as_dict()
      rows.append(row)
      say("speed: " + format_row(row))
  compile_status: str | None = None
  compiled_rows = 0
  if torch_device is not None and plan.torch_compile:
    for row in rows:
      if cap.out():
        skipped.append(f"{row['sizes']} batch {row['batch_size']}: torch.compile, time cap")
        continue
      sizes, b = tuple(row["sizes"]), row["batch_size"]
      try:
        compiled = TorchCompiledSteps(data, sizes, b, device=torch_device)
        say(f"speed: torch.compile {list(sizes)}, mini-batch {b}")
        jaxnets = kept[sizes, b]
        guess = torch_guess(compiled, plan.part_s / 4)
        p = timing.plan(compiled, guess, plan.whole_s, plan.part_s)
      except Exception as e:  # no Triton, no C compiler, an unsupported op, ...
        compile_status = f"torch.compile failed: {one_line(e)}"
        say(f"speed: {compile_status}; going on without it")
        break
      seconds = timed_rounds([jaxnets, compiled], plan.rounds, cap, settle)
      row["entries"].append(entry(compiled, p, seconds[1]))
      row["ratios"]["torch.compile ÷ jaxnets"] = ratio_stats(seconds[1], seconds[0]).as_dict()
      compiled_rows += 1
      say("speed: " + format_row(row))
    if compile_status is None:
      compile_status = f"ran on {compiled_rows} of {len(rows)} rows" + (
        " (the time cap)" if compiled_rows < len(rows) else ""
      )
  elif torch_device is None:
    compile_status = "no PyTorch for this device"
  else:
    compile_status = "not asked for (quick)"
  return {
    "matmul_peak_gflops": peak,
    "rows": rows,
    "skipped": skipped,
    "torch_compile": compile_status,
    "blocks_rule": blocks_rule(rows),
  }


def blocks_rule(rows: Sequence[dict]) -> dict[str, Any]:
  """What the speed table says of blocks on this device kind: for each network timed both ways,
  plain ÷ blocks (the median of the same rounds' ratios), whether the current rule ("auto",
  measured on a CPU: a layer of ≥ `MIN_LAYER_WEIGHTS` weights) picked the faster, and the
  smallest largest-layer size from which blocks win (≥ `BLOCKS_WIN`) for every larger network
  timed: the threshold this device kind's rule would take (None: blocks never won here)."""
  nets = []
  for row in rows:
    ratio = row["ratios"].get("plain ÷ blocks")
    if ratio is None:
      continue
    sizes = row["sizes"]
    weights = max(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    speedup = ratio["median"]
    nets.append(
      {
        "sizes": sizes,
        "batch_size": row["batch_size"],
        "largest_layer_weights": weights,
        "plain_over_blocks": speedup,
        "auto_blocks": row["auto_blocks"],
        "auto_picked_the_faster": row["auto_blocks"] == (speedup > 1.0),
      }
    )
  threshold = None
  for net in sorted(nets, key=lambda n: n["largest_layer_weights"], reverse=True):
    if net["plain_over_blocks"] >= BLOCKS_WIN:
      threshold = net["largest_layer_weights"]
    else:
      break
  return {
    "nets": nets,
    "current_min_layer_weights": blocked.MIN_LAYER_WEIGHTS,
    "suggested_min_layer_weights": threshold,
    "win_ratio": BLOCKS_WIN,
  }
