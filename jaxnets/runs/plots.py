"""A run's learning curves as a PNG, matplotlib imported in the background while training."""

import contextlib
import threading

import numpy as np

from jaxnets._files import write_png
from jaxnets.history import History, PopulationHistory


def preload_plotting() -> threading.Thread:
  """Imports matplotlib in a background thread (0.4 s of CPU) while the device trains, so that
  `write_curves` at the end of a run does not wait for it. Started after the first epoch, whose
  tracing and compiling need the Python interpreter."""

  def load():
    with contextlib.suppress(Exception):  # write_curves imports it again and reports any error
      import matplotlib

      matplotlib.use("Agg")
      import matplotlib.figure  # noqa: F401
      import matplotlib.ticker  # noqa: F401

  thread = threading.Thread(target=load, name="jaxnets-preload-matplotlib", daemon=True)
  thread.start()
  return thread


def write_curves(path: str, history: History, title: str) -> None:
  """The learning curves as a PNG: training cost, and validation and test accuracy per epoch."""
  import matplotlib

  matplotlib.use("Agg")
  from matplotlib.figure import Figure
  from matplotlib.ticker import MaxNLocator

  fig = Figure(figsize=(9, 3.5), layout="constrained")
  cost_ax, acc_ax = fig.subplots(1, 2)
  epochs = np.arange(len(history.train_cost))
  band = isinstance(history, PopulationHistory)  # its mean, and a band from min to max

  def curve(ax, values, scale, label, color):
    if not values:  # a set that was not given
      return
    v = np.array(values, np.float64) * scale
    if band:
      ax.fill_between(epochs, v.min(1), v.max(1), color=color, alpha=0.2, lw=0)
      v = v.mean(1)
    ax.plot(epochs, v, label=label, color=color)

  curve(cost_ax, history.train_cost, 1, "training (mean over the epoch)", "C0")
  curve(cost_ax, history.validation_cost, 1, "validation", "C1")
  cost_ax.set(xlabel="epoch", ylabel="quadratic cost", title="cost")
  curve(acc_ax, history.validation_accuracy, 100, "validation", "C1")
  curve(acc_ax, history.test_accuracy, 100, "test", "C2")
  acc_ax.set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy")
  for ax in (cost_ax, acc_ax):
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
      ax.legend()
  if isinstance(history, PopulationHistory):
    title += f"\nlines: the mean of {history.members} networks; bands: their min to max"
  fig.suptitle(title)
  write_png(path, fig)
