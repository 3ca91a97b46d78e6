"""Your own data in a NumPy `.npz` file, in the book's three splits (`jaxnets.data.load_npz`).

Arrays `x` and `y`, or `x_train`, `y_train`, `x_test`, `y_test` (and optionally `x_validation`,
`y_validation`), as `np.savez` writes them; x of shape (n, ...) (images are flattened), y integer
labels (n,) or real regression targets (n, n_out). Read without pickle. The inputs are divided by
`scale` where given (255 for pixels 0..255), else taken as given, as float32; a missing test or
validation set is carved from the training examples as for a CSV file (`jaxnets.data.csvfile`).
Every problem is reported naming its array and index.
"""

import os
import zipfile

import numpy as np

from jaxnets.data.dataset import DataError, Splits
from jaxnets.data.splits import carve, scaled

__all__ = ["load_npz"]


LAYOUTS = (("x", "y"), ("x_train", "y_train", "x_test", "y_test"))


def _check_arrays(path: str, name: str, x: np.ndarray, y: np.ndarray, n_out: int | None):
  """x (n, ...) of numbers, finite; y integer labels (n,) ≥ 0 (< n_out) or real targets."""
  suffix = name[1:]  # "", "_train", ...
  if x.dtype.kind not in "biuf" or x.ndim < 2:
    raise DataError(
      f"npz file {path!r}: x{suffix} holds {x.dtype} of shape {x.shape}; expected numbers of "
      "shape (n, n_in) or images (n, rows, cols)"
    )
  if len(y) != len(x):
    raise DataError(
      f"npz file {path!r}: {len(x)} x{suffix} but {len(y)} y{suffix}; expected one each"
    )
  if x.dtype.kind == "f" and not np.isfinite(x).all():
    at = np.unravel_index(int(np.flatnonzero(~np.isfinite(x))[0]), x.shape)
    raise DataError(
      f"npz file {path!r}: x{suffix}{list(map(int, at))} = {x[at]}; expected finite numbers"
    )
  if y.dtype.kind in "iu" and y.ndim == 1:
    bad = (y < 0) | (y >= n_out) if n_out is not None else y < 0
    if bad.any():
      k = int(np.flatnonzero(bad)[0])
      why = "expected labels ≥ 0"
      if y[k] >= 0 and n_out is not None:
        why = (
          f"beyond the network's {n_out} outputs; expected labels 0..{n_out - 1} (or a "
          f"network of at least {int(y.max()) + 1} outputs)"
        )
      raise DataError(f"npz file {path!r}: y{suffix}[{k}] = {y[k]}: {why}")
    return
  if y.dtype.kind == "f" and y.ndim == 2:
    if not np.isfinite(y).all():
      at = np.unravel_index(int(np.flatnonzero(~np.isfinite(y))[0]), y.shape)
      raise DataError(
        f"npz file {path!r}: y{suffix}{list(map(int, at))} = {y[at]}; expected finite numbers"
      )
    if n_out is not None and y.shape[1] != n_out:
      raise DataError(
        f"npz file {path!r}: y{suffix} holds targets of shape {y.shape}; the network has "
        f"{n_out} outputs: expected ({len(y)}, {n_out})"
      )
    return
  raise DataError(
    f"npz file {path!r}: y{suffix} holds {y.dtype} of shape {y.shape}; expected integer class "
    "labels (n,) (y.astype(int)) or real regression targets (n, n_out)"
  )


def load_npz(
  path: str | os.PathLike,
  *,
  scale: float | None = None,
  validation_size: int | None = None,
  n_out: int | None = None,
) -> Splits:
  """An `.npz` file of arrays in the book's three splits (see the module's docstring).

  Args:
    path: the file: `x`, `y`; or `x_train`, `y_train`, `x_test`, `y_test` (and optionally
      `x_validation`, `y_validation`).
    scale: divide the inputs by this (255 for pixels 0..255); default: as given.
    validation_size: how many of the last training examples form the validation set, where the
      file has none.
    n_out: the network's outputs, where known: labels must be below it, targets as many.

  Returns:
    `Splits(train, validation, test)` as `load_csv` gives.

  Raises:
    DataError: one line naming the file, the array and the index of the first problem.
  """
  path = os.fspath(path)
  if not os.path.isfile(path):
    raise DataError(f"npz file {path!r} does not exist or is not a file")
  try:
    with np.load(path, allow_pickle=False) as npz:
      arrays = {k: npz[k] for k in npz.files}
  except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
    raise DataError(f"npz file {path!r} can't be read as an npz of arrays (no pickle): {e}") from e
  layout = next((keys for keys in LAYOUTS[::-1] if all(k in arrays for k in keys)), None)
  if layout is None:
    raise DataError(
      f"npz file {path!r} holds arrays {sorted(arrays) or 'none'}; expected x and y, or "
      "x_train, y_train, x_test and y_test"
    )
  names = ["_train", "_validation", "_test"] if len(layout) == 4 else [""]
  sets = {}
  for name in names:
    if f"x{name}" not in arrays or f"y{name}" not in arrays:
      continue
    x, y = arrays[f"x{name}"], arrays[f"y{name}"]
    _check_arrays(path, "x" + name, x, y, n_out)
    sets[name] = (scaled(x.reshape(len(x), -1), scale, path), y.astype(
      np.int32 if y.dtype.kind in "iu" else np.float32
    ))  # fmt: skip
  shapes = {name: a[0].shape[1:] for name, a in sets.items()}
  if len(set(shapes.values())) > 1:
    raise DataError(
      f"npz file {path!r}: the sets' inputs differ in shape ({shapes}); expected the same n_in"
    )
  train = sets.pop("_train" if len(layout) == 4 else "")
  return carve(
    f"npz file {path!r}", train, sets.get("_test"), sets.get("_validation"), validation_size
  )
