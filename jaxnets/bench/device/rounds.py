"""How the speed and population parts time their trainers: in interleaved rounds while the
part's cap allows (as `jaxnets.bench.timing` times), and each trainer's entry in the table."""

from collections.abc import Sequence

from jaxnets.bench import timing
from jaxnets.bench.device.plan import Cap
from jaxnets.bench.timing import Stats, Trainer


def timed_rounds(trainers: Sequence[Trainer], rounds: int, cap: Cap, settle_s: float):
  """`timing.interleave`, one round at a time while the cap allows (at least one round)."""
  seconds: list[list[float]] = [[] for _ in trainers]
  for r in range(rounds):
    if r and cap.out():
      break
    order = range(len(trainers)) if r % 2 == 0 else reversed(range(len(trainers)))
    for i in order:
      t = trainers[i]
      seconds[i].append(timing.time_trial(t, settle_s) * t.epoch_examples / t.examples)
  return seconds


def entry(trainer: Trainer, plan_: timing.Plan, seconds: list[float], **extra) -> dict:
  stats = Stats.of(seconds)
  return {
    "impl": trainer.name,
    "timed_examples": plan_.examples,
    "whole_epochs": plan_.whole,
    "compile_s": plan_.compile_s,
    "epoch_s": stats.as_dict(),
    "examples_per_s": trainer.epoch_examples / stats.median,
    **extra,
  }
