"""How the benchmark times: trials interleaved round by round, their median and their spread.

What is timed is a `Trainer`: it trains a number of examples per trial, a whole epoch or the first
examples of one, and keeps its untimed preparation (drawing the epoch's shuffle, limiting its
threads) out of the clock. `plan` chooses the examples per trial: a whole epoch when one takes at
most `cap_s` seconds, else enough mini-batches for at least `part_s` seconds, whose time is
extrapolated to the epoch (an epoch's cost is linear in its mini-batches). A first trial of the
chosen size runs untimed: compiling and first touches of memory stay out of the numbers.

`interleave` then times the trainers of a row once each per round, in the order A B C in even
rounds and C B A in odd ones, so that the slow drift of a shared machine, and whatever one trial
leaves behind for the next (spinning threads, a warm cache), fall on all of them alike. `Stats`
holds the median and spread of one trainer's seconds per epoch; `ratio_stats` those of the ratios
of two trainers' trials in the same round, which cancel the drift that the rounds share.
"""

import contextlib
import dataclasses
import math
import statistics
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

PART_MARGIN = 1.1
"""A part of an epoch is planned for this × `part_s`, so that its trials stay above `part_s`."""

SETTLE_S = 0.1
"""Seconds of rest before each timed trial: threads a library leaves spinning after its work
(OpenBLAS's spin for about 2^28 cycles) wind down before the next trial starts."""

MAX_PLANS = 3
"""At most this many sizes are tried (each compiled, and run once untimed) before one is kept."""


class Trainer(Protocol):
  """Something the benchmark times: trials of `examples` examples of an epoch.

  Attributes:
    name: what the table calls it.
    batch_size: its mini-batch size; a trial's examples are a multiple of it.
    epoch_examples: the examples of a whole epoch (N).
    threads: the threads it runs with: "default", or a number.
    examples: the examples per trial it was last prepared for.
  """

  name: str
  batch_size: int
  epoch_examples: int
  threads: str | int
  examples: int

  def prepare(self, examples: int) -> float:
    """Readies trials of `examples` examples (compiling them, where there is something to
    compile); returns the seconds compiling took (0.0 if none)."""
    ...

  def ready(self) -> Callable[[], None]:
    """The untimed preparation of the next trial (its shuffle); returns the trial itself, which
    trains and returns once the results are computed."""
    ...

  def limit(self) -> AbstractContextManager[Any]:
    """A context that holds the trainer's thread limit, entered outside the clock."""
    ...


def time_trial(trainer: Trainer, settle_s: float = 0.0) -> float:
  """Seconds of one trial of `trainer`, its preparation, its thread limit and a rest of
  `settle_s` seconds before it outside the clock."""
  trial = trainer.ready()
  time.sleep(settle_s)
  with trainer.limit():
    start = time.perf_counter()
    trial()
    return time.perf_counter() - start


@dataclasses.dataclass
class Plan:
  """How a trainer is timed.

  Attributes:
    examples: examples per trial.
    whole: whether a trial is a whole epoch (else its seconds are extrapolated to one).
    compile_s: the seconds compiling the trial took (0.0 where nothing is compiled).
    first_s: the seconds per epoch of the untimed first trial (of the size kept).
  """

  examples: int
  whole: bool
  compile_s: float
  first_s: float


GUESS_PEAK_FRACTION = 0.05
"""The fraction of the matmul peak an epoch is guessed to run at before it is timed (small
networks reach little more; a low guess plans a part, which the first trial corrects)."""


def guess_seconds(flops: float, peak_gflops: float) -> float:
  """A first guess at the seconds of `flops` (`GUESS_PEAK_FRACTION` of the peak)."""
  return flops / (GUESS_PEAK_FRACTION * peak_gflops * 1e9)


def part_examples(trainer: Trainer, epoch_s: float, part_s: float) -> int:
  """The examples (whole mini-batches) of a part of an epoch that takes `epoch_s` seconds whole
  that last about `PART_MARGIN` × `part_s` seconds; at most the whole epoch."""
  n, b = trainer.epoch_examples, trainer.batch_size
  steps = math.ceil(PART_MARGIN * part_s / max(epoch_s, 1e-9) * n / b)
  return min(n, max(1, steps) * b)


def plan(trainer: Trainer, guess_s: float, cap_s: float, part_s: float) -> Plan:
  """Chooses, prepares and runs once (untimed) the trials of `trainer`.

  Args:
    trainer: what is timed.
    guess_s: a guess at the seconds of a whole epoch, to choose the first size tried.
    cap_s: whole epochs are timed when one takes at most this long.
    part_s: else parts of an epoch lasting at least this long.

  Returns:
    The plan; `trainer` is left prepared for it.
  """
  n = trainer.epoch_examples
  examples = n if guess_s <= cap_s else part_examples(trainer, guess_s, part_s)
  for attempt in range(MAX_PLANS):
    compile_s = trainer.prepare(examples)
    seconds = time_trial(trainer)
    epoch_s = seconds * n / examples
    if attempt == MAX_PLANS - 1:
      break
    if examples == n:
      wanted = n if epoch_s <= 2 * cap_s else part_examples(trainer, epoch_s, part_s)
    elif epoch_s <= cap_s:
      wanted = n
    elif part_s <= seconds <= 2.5 * part_s:
      wanted = examples
    else:
      wanted = part_examples(trainer, epoch_s, part_s)
    if wanted == examples:
      break
    examples = wanted
  return Plan(examples=examples, whole=examples == n, compile_s=compile_s, first_s=epoch_s)


def probe_examples(trainer: Trainer, probe_s: float) -> int:
  """The examples (whole mini-batches) of a trial of `trainer` lasting about `probe_s` seconds,
  found by growing a trial from a few mini-batches; for trainers that compile nothing."""
  n, b = trainer.epoch_examples, trainer.batch_size
  examples = min(n, 4 * b)
  while True:
    trainer.prepare(examples)
    seconds = time_trial(trainer)
    if seconds >= probe_s or examples == n:
      return examples
    grow = max(2.0, min(16.0, probe_s / max(seconds, 1e-6)))
    examples = min(n, math.ceil(examples * grow / b) * b)


def pick_threads(
  candidates: Sequence[Trainer], probe_s: float, settle_s: float = SETTLE_S
) -> tuple[Trainer, dict]:
  """The fastest of `candidates` (one trainer at several thread settings), from two short trials
  each, interleaved (A B A B); trainers that compile nothing.

  Returns:
    (the fastest, {threads: its best seconds per epoch} for every candidate).
  """
  examples = probe_examples(candidates[0], probe_s)
  best: dict[str | int, float] = {}
  for c in candidates:
    c.prepare(examples)
  for _ in range(2):
    for c in candidates:
      epoch_s = time_trial(c, settle_s) * c.epoch_examples / examples
      best[c.threads] = min(best.get(c.threads, math.inf), epoch_s)
  fastest = min(candidates, key=lambda c: best[c.threads])
  return fastest, {str(k): v for k, v in best.items()}


def interleave(
  trainers: Sequence[Trainer], rounds: int, settle_s: float = SETTLE_S
) -> list[list[float]]:
  """Seconds per epoch of each trainer (prepared), one trial per round, in alternating order,
  each after a rest of `settle_s` seconds.

  Returns:
    One list per trainer, of `rounds` seconds per epoch (a trial's seconds × the epoch's examples
    / the trial's), in the order of the rounds.
  """
  seconds: list[list[float]] = [[] for _ in trainers]
  for r in range(rounds):
    order = range(len(trainers)) if r % 2 == 0 else reversed(range(len(trainers)))
    for i in order:
      t = trainers[i]
      seconds[i].append(time_trial(t, settle_s) * t.epoch_examples / t.examples)
  return seconds


@dataclasses.dataclass
class Stats:
  """A sample's median and spread: min–max and the interquartile range (q1–q3)."""

  median: float
  min: float
  max: float
  q1: float
  q3: float
  samples: list[float]

  @classmethod
  def of(cls, samples: Sequence[float]) -> "Stats":
    values = [float(s) for s in samples]
    if len(values) > 1:
      q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    else:
      q1 = q3 = values[0]
    return cls(statistics.median(values), min(values), max(values), q1, q3, values)

  def as_dict(self) -> dict:
    return dataclasses.asdict(self)


def ratio_stats(slower_s: Sequence[float], faster_s: Sequence[float]) -> Stats:
  """How many times faster: slower / faster, of each pair of trials timed in the same round."""
  return Stats.of([a / b for a, b in zip(slower_s, faster_s)])


def goal(ratio: dict, target: float | None) -> dict:
  """A goal on a ratio (`Stats.as_dict()` of a round's ratios): its median, min and max, the
  goal (None: reported only), whether the median meets it, and in how many rounds."""
  return {
    "value": ratio["median"],
    "min": ratio["min"],
    "max": ratio["max"],
    "goal": target,
    "met": None if target is None else ratio["median"] >= target,
    "rounds_met": None if target is None else sum(r >= target for r in ratio["samples"]),
    "rounds": len(ratio["samples"]),
  }


def format_seconds(s: float) -> str:
  """Seconds to three significant digits: 0.213, 2.13, 21.3, 213."""
  if s >= 100:
    return f"{s:.0f}"
  return f"{s:.{max(0, 2 - math.floor(math.log10(max(s, 1e-9))))}f}"


def format_stats(stats: Stats, digits=format_seconds) -> str:
  """`median (min–max)`."""
  return f"{digits(stats.median)} ({digits(stats.min)}–{digits(stats.max)})"


def nothing() -> AbstractContextManager[None]:
  """The context of a trainer that limits no threads."""
  return contextlib.nullcontext()
