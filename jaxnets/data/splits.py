"""Splits common to every source: the validation (and a missing test) set carved from the
training set; a file's inputs scaled."""

import math

import numpy as np

from jaxnets.data.dataset import DataError, Dataset, Splits
from jaxnets.data.mnist import images_to_x


def default_validation_size(n_train: int) -> int:
  """A sixth of the training examples, at most 10,000 (MNIST: 60,000 → 10,000)."""
  return min(10_000, n_train // 6)


def _read_only(a: np.ndarray) -> np.ndarray:
  a.setflags(write=False)
  return a


def _split(
  name: str,
  train: tuple[np.ndarray, np.ndarray],
  test: tuple[np.ndarray, np.ndarray],
  validation: tuple[np.ndarray, np.ndarray] | None,
  validation_size: int | None,
) -> Splits:
  """uint8 images and integer labels per split → `Splits`, carving validation from train."""
  (x_train, y_train), (x_test, y_test) = train, test
  if validation is None:
    n_train = len(x_train)
    size = default_validation_size(n_train) if validation_size is None else validation_size
    if not 0 <= size < n_train:
      raise DataError(
        f"{name}: validation_size={size}; expected 0 ≤ size < {n_train} (the training examples)"
      )
    cut = n_train - size
    validation = x_train[cut:], y_train[cut:]
    x_train, y_train = x_train[:cut], y_train[:cut]

  def dataset(x, y):
    return Dataset(_read_only(images_to_x(x)), _read_only(np.asarray(y).astype(np.int32)))

  return Splits(dataset(x_train, y_train), dataset(*validation), dataset(x_test, y_test))


def scaled(x: np.ndarray, scale: float | None, where: str) -> np.ndarray:
  """Inputs as float32, divided by `scale` (in float32, as MNIST's bytes are: k / 255)."""
  if scale is not None and (
    isinstance(scale, bool) or not isinstance(scale, (int, float)) or not 0 < scale < math.inf
  ):
    raise DataError(f"scale={scale!r}; expected a finite number > 0 (255 for pixels 0..255)")
  x = x.astype(np.float32)
  return x if scale is None else np.divide(x, np.float32(scale), dtype=np.float32)


def carve(
  where: str,
  train: tuple[np.ndarray, np.ndarray],
  test: tuple[np.ndarray, np.ndarray] | None,
  validation: tuple[np.ndarray, np.ndarray] | None,
  validation_size: int | None,
) -> Splits:
  """The three splits, carving a missing test set and then a missing validation set from the end
  of the training examples (a sixth each, at most 10,000; `validation_size` to choose)."""
  x, y = train
  n = len(x)
  if test is None:
    need = 7 if validation is None and validation_size is None else 2
    if n < need:
      raise DataError(
        f"{where} has {n} example{'' if n == 1 else 's'}; expected at least {need}: the last "
        "sixth is the test set"
        + (", the last sixth of the rest the validation set" if need == 7 else "")
        + ", each of at least one example"
      )
    cut = n - max(1, default_validation_size(n))
    test, (x, y) = (x[cut:], y[cut:]), (x[:cut], y[:cut])
  if validation is None:
    size = max(1, default_validation_size(len(x))) if validation_size is None else validation_size
    if not 0 <= size < len(x):
      raise DataError(
        f"{where}: validation_size={size}; expected 0 ≤ size < {len(x)} (the training examples)"
      )
    cut = len(x) - size
    validation, (x, y) = (x[cut:], y[cut:]), (x[:cut], y[:cut])
  return Splits(*(Dataset(_read_only(a), _read_only(b)) for a, b in ((x, y), validation, test)))
