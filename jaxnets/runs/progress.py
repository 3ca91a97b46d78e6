"""A run's progress on the terminal: the book's line per epoch, under a tqdm bar on a terminal."""

import math
import sys
from typing import Any

import numpy as np


def spread(values, percent: bool = True) -> str:
  """Values of a population's members: "94.95% ± 0.19% (94.75–95.28%)", mean ± sd (min–max)."""
  v = np.asarray(values, np.float64)
  sd = float(np.std(v, ddof=1)) if v.size > 1 else 0.0
  if percent:
    return f"{v.mean():.2%} ± {sd:.2%} ({v.min():.2%}–{v.max():.2%})"
  return f"{v.mean():.4f} ± {sd:.4f}"


def mean(value) -> float:
  """A metric as one number: itself, or its members' mean."""
  return float(np.mean(value)) if isinstance(value, list) else float(value)


def epoch_line(epoch: int, metrics: dict[str, float], n_test: int) -> str:
  """The book's line, each number named: "Epoch 0: 9061 / 10000 correct on test (90.61%),
  validation 90.72%, training cost 0.3837, 0.19 s" (with the training accuracy where recorded:
  "training 91.02% (cost 0.3837)"; for regression targets, the sets' costs). For a population,
  over its members: "Epoch 0: test 94.95% ± 0.19% (94.75%–95.28%), validation 95.10% (mean),
  training cost 0.0312 ± 0.0004, 1.50 s"."""
  parts = []
  if isinstance(metrics["train_cost"], list):
    if "test_accuracy" in metrics:
      parts.append(f"test {spread(metrics['test_accuracy'])}")
    if "validation_accuracy" in metrics:
      parts.append(f"validation {mean(metrics['validation_accuracy']):.2%} (mean)")
    cost = spread(metrics["train_cost"], False)
    if "train_accuracy" in metrics:
      parts.append(f"training {mean(metrics['train_accuracy']):.2%} (mean; cost {cost})")
    else:
      parts.append(f"training cost {cost}")
  else:
    if "test_accuracy" in metrics:
      accuracy = metrics["test_accuracy"]
      parts.append(f"{round(accuracy * n_test)} / {n_test} correct on test ({accuracy:.2%})")
    elif "test_cost" in metrics:  # regression targets: no accuracy
      parts.append(f"test cost {metrics['test_cost']:.4f}")
    if "validation_accuracy" in metrics:
      parts.append(f"validation {metrics['validation_accuracy']:.2%}")
    elif "validation_cost" in metrics:
      parts.append(f"validation cost {metrics['validation_cost']:.4f}")
    cost = f"{metrics['train_cost']:.4f}"
    if "train_accuracy" in metrics:
      parts.append(f"training {metrics['train_accuracy']:.2%} (cost {cost})")
    else:
      parts.append(f"training cost {cost}")
  return f"Epoch {epoch}: " + ", ".join(parts) + f", {metrics['epoch_seconds']:.2f} s"


class Progress:
  """Per-epoch output: a tqdm bar on a terminal, plain lines otherwise, nothing when quiet."""

  def __init__(self, mode: str, total: int, initial: int):
    if mode == "auto":
      mode = "bar" if sys.stderr.isatty() else "lines"
    self.mode = mode
    self.bar = None
    self.epochs_done = initial
    if mode == "bar":
      from tqdm import tqdm

      self.bar = tqdm(total=total, initial=initial, unit="epoch", dynamic_ncols=True)

  def print(self, line: str) -> None:
    if self.bar is not None:
      self.bar.write(line)
    elif self.mode == "lines":
      print(line, flush=True)

  def epoch(self, line: str, metrics: dict[str, float]) -> None:
    self.print(line)
    if self.bar is not None:
      self.bar.set_postfix(
        test=f"{mean(metrics.get('test_accuracy', math.nan)):.2%}",
        cost=f"{mean(metrics['train_cost']):.4f}",
      )
      self.epochs_done += 1
      self.bar.n = self.epochs_done
      self.bar.refresh()

  def within(self, epoch: int, done: int, total: int) -> None:
    """Progress inside a long epoch: `done` of its `total` examples trained."""
    if self.bar is not None:
      self.bar.n = round(self.epochs_done + done / total, 2)  # fractions of an epoch
      self.bar.refresh()
    elif self.mode == "lines":
      print(f"  epoch {epoch}: {done:,} / {total:,} examples", flush=True)

  def close(self) -> None:
    if self.bar is not None:
      self.bar.close()


def final_line(history: Any) -> str:
  """The run's summary: the best test accuracy and its epoch, and the final one; for a
  population, the members' best and final accuracies, mean ± sd (min–max)."""
  accuracy_ExM = np.array(history.test_accuracy, dtype=np.float64)
  if accuracy_ExM.size == 0 or np.isnan(accuracy_ExM).all():
    cost = np.array(history.test_cost or history.validation_cost, dtype=np.float64)
    if cost.ndim != 1 or not cost.size:  # no set given, or a population's
      return ""
    which = "test" if history.test_cost else "validation"
    return (
      f"lowest {which} cost {cost.min():.4f} at epoch {int(cost.argmin())}, final {cost[-1]:.4f}"
    )
  if accuracy_ExM.ndim == 1:
    best = int(np.nanargmax(accuracy_ExM))
    return (
      f"best test accuracy {accuracy_ExM[best]:.2%} at epoch {best}, final {accuracy_ExM[-1]:.2%}"
    )
  return (
    f"{accuracy_ExM.shape[1]} networks: best test accuracy {spread(np.nanmax(accuracy_ExM, 0))}, "
    f"final {spread(accuracy_ExM[-1])}"
  )
