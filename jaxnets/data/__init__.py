"""Datasets by name, all in `load_mnist`'s form: the bundled MNIST, TFDS, and IDX folders.

`load_dataset(name)` returns `Splits(train, validation, test)` with float32 x (n, n_in) in
[0, 1] and int32 labels (n,), read-only, whatever the source:

- `"mnist"`: the bundled MNIST (the default): offline and instant.
- `"idx:PATH"`, or a folder PATH: a folder of IDX files, MNIST's original format
  (`train-images-idx3-ubyte[.gz]`, `train-labels-idx1-ubyte[.gz]`, `t10k-images-idx3-ubyte[.gz]`,
  `t10k-labels-idx1-ubyte[.gz]`), as Debian's `dataset-fashion-mnist` installs in
  /usr/share/datasets/fashion-mnist.
- any other name, or `"tfds:NAME"`: a tensorflow-datasets image-classification dataset
  (`fashion_mnist`, `kmnist`, `emnist/digits`, `tfds:mnist`, ...). A prepared copy in `data_dir`
  is read without TensorFlow where its file format allows (array_record, as this module
  prepares them; Pillow decodes the images); one that isn't prepared is downloaded and prepared
  there, which needs TensorFlow (`pip install 'jaxnets[tfds]'`) and the internet. When neither
  is to be had, a `DataError` says so within seconds rather than after minutes of retries.

Where a dataset has no validation split, the last `validation_size` training examples form one
(by default a sixth of them, at most 10,000: MNIST's 60,000 give the book's 50,000 / 10,000).
Neither TensorFlow nor tensorflow-datasets is imported before a TFDS dataset is asked for.
"""

import os

from jaxnets.data.dataset import DataError, Dataset, Splits
from jaxnets.data.idx import load_idx, read_idx
from jaxnets.data.mnist import bundled_mnist_path, load_mnist
from jaxnets.data.splits import default_validation_size
from jaxnets.data.tfds import load_tfds, tfds_data_dir

__all__ = [
  "DataError",
  "Dataset",
  "Splits",
  "bundled_mnist_path",
  "default_validation_size",
  "load_dataset",
  "load_idx",
  "load_mnist",
  "load_tfds",
  "read_idx",
  "tfds_data_dir",
]


def load_dataset(
  name: str = "mnist",
  data_dir: str | os.PathLike | None = None,
  validation_size: int | None = None,
) -> Splits:
  """A dataset by name, in the book's three splits.

  Args:
    name: `"mnist"` (bundled), `"idx:PATH"` or a folder PATH (IDX files), or a TFDS name,
      optionally prefixed `"tfds:"` (`"fashion_mnist"`, `"emnist/digits"`, `"tfds:mnist"`).
    data_dir: where prepared TFDS datasets are searched and prepared; default
      `$TFDS_DATA_DIR`, else `~/tensorflow_datasets`. Only TFDS names use it.
    validation_size: how many of the last training examples form the validation set where the
      dataset has none; default `default_validation_size(n_train)` (10,000 for MNIST).

  Returns:
    `Splits(train, validation, test)`: x float32 (n, n_in) in [0, 1], labels int32 (n,); the
    arrays are read-only (cached and shared between callers).

  Raises:
    DataError: an unknown name (with close matches), missing or corrupt files, a dataset that
      isn't image classification, or one that is neither prepared nor can be prepared here.
  """
  if not isinstance(name, str) or not name.strip():
    raise DataError(
      f"dataset {name!r} is empty; expected 'mnist', 'idx:PATH' or a TFDS name such as "
      "'fashion_mnist'"
    )
  if validation_size is not None and (
    isinstance(validation_size, bool) or not isinstance(validation_size, int) or validation_size < 0
  ):
    raise DataError(f"validation_size={validation_size!r}; expected an integer ≥ 0 or None")
  if name == "mnist":
    return load_mnist() if validation_size is None else load_mnist(validation_size=validation_size)
  if name.startswith("idx:"):
    return load_idx(name[len("idx:") :], validation_size)
  if name.startswith("tfds:"):
    return load_tfds(name[len("tfds:") :], data_dir, validation_size)
  if os.sep in name and os.path.isdir(name):
    if os.path.isfile(os.path.join(name, "dataset_info.json")):
      return load_tfds(name, data_dir, validation_size)
    return load_idx(name, validation_size)
  return load_tfds(name, data_dir, validation_size)
