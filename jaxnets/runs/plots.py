"""A run's learning curves as a PNG, matplotlib imported in the background while training."""

import contextlib
import io
import threading

import numpy as np

from jaxnets.runs.checkpoint import write_atomic
from jaxnets.train import History


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
  cost_ax.plot(epochs, history.train_cost, label="training (mean over the epoch)")
  cost_ax.plot(epochs, history.validation_cost, label="validation")
  cost_ax.set(xlabel="epoch", ylabel="quadratic cost", title="cost")
  acc_ax.plot(epochs, np.array(history.validation_accuracy) * 100, label="validation")
  acc_ax.plot(epochs, np.array(history.test_accuracy) * 100, label="test")
  acc_ax.set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy")
  for ax in (cost_ax, acc_ax):
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    ax.legend()
  fig.suptitle(title)
  buffer = io.BytesIO()
  fig.savefig(buffer, format="png", dpi=100)
  write_atomic(path, buffer.getvalue())
