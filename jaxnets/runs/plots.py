"""A run's PNGs: its learning curves, and the pictures of what its network learned
(`jaxnets.runs.pictures`); matplotlib imported in the background while training."""

import contextlib
import os
import threading
from typing import Any

import numpy as np

from jaxnets._checks import InputError
from jaxnets._files import write_png
from jaxnets.data.dataset import as_dataset
from jaxnets.history import History, PopulationHistory
from jaxnets.network import Params
from jaxnets.runs.pictures import (
  confusion_figure_of,
  counts_of,
  mistakes_figure_of,
  one_network,
  outputs_of,
  weights_figure,
)


def preload_plotting() -> threading.Thread:
  """Imports matplotlib in a background thread (0.4 s of CPU) while the device trains, so that
  `write_curves` at the end of a run does not wait for it. Started after the first epoch, whose
  tracing and compiling need the Python interpreter."""

  def load():
    with contextlib.suppress(Exception):  # write_curves imports it again and reports any error
      import matplotlib.figure  # noqa: F401
      import matplotlib.ticker  # noqa: F401

  thread = threading.Thread(target=load, name="jaxnets-preload-matplotlib", daemon=True)
  thread.start()
  return thread


def curves_figure(history: History, title: str = ""):
  """The learning curves: the cost (the training cost, the mean of each epoch's mini-batch costs,
  and the validation cost) and the accuracy (training, where recorded, validation and test) per
  epoch; a set that was not given has no curve and no legend entry.

  For a `PopulationHistory`, each curve is the members' median, with a band from the first to
  the third quartile (half the members) and a lighter one from the min to the max.

  Returns:
    A matplotlib `Figure`, made without pyplot (`write_png` saves it).
  """
  # A Figure of its own, not pyplot's: no backend is chosen or changed (a notebook's stays).
  from matplotlib.figure import Figure
  from matplotlib.ticker import MaxNLocator

  fig = Figure(figsize=(9, 3.6))
  cost_ax, acc_ax = fig.subplots(1, 2)
  top = 0.78 if isinstance(history, PopulationHistory) else 0.84  # room for the title's lines
  fig.subplots_adjust(left=0.08, right=0.98, bottom=0.13, top=top - 0.06 * title.count("\n"))
  epochs = np.arange(len(history.train_cost))
  population = isinstance(history, PopulationHistory)

  def curve(ax, values, scale, label, color):
    if not values:  # a set that was not given, or a metric not recorded
      return
    v = np.array(values, np.float64) * scale
    if population:
      low, q1, median, q3, high = np.percentile(v, [0, 25, 50, 75, 100], axis=1)
      ax.fill_between(epochs, low, high, color=color, alpha=0.12, lw=0)
      ax.fill_between(epochs, q1, q3, color=color, alpha=0.3, lw=0)
      v = median
    ax.plot(epochs, v, label=label, color=color, marker="." if len(epochs) < 20 else None)

  curve(cost_ax, history.train_cost, 1, "training (mean over the epoch)", "C0")
  curve(cost_ax, history.validation_cost, 1, "validation", "C1")
  cost_ax.set(xlabel="epoch", ylabel="quadratic cost", title="cost")
  curve(acc_ax, history.train_accuracy, 100, "training", "C0")
  curve(acc_ax, history.validation_accuracy, 100, "validation", "C1")
  curve(acc_ax, history.test_accuracy, 100, "test", "C2")
  acc_ax.set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy")
  for ax in (cost_ax, acc_ax):
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
      ax.legend()
  if isinstance(history, PopulationHistory):
    title += (
      f"\nlines: the median of {history.members} networks; dark bands: the middle half "
      "(quartiles); light bands: min to max"
    )
  fig.suptitle(title)
  return fig


def write_curves(path: str, history: History, title: str) -> None:
  """The learning curves (`curves_figure`) as a PNG."""
  write_png(path, curves_figure(history, title))


def write_pictures(
  folder: str, params: Params, test: Any = None, title: str = ""
) -> tuple[list[str], list[str]]:
  """Writes weights.png (square inputs), mistakes.png and confusion.png (a classifier's test set)
  into `folder`. Returns (the files written, notes on the pictures left out and why)."""
  written, notes = [], []
  sizes = one_network(params)
  suffix = f"\n{title}" if title else ""
  try:
    fig = weights_figure(params)
    fig.suptitle(fig.get_suptitle() + suffix, fontsize=10)
    write_png(os.path.join(folder, "weights.png"), fig)
    written.append("weights.png")
  except InputError:
    notes.append(f"weights.png left out: {sizes[0]} inputs are not a square image")
  if test is None or not np.issubdtype(np.asarray(as_dataset(test, "test").y).dtype, np.integer):
    why = "no test set" if test is None else "the test set has regression targets, not labels"
    notes.append(f"mistakes.png and confusion.png left out: {why}")
    return written, notes
  x, y, a = outputs_of(params, test)  # fed forward once for both pictures
  pictures = {"confusion.png": lambda: confusion_figure_of(counts_of(y, a), None)}
  if "weights.png" in written:  # the mistakes are images too
    pictures = {"mistakes.png": lambda: mistakes_figure_of(x, y, a, 24, None, None), **pictures}
  else:
    notes.append("mistakes.png left out: the inputs are not a square image")
  for name, make in pictures.items():
    fig = make()
    fig.suptitle(fig.get_suptitle() + suffix, fontsize=10)
    write_png(os.path.join(folder, name), fig)
    written.append(name)
  return written, notes
