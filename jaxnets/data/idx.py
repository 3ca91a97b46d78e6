"""IDX folders: MNIST's original format, gzipped or not (e.g. Debian's Fashion-MNIST)."""

import functools
import gzip
import math
import os
import struct
import zlib

import numpy as np

from jaxnets.data.dataset import DataError, Splits
from jaxnets.data.splits import _split

IDX_FILES = {
  "train_images": "train-images-idx3-ubyte",
  "train_labels": "train-labels-idx1-ubyte",
  "test_images": "t10k-images-idx3-ubyte",
  "test_labels": "t10k-labels-idx1-ubyte",
}
# IDX type codes (the magic number's third byte) → big-endian numpy dtypes.
IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | os.PathLike) -> np.ndarray:
  """An IDX file, MNIST's original format, gzipped or not.

  Args:
    path: the file: magic 00 00 TT NN (TT the element type, NN the number of dimensions), NN
      big-endian uint32 sizes, then the elements, big-endian.

  Returns:
    The array, of the file's shape and element type (native byte order).

  Raises:
    DataError: the file is missing, not IDX, or truncated or corrupt (its size isn't the one its
      header gives).
  """
  path = os.fspath(path)
  try:
    with open(path, "rb") as f:
      raw = f.read()
    if raw[:2] == b"\x1f\x8b":
      raw = gzip.decompress(raw)
  except FileNotFoundError as e:
    raise DataError(f"IDX file {path!r} does not exist") from e
  except (OSError, EOFError, zlib.error) as e:
    raise DataError(f"IDX file {path!r} can't be read or decompressed ({e}); it is corrupt") from e
  if len(raw) < 4 or raw[:2] != b"\0\0" or raw[2] not in IDX_DTYPES or raw[3] == 0:
    raise DataError(
      f"IDX file {path!r} starts with bytes {raw[:4].hex(' ') or '(none)'}; expected the IDX "
      "magic 00 00 TT NN, TT a type code (08 = uint8, ...) and NN ≥ 1 dimensions"
    )
  ndim = raw[3]
  header = 4 + 4 * ndim
  if len(raw) < header:
    raise DataError(
      f"IDX file {path!r} has {len(raw)} bytes; expected a header of {header} bytes for "
      f"{ndim} dimensions (the file is truncated)"
    )
  shape = struct.unpack(f">{ndim}I", raw[4:header])
  dtype = np.dtype(IDX_DTYPES[raw[2]])
  expected = math.prod(shape) * dtype.itemsize
  if len(raw) - header != expected:
    raise DataError(
      f"IDX file {path!r} has {len(raw) - header} bytes after its header; expected {expected} "
      f"for {dtype.name} elements of shape {shape} (the file is truncated or corrupt)"
    )
  return np.frombuffer(raw, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def _idx_file(folder: str, stem: str) -> str | None:
  """`stem` in `folder`, with or without `.gz`, also spelt `train-images.idx3-ubyte`."""
  dotted = stem.replace("-idx", ".idx")
  for candidate in (stem, stem + ".gz", dotted, dotted + ".gz"):
    path = os.path.join(folder, candidate)
    if os.path.isfile(path):
      return path
  return None


def load_idx(path: str | os.PathLike, validation_size: int | None = None) -> Splits:
  """A folder of IDX files in the book's three splits.

  Args:
    path: a folder holding `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
      `t10k-images-idx3-ubyte` and `t10k-labels-idx1-ubyte`, each possibly `.gz`: uint8 images
      (n, rows, cols) and integer labels (n,).
    validation_size: how many of the last training images form the validation set; default
      `default_validation_size(n_train)`.

  Returns:
    `Splits(train, validation, test)` as `load_dataset` gives.

  Raises:
    DataError: the folder or a file is missing, corrupt, or of the wrong shape or type.
  """
  folder = os.path.abspath(os.path.expanduser(os.fspath(path)))
  return _load_idx_cached(folder, validation_size)


@functools.lru_cache(maxsize=4)
def _load_idx_cached(folder: str, validation_size: int | None) -> Splits:
  expected = ", ".join(f"{stem}[.gz]" for stem in IDX_FILES.values())
  if not os.path.isdir(folder):
    raise DataError(f"IDX folder {folder!r} does not exist or is not a folder; expected {expected}")
  files = {role: _idx_file(folder, stem) for role, stem in IDX_FILES.items()}
  missing = [IDX_FILES[role] for role, f in files.items() if f is None]
  if missing:
    raise DataError(
      f"IDX folder {folder!r} lacks {', '.join(missing)} (it holds "
      f"{sorted(os.listdir(folder)) or 'nothing'}); expected {expected}"
    )
  arrays = {role: read_idx(f) for role, f in files.items() if f is not None}
  for split in ("train", "test"):
    images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
    if images.dtype != np.uint8 or images.ndim < 2:
      raise DataError(
        f"IDX file {files[f'{split}_images']!r} holds {images.dtype} of shape {images.shape}; "
        "expected uint8 images (n, rows, cols)"
      )
    if not np.issubdtype(labels.dtype, np.integer) or labels.ndim != 1:
      raise DataError(
        f"IDX file {files[f'{split}_labels']!r} holds {labels.dtype} of shape {labels.shape}; "
        "expected integer labels (n,)"
      )
    if len(labels) != len(images):
      raise DataError(
        f"IDX folder {folder!r}: {len(labels)} {split} labels for {len(images)} {split} "
        "images; expected one label per image"
      )
    if labels.size and labels.min() < 0:
      raise DataError(
        f"IDX file {files[f'{split}_labels']!r} holds label {labels.min()}; expected labels ≥ 0"
      )
  if arrays["train_images"].shape[1:] != arrays["test_images"].shape[1:]:
    raise DataError(
      f"IDX folder {folder!r}: train images are {arrays['train_images'].shape[1:]} but test "
      f"images {arrays['test_images'].shape[1:]}; expected the same image shape"
    )
  return _split(
    f"IDX folder {folder!r}",
    (arrays["train_images"], arrays["train_labels"]),
    (arrays["test_images"], arrays["test_labels"]),
    None,
    validation_size,
  )
