"""Figures of a fixed layout, made without pyplot, for the pictures of a run.

A `Figure` of its own (not pyplot's) chooses and changes no backend, so a notebook's inline
display stays as it was; a fixed layout (axes placed in inches) draws in a fraction of the time
of matplotlib's layout engines, which matters at the end of every run.
"""

import math

import numpy as np


def figure(**kw):
  """A matplotlib `Figure` of its own, not pyplot's (matplotlib imported on first use)."""
  from matplotlib.figure import Figure

  return Figure(**kw)


def framed(width: float, height: float, *, title: float, left=0.15, right=0.15, bottom=0.1):
  """A figure holding one axes of width × height inches, with `title` inches above it and the
  margins given (inches): a fixed layout, which draws in a fraction of a layout engine's time."""
  fig_w, fig_h = left + width + right, bottom + height + title
  fig = figure(figsize=(fig_w, fig_h))
  ax = fig.add_axes((left / fig_w, bottom / fig_h, width / fig_w, height / fig_h))
  return fig, ax


def colorbar(fig, ax, image, label: str) -> None:
  """A colour bar 0.18 in wide, 0.25 in right of `ax`, 80% of its height."""
  x0, y0, w, h = ax.get_position().bounds
  fig_w = fig.get_figwidth()
  cax = fig.add_axes((x0 + w + 0.25 / fig_w, y0 + 0.1 * h, 0.18 / fig_w, 0.8 * h))
  fig.colorbar(image, cax=cax, label=label)


def title_above(fig, text: str) -> None:
  """The figure's title, its first line 0.08 in from the top."""
  fig.suptitle(text, fontsize=10, y=1 - 0.08 / fig.get_figheight(), va="top")


def mosaic(images: np.ndarray, grid_cols: int, gap: int = 2) -> np.ndarray:
  """Images laid out in a grid of `grid_cols` columns, `gap` pixels of NaN (blank) between."""
  n, rows, cols = images.shape
  grid_rows = math.ceil(n / grid_cols)
  out = np.full((grid_rows * (rows + gap) - gap, grid_cols * (cols + gap) - gap), np.nan)
  for k, image in enumerate(images):
    r, c = divmod(k, grid_cols)
    out[r * (rows + gap) : r * (rows + gap) + rows, c * (cols + gap) : c * (cols + gap) + cols] = (
      image
    )
  return out
