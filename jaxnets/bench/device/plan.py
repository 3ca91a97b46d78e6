"""What a device check runs and how long each part may take: the `Plan`, the `Clock` of its
progress lines, a part's `Cap`; and the helpers every part uses (matmul precision, an exception
in one line, whether it is the memory running out)."""

import contextlib
import dataclasses
import time
from collections.abc import Callable
from typing import Any

import jax

TEST_FILES = (
  "tests/test_neurons.py",
  "tests/test_network.py",
  "tests/test_cost.py",
  "tests/test_gradient_descent.py",
  "tests/test_sgd.py",
  "tests/test_evaluation.py",
  "tests/test_train.py",
  "tests/test_population.py",
  "tests/test_blocks.py",
  "tests/test_parallel.py",
  "tests/test_memory.py",
)
"""The suite's device-facing part: core, training, populations, blocks, data-parallel, memory."""

SPEED_NETS = ((784, 30, 10), (784, 100, 10), (784, 1024, 1024, 10))
SPEED_BATCHES = (10, 100, 1000)
POPULATION_MEMBERS = (1, 32, 256, 1024, 4096)


@dataclasses.dataclass(frozen=True)
class Plan:
  """What the check runs and each part's time cap (seconds).

  Attributes:
    test_files: the test files run on the device.
    book_epochs, book_train, book_test: the book's run: epochs, training examples, test examples
      (None: all).
    nets, batch_sizes: the speed table's networks and mini-batch sizes.
    epoch_examples: the examples of an epoch in the speed and population tables.
    rounds: timed rounds of each table (after an untimed first trial).
    whole_s, part_s: whole epochs are timed when one takes ≤ whole_s, else parts of ≥ part_s.
    torch_compile: time `torch.compile` in the speed table.
    members: the population sizes M.
    fit_fraction: the fraction of the device's free memory the largest M may take.
    fit_max_members: the largest M tried.
    caps: each part's time cap.
  """

  test_files: tuple[str, ...] = TEST_FILES
  book_epochs: int = 30
  book_train: int | None = None
  book_test: int | None = None
  nets: tuple[tuple[int, ...], ...] = SPEED_NETS
  batch_sizes: tuple[int, ...] = SPEED_BATCHES
  epoch_examples: int = 50_000
  rounds: int = 3
  whole_s: float = 1.0
  part_s: float = 0.5
  torch_compile: bool = True
  members: tuple[int, ...] = POPULATION_MEMBERS
  fit_fraction: float = 0.9
  fit_max_members: int = 1 << 20
  caps: dict = dataclasses.field(
    default_factory=lambda: {
      "tests": 130.0,
      "book": 60.0,
      "speed": 120.0,
      "populations": 60.0,
      "fit": 25.0,
    }
  )

  @classmethod
  def for_device(cls, device: str, quick: bool) -> "Plan":
    """The full check (GPU-sized; on a CPU the largest M tried is smaller and takes at most a
    quarter of the free memory, the machine being shared), or the quick one: seconds on a CPU."""
    if quick:
      return cls(
        test_files=("tests/test_neurons.py",),
        book_epochs=2,
        book_train=2000,
        book_test=1000,
        nets=((784, 30, 10),),
        batch_sizes=(10, 100),
        epoch_examples=500,
        rounds=2,
        whole_s=5.0,
        part_s=0.05,
        torch_compile=False,
        members=(1, 4),
        fit_fraction=0.05,
        fit_max_members=64,
        caps={"tests": 60.0, "book": 30.0, "speed": 30.0, "populations": 30.0, "fit": 15.0},
      )
    if device == "cpu":
      return cls(fit_fraction=0.25, fit_max_members=1 << 13)
    return cls()


class Clock:
  """Seconds since the check started; progress lines, printed and kept for device-check.txt."""

  def __init__(self, log: Callable[[str], None] = print):
    self.start = time.perf_counter()
    self.lines: list[str] = []
    self.log = log

  def elapsed(self) -> float:
    return time.perf_counter() - self.start

  def say(self, line: str) -> None:
    text = f"[{self.elapsed():5.0f} s] {line}"
    self.lines.append(text)
    self.log(text)


class Cap:
  """A part's time cap: checked before each thing it times."""

  def __init__(self, seconds: float):
    self.seconds = seconds
    self.deadline = time.perf_counter() + seconds

  def left(self) -> float:
    return self.deadline - time.perf_counter()

  def out(self) -> bool:
    return self.left() <= 0


def precision(name: str | None) -> contextlib.AbstractContextManager[Any]:
  """JAX's matmul precision for what is traced inside: None or "default" leaves JAX's."""
  if name in (None, "default"):
    return contextlib.nullcontext()
  return jax.default_matmul_precision(name)


def one_line(e: BaseException) -> str:
  """An exception as one line: its type and its message's first line."""
  text = str(e).strip().splitlines()
  return f"{type(e).__name__}: {text[0][:300]}" if text else type(e).__name__


def out_of_memory(e: BaseException) -> bool:
  """Whether an exception is the device's (or the host's) memory running out."""
  text = str(e)
  return isinstance(e, MemoryError) or "RESOURCE_EXHAUSTED" in text or "out of memory" in text
