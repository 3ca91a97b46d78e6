"""A run's progress on the terminal: the book's line per epoch, under a tqdm bar on a terminal."""

import math
import sys

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
  """The book's line, "Epoch 0: 9129 / 10000", then validation accuracy, cost and seconds; for
  a population, "Epoch 0: test 94.95% ± 0.19% (94.75–95.28%)", over its members."""
  if isinstance(metrics["train_cost"], list):
    line = f"Epoch {epoch}:"
    if "test_accuracy" in metrics:
      line += f" test {spread(metrics['test_accuracy'])}"
    if "validation_accuracy" in metrics:
      line += f"  validation {mean(metrics['validation_accuracy']):.2%}"
    return line + f"  cost {spread(metrics['train_cost'], False)}  {metrics['epoch_seconds']:.2f} s"
  line = f"Epoch {epoch}:"
  if "test_accuracy" in metrics:
    line += f" {round(metrics['test_accuracy'] * n_test)} / {n_test}"
  if "validation_accuracy" in metrics:
    line += f"  validation {metrics['validation_accuracy']:.2%}"
  return line + f"  cost {metrics['train_cost']:.4f}  {metrics['epoch_seconds']:.2f} s"


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
