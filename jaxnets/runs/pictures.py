"""What a network learned, as pictures: matplotlib `Figure`s, for a notebook or a run's folder.

- `weights_figure`: the first layer's weights, one image per hidden neuron: w_j reshaped to the
  input image (28 × 28 for MNIST), red for positive, blue for negative, white for 0 (a diverging
  colour map centred on 0, one scale for all). A neuron's weighted input z_j = w_j · x + b_j is
  large where the image is bright on its red pixels and dark on its blue ones. Pixels that are
  0 in every training image (MNIST's border) get no gradient: their weights keep their initial
  noise.
- `mistakes_figure`: misclassified examples, each with its label, the network's answer and its
  output activations.
- `confusion_figure` (and `confusion_matrix`): how often each label got each answer, counts and
  per-class accuracy.

Each takes one network and, where it needs one, a set (a `Dataset` or a pair (x, y) of integer
labels); each returns a `matplotlib.figure.Figure` made without pyplot (no global state: in a
notebook, `%matplotlib inline` shows it; `write_png` saves it). `jaxnets.runs.plots.write_pictures`
writes all three into a run's folder.
"""

import math

import jax
import numpy as np

from jaxnets._checks import InputError, check_params, network_or_population
from jaxnets.data.dataset import as_dataset
from jaxnets.network import Params, feedforward_batch
from jaxnets.runs.figures import colorbar, framed, mosaic, title_above

__all__ = [
  "confusion_figure",
  "confusion_matrix",
  "image_shape_of",
  "mistakes_figure",
  "weights_figure",
]

EVAL_ROWS = 10_000
"""Examples fed forward at once for the pictures (bounded memory on any set)."""

_forward = jax.jit(feedforward_batch)


def one_network(params: Params) -> tuple[int, ...]:
  members, sizes = network_or_population(params)
  if members is not None:
    raise InputError(
      f"params hold a population of {members} networks; expected one network: pick one with "
      "jaxnets.member(params, k)"
    )
  return check_params(params)


def image_shape_of(n_in: int, image_shape: tuple[int, int] | None = None) -> tuple[int, int]:
  """The (rows, cols) an input of `n_in` values is shown as: `image_shape` if given, else a
  square. Raises InputError for an input that is neither."""
  if image_shape is not None:
    rows, cols = image_shape
    if rows * cols != n_in:
      raise InputError(f"image_shape={tuple(image_shape)} holds {rows * cols} pixels, not {n_in}")
    return int(rows), int(cols)
  side = math.isqrt(n_in)
  if side * side != n_in:
    raise InputError(
      f"inputs of {n_in} values are not a square image; expected n_in = side², or pass "
      "image_shape=(rows, cols)"
    )
  return side, side


def outputs_of(params: Params, data) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """(x, labels, output activations) of a labelled set, as NumPy arrays."""
  sizes = one_network(params)
  data = as_dataset(data, "picture's")
  x, y = np.asarray(data.x), np.asarray(data.y)
  if x.ndim != 2 or x.shape[1] != sizes[0] or y.shape != x.shape[:1]:
    raise InputError(
      f"the set has x of shape {x.shape} and y of shape {y.shape}; the network {list(sizes)} "
      f"expects x (n, {sizes[0]}) and labels (n,)"
    )
  if not np.issubdtype(y.dtype, np.integer):
    raise InputError(
      f"the set's y has dtype {y.dtype}; expected integer class labels (these pictures are of "
      "a classifier)"
    )
  x = x.astype(params[0].w.dtype, copy=False)
  a = np.concatenate(
    [np.asarray(_forward(params, x[i : i + EVAL_ROWS])) for i in range(0, len(x), EVAL_ROWS)]
  ) if len(x) else np.zeros((0, sizes[-1]), np.float32)  # fmt: skip
  return x, y, a


def weights_figure(
  params: Params,
  *,
  image_shape: tuple[int, int] | None = None,
  max_neurons: int = 100,
  title: str | None = None,
):
  """The first layer's weights, one image per hidden neuron (at most `max_neurons`, the first).

  Args:
    params: one network whose inputs are an image (n_in a square, or `image_shape`).
    image_shape: (rows, cols) of the input image; default the square root of n_in.
    max_neurons: how many neurons to show at most.
    title: the figure's title; default one that says what is shown.

  Returns:
    A matplotlib `Figure`: a grid of images, neuron 0 top left, row by row, on one colour scale
    centred on 0 (±the 99th percentile of |w|, so that a few large weights don't wash out the
    rest), with its colour bar.

  Raises:
    InputError: a population, or inputs that aren't an image.
  """
  sizes = one_network(params)
  rows, cols = image_shape_of(sizes[0], image_shape)
  w_HxI = np.asarray(params[0].w, np.float64)
  shown = w_HxI[: max(1, int(max_neurons))]
  n = len(shown)
  grid_cols = min(n, max(5, math.ceil(math.sqrt(n * 1.25))))
  limit = float(np.percentile(np.abs(shown), 99)) or 1.0
  gap = max(2, rows // 7)
  tiles = mosaic(shown.reshape(n, rows, cols), grid_cols, gap)
  inch = 1.0 / (cols + gap)  # a tile and its gap: 1 inch wide
  fig, ax = framed(
    tiles.shape[1] * inch, tiles.shape[0] * inch, title=0.95, right=1.3, bottom=0.1
  )  # fmt: skip
  image = ax.imshow(tiles, cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest")
  ax.set_axis_off()
  for j in range(n):
    r, c = divmod(j, grid_cols)
    ax.text(c * (cols + gap), r * (rows + gap) - 0.5, str(j), fontsize=7, va="bottom")
  colorbar(fig, ax, image, "weight (red +, blue −)")
  hidden = f"{n} of {len(w_HxI)}" if n < len(w_HxI) else f"{n}"
  title_above(
    fig,
    title
    or f"First-layer weights of {hidden} hidden neurons, {rows} × {cols} each (scale "
    f"±{limit:.2g})\ninputs that are 0 in every training image keep their initial weights",
  )
  return fig


def confusion_matrix(params: Params, data) -> np.ndarray:
  """Counts (n_out, n_out), int64: entry [i, j] is how many examples of label i the network
  answers j (its largest output). The diagonal holds the correct answers."""
  return counts_of(*outputs_of(params, data)[1:])


def counts_of(y: np.ndarray, a: np.ndarray) -> np.ndarray:
  n_out = a.shape[1]
  if y.size and (y.min() < 0 or y.max() >= n_out):
    raise InputError(f"the set's labels span {y.min()}..{y.max()}; expected 0..{n_out - 1}")
  counts = np.zeros((n_out, n_out), np.int64)
  np.add.at(counts, (y, a.argmax(1)), 1)
  return counts


def confusion_figure(params: Params, data, *, title: str | None = None):
  """The confusion matrix of a labelled set: rows the label, columns the network's answer, each
  cell its count (colour on a log scale, so that a handful of mistakes shows), and to the right
  each label's accuracy (its diagonal count over its row's).

  Returns:
    A matplotlib `Figure`.
  """
  return confusion_figure_of(counts_of(*outputs_of(params, data)[1:]), title)


def confusion_figure_of(counts: np.ndarray, title: str | None):
  from matplotlib.colors import LogNorm

  k, total, correct = len(counts), int(counts.sum()), int(np.trace(counts))
  size = max(3.5, 0.4 * k + 0.5)
  fig, ax = framed(size, size, title=0.95, left=0.65, right=2.0, bottom=0.6)
  shown = np.where(counts > 0, counts, np.nan)
  image = ax.imshow(shown, cmap="Blues", norm=LogNorm(vmin=1, vmax=max(2, counts.max())))
  big = counts.max() ** 0.6 if counts.max() else 1
  if k <= 20:
    for i in range(k):
      for j in range(k):
        if counts[i, j] or i == j:  # a 0 on the diagonal: a label never answered, in red
          ax.text(
            j, i, str(counts[i, j]), ha="center", va="center", fontsize=8 if k <= 10 else 6,
            color="white" if counts[i, j] > big else "tab:red" if not counts[i, j] else "black",
          )  # fmt: skip
  per_class = counts.diagonal() / np.maximum(counts.sum(1), 1)
  ax.set_xticks(range(k))
  ax.set_yticks(range(k), [f"{i}   {per_class[i]:6.1%}" for i in range(k)], fontsize=8)
  ax.tick_params(axis="y", labelleft=False, labelright=True, left=False)
  ax.set_xlabel("the network's answer")
  ax.set_ylabel("label")
  ax.yaxis.set_label_position("left")
  ax.text(k - 0.5 + 0.35 * k / size, -0.55, "accuracy", fontsize=8, ha="left", va="bottom")
  x0, y0, w, h = ax.get_position().bounds
  cax = fig.add_axes((x0 + w + 0.95 / fig.get_figwidth(), y0 + 0.1 * h, 0.18 / fig.get_figwidth(),
                      0.8 * h))  # fmt: skip
  fig.colorbar(image, cax=cax, label="examples (log scale)")
  title_above(
    fig, title or f"Confusion matrix: {correct} / {total} correct ({correct / max(total, 1):.2%})"
  )
  return fig


def mistakes_figure(
  params: Params,
  data,
  *,
  count: int = 24,
  image_shape: tuple[int, int] | None = None,
  title: str | None = None,
):
  """The first `count` misclassified examples of a labelled set, in the set's order: each image
  with "label → answer" above it and its output activations as bars under it (the label's bar
  green, the wrong answer's red, each from 0 to 1).

  Returns:
    A matplotlib `Figure` (a note instead of images where nothing was misclassified).

  Raises:
    InputError: a population, or inputs that aren't an image.
  """
  return mistakes_figure_of(*outputs_of(params, data), count, image_shape, title)


def mistakes_figure_of(x, y, a, count, image_shape, title):
  rows, cols = image_shape_of(x.shape[1], image_shape)
  answer = a.argmax(1)
  wrong = np.flatnonzero(answer != y)
  shown = wrong[: max(1, int(count))]
  n_out = a.shape[1]
  grid_cols = min(8, max(1, len(shown)))
  grid_rows = max(1, math.ceil(len(shown) / grid_cols))
  # One axes in pixel units, one image (a mosaic) and one collection of bars, so that it draws
  # fast: each cell is its image, then bars `bar_h` pixels tall for the activations 0..1.
  gap_x, bar_h = max(4, cols // 5), max(8, rows // 2)
  cell_h = rows + 2 + bar_h + max(6, rows // 4) + max(4, rows // 5)
  width = grid_cols * (cols + gap_x) - gap_x + 1
  height = (grid_rows - 1) * cell_h + rows + 2 + bar_h + max(6, rows // 4) + 4
  inch = 1.2 / (cols + gap_x)
  fig, ax = framed(width * inch, height * inch, title=0.95, left=0.1, right=0.1, bottom=0.05)
  title_above(
    fig,
    title
    or f"The first {len(shown)} of {len(wrong)} mistakes on {len(y)} examples: label → answer; "
    "bars: the output activations, 0 to 1 (dotted)\n(the label's green, the answer's red)",
  )
  ax.set_axis_off()
  if not len(shown):
    ax.text(0.5, 0.5, "no mistakes", ha="center", va="center", transform=ax.transAxes)
    return fig
  images = x[shown].reshape(len(shown), rows, cols)
  grid = np.full((grid_rows * cell_h, grid_cols * (cols + gap_x)), np.nan)
  bar_w = cols / n_out
  bars, colors, lines, tops = [], [], [], []
  for k, i in enumerate(shown):
    r, c = divmod(k, grid_cols)
    left, top = c * (cols + gap_x), r * cell_h
    grid[top : top + rows, left : left + cols] = images[k]
    ax.text(left + cols / 2, top - 1, f"{y[i]} → {answer[i]}", ha="center", va="bottom", fontsize=8)
    base = top + rows + 2 + bar_h
    for d in range(n_out):  # a bar: its corners, from the base up to a[i, d] of bar_h
      x0, x1, top_d = (
        left - 0.5 + bar_w * (d + 0.1),
        left - 0.5 + bar_w * (d + 0.9),
        base - a[i, d] * bar_h,
      )
      bars.append([(x0, base), (x1, base), (x1, top_d), (x0, top_d)])
    colors += [
      "tab:green" if d == y[i] else "tab:red" if d == answer[i] else "0.55" for d in range(n_out)
    ]
    lines.append([(left - 0.5, base), (left + cols - 0.5, base)])
    tops.append([(left - 0.5, base - bar_h), (left + cols - 0.5, base - bar_h)])
    if c == 0 and n_out <= 10:  # the first cell of a row numbers its bars
      for d in range(n_out):
        ax.text(
          left - 0.5 + bar_w * (d + 0.5), base + 0.5, str(d), ha="center", va="top", fontsize=5,
          color="0.3",
        )  # fmt: skip
  from matplotlib.collections import LineCollection, PolyCollection

  vmax = max(1.0, float(np.nanmax(images)))
  ax.imshow(grid, cmap="gray", vmin=0, vmax=vmax, interpolation="nearest")
  ax.add_collection(PolyCollection(bars, facecolors=colors, linewidths=0))
  ax.add_collection(LineCollection(lines, colors="0.3", linewidths=0.5))
  ax.add_collection(LineCollection(tops, colors="0.75", linewidths=0.5, linestyles=":"))
  ax.set_xlim(-1, width - 1)
  ax.set_ylim(height - 4, -4)
  return fig
