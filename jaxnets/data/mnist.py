"""Data: MNIST in the book's split, training 50,000 / validation 10,000 / test 10,000.

The book trains on the first 50,000 of MNIST's 60,000 training images, keeps the last 10,000
aside as a validation set (for choosing hyper-parameters such as η without looking at the test
set), and reports accuracy on the 10,000 test images. Each image is 28 × 28 = 784 greyscale
pixels, flattened to a vector and scaled to [0, 1].

MNIST ships inside the package (`jaxnets/assets/mnist.npz`), so this works offline; its sha256
is checked on every load.
"""

import functools
import hashlib
import mmap
import os
import zipfile
from importlib import resources

import numpy as np

from jaxnets.data.dataset import DataError, Dataset, Splits

MNIST_SHA256 = "06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64"


def sha256_of_file(path: str | os.PathLike) -> str:
  """The hex sha256 of a file's bytes, read in 1 MiB blocks."""
  digest = hashlib.sha256()
  with open(path, "rb") as f:
    for block in iter(lambda: f.read(1 << 20), b""):
      digest.update(block)
  return digest.hexdigest()


def bundled_mnist_path() -> str:
  """The path of the MNIST copy that ships inside the package."""
  return str(resources.files("jaxnets.data") / "assets" / "mnist.npz")


def _read_only(a: np.ndarray) -> np.ndarray:
  a.setflags(write=False)
  return a


def images_to_x(images: np.ndarray) -> np.ndarray:
  """uint8 images (n, ...) with pixels 0..255 → float32 x (n, prod(...)) in [0, 1].

  The result lives in its own anonymous memory map, page-aligned (JAX on the CPU then uses it in
  place) and not marked for transparent huge pages (docs/design.md says why).
  """
  flat = images.reshape(len(images), -1)
  buffer = mmap.mmap(-1, max(flat.size * 4, 1), flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
  x = np.frombuffer(buffer, np.float32, count=flat.size).reshape(flat.shape)
  return np.divide(flat, np.float32(255.0), out=x, dtype=np.float32)


@functools.lru_cache(maxsize=4)
def load_mnist(path: str | None = None, validation_size: int = 10_000) -> Splits:
  """MNIST in the book's split.

  Args:
    path: an `mnist.npz` with uint8 arrays x_train (60000, 28, 28), y_train, x_test, y_test;
      default the bundled copy, whose sha256 must be `MNIST_SHA256`.
    validation_size: how many of the last training images form the validation set.

  Returns:
    `Splits(train, validation, test)`; x float32 (n, 784) in [0, 1], labels int32 (n,). The
    arrays are read-only (they are cached and shared between callers).

  Raises:
    DataError: the file is missing, corrupt, or its checksum is not the bundled one's.
  """
  path = path or bundled_mnist_path()
  if not os.path.isfile(path):
    raise DataError(
      f"MNIST file {path!r} does not exist; expected an npz with x_train, y_train, "
      "x_test, y_test (reinstall jaxnets to restore the bundled copy)"
    )
  if path == bundled_mnist_path():
    actual = sha256_of_file(path)
    if actual != MNIST_SHA256:
      raise DataError(
        f"MNIST file {path!r} has sha256 {actual}; expected {MNIST_SHA256} "
        "(the file is corrupt or was replaced: reinstall jaxnets)"
      )
  try:
    with np.load(path, allow_pickle=False) as npz:
      arrays = {k: npz[k] for k in ("x_train", "y_train", "x_test", "y_test")}
  except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
    raise DataError(
      f"MNIST file {path!r} can't be read as an npz with x_train, y_train, x_test, y_test: {e}"
    ) from e
  n_train = len(arrays["x_train"])
  if not 0 <= validation_size < n_train:
    raise DataError(f"validation_size={validation_size}; expected 0 ≤ size < {n_train}")
  x_train = images_to_x(arrays["x_train"])
  y_train = arrays["y_train"].astype(np.int32)
  cut = n_train - validation_size
  return Splits(
    train=Dataset(_read_only(x_train[:cut]), _read_only(y_train[:cut])),
    validation=Dataset(_read_only(x_train[cut:]), _read_only(y_train[cut:])),
    test=Dataset(
      _read_only(images_to_x(arrays["x_test"])), _read_only(arrays["y_test"].astype(np.int32))
    ),
  )
