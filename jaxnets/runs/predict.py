"""`python -m jaxnets predict`: the digit a trained network sees in your own images.

Each image file is brought to MNIST's form (`jaxnets.data.images`), fed forward, and answered on
one line: the digit (the most activated output) and the ten output activations. `show` prints
beside it the 28 × 28 image the network saw, as text; `save_seen` writes it as a PNG. A file
that can't be read gets one line on stderr, and the others are still answered.
"""

import io
import os
import sys

import numpy as np

from jaxnets._checks import check_params, network_or_population
from jaxnets._files import write_atomic
from jaxnets.data.dataset import DataError
from jaxnets.data.images import load_digit
from jaxnets.network import Params, feedforward
from jaxnets.runs.checkpoint import CheckpointError, load_params

__all__ = ["answer_line", "load_network", "main", "seen_text", "write_seen"]

LEVELS = " .:-=+*#%@"
"""Characters for ink from 0 (none) to 1 (full), for `seen_text`."""


def load_network(path: str) -> Params:
  """One network from a run's folder (its params.npz), a params.npz or a checkpoint.npz."""
  file = os.path.join(path, "params.npz") if os.path.isdir(path) else path
  if os.path.isdir(path) and not os.path.isfile(file):
    raise CheckpointError(
      f"run folder {path!r} holds no params.npz (a run writes it when it ends); expected a "
      "finished run's folder, or a params.npz or checkpoint.npz"
    )
  params = load_params(file)
  members, _ = network_or_population(params)
  if members is not None:
    raise CheckpointError(
      f"{file!r} holds a population of {members} networks; expected one network (save one "
      "with jaxnets.save_params(path, jaxnets.member(params, k)))"
    )
  return params


def answer_line(name: str, activations: np.ndarray) -> str:
  """ "digit.png: 7   0 0.001  1 0.000 ... 7 0.982 ...": the answer, then every activation."""
  outputs = "  ".join(f"{d} {a:.3f}" for d, a in enumerate(activations))
  return f"{name}: {int(np.argmax(activations))}   {outputs}"


def seen_text(x: np.ndarray, activations: np.ndarray) -> str:
  """The image the network saw, two characters a pixel, with a bar per output beside it."""
  side = int(round(len(x) ** 0.5))
  image = np.clip(x.reshape(side, side), 0, 1)
  lines = ["".join(2 * LEVELS[min(int(v * len(LEVELS)), len(LEVELS) - 1)] for v in row)
           for row in image]  # fmt: skip
  top = max(0, (side - len(activations)) // 2)
  for d, a in enumerate(activations):
    if top + d < len(lines):
      lines[top + d] += f"   {d} {'█' * round(float(a) * 20):<20} {a:.3f}"
  return "\n".join("  |" + line for line in lines)


def write_seen(folder: str, name: str, x: np.ndarray) -> str:
  """Writes the image the network saw as FOLDER/NAME.png (grayscale, side × side)."""
  from PIL import Image

  side = int(round(len(x) ** 0.5))
  pixels = np.round(np.clip(x.reshape(side, side), 0, 1) * 255).astype(np.uint8)
  buffer = io.BytesIO()
  Image.fromarray(pixels, mode="L").save(buffer, format="PNG")
  path = os.path.join(folder, os.path.splitext(os.path.basename(name))[0] + ".png")
  write_atomic(path, buffer.getvalue())
  return path


def main(
  network: str, images: list[str], *, show: bool = False, save_seen: str | None = None
) -> int:
  """Answers every image; returns the exit status: 0, or 2 if a file could not be answered.

  Args:
    network: a run's folder, or a params.npz or checkpoint.npz.
    images: image files (PNG, JPEG, ...) or .npy arrays.
    show: print the image the network saw beside each answer.
    save_seen: a folder to write the image the network saw into, as NAME.png.

  Raises:
    CheckpointError: the network can't be loaded; DataError: `save_seen` is not a folder (both
      before any image is read).
  """
  params = load_network(network)
  sizes = check_params(params)
  if save_seen is not None and not os.path.isdir(save_seen):
    raise DataError(f"--save-seen {save_seen!r} is not a folder; expected an existing folder")
  failed = 0
  for path in images:
    try:
      x = load_digit(path, sizes[0])
    except DataError as e:
      print(f"error: {e}", file=sys.stderr, flush=True)
      failed += 1
      continue
    activations = np.asarray(feedforward(params, x), np.float64)
    print(answer_line(path, activations))
    if show:
      print(seen_text(x, activations))
    if save_seen is not None:
      print(f"  the image it saw: {write_seen(save_seen, path, x)}")
  return 2 if failed else 0
