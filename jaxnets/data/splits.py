"""Splits common to every source: the validation set carved from the training set."""

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
