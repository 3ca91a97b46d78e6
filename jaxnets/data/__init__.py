"""Datasets by name, all in `load_mnist`'s form: the bundled MNIST, your own CSV and npz files,
IDX folders and TFDS.

`load_dataset(name)` returns `Splits(train, validation, test)` with float32 x (n, n_in) and int32
labels (n,) (or float32 regression targets (n, n_out), from a file), read-only, whatever the
source:

- `"mnist"`: the bundled MNIST (the default): offline and instant.
- `"PATH.csv"`, `"PATH.npz"`: your own data (`csvfile`, `npzfile`): a CSV with a label column
  (the first by default, `label_column=`) or target columns (`targets=`), with or without a
  header line; an npz of `x`/`y` or `x_train`/`y_train`/`x_test`/`y_test`. The inputs are
  divided by `scale` where given (255 for pixels), else taken as they are.
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

`to_mnist`, `read_image` and `load_digit` (`jaxnets.data.images`) bring your own digit, a photo or
a drawing, to MNIST's form, as `python -m jaxnets predict` does.

Where a dataset has no validation split, the last `validation_size` training examples form one
(by default a sixth of them, at most 10,000: MNIST's 60,000 give the book's 50,000 / 10,000).
Neither TensorFlow nor tensorflow-datasets is imported before a TFDS dataset is asked for.
"""

import os
from collections.abc import Sequence

from jaxnets.data.csvfile import load_csv
from jaxnets.data.dataset import DataError, Dataset, Splits
from jaxnets.data.idx import load_idx, read_idx
from jaxnets.data.images import load_digit, read_image, to_mnist
from jaxnets.data.mnist import bundled_mnist_path, load_mnist
from jaxnets.data.npzfile import load_npz
from jaxnets.data.splits import default_validation_size
from jaxnets.data.tfds import load_tfds, tfds_data_dir

__all__ = [
  "DataError",
  "Dataset",
  "Splits",
  "bundled_mnist_path",
  "default_validation_size",
  "load_csv",
  "load_dataset",
  "load_digit",
  "load_idx",
  "load_mnist",
  "load_npz",
  "load_tfds",
  "read_idx",
  "read_image",
  "tfds_data_dir",
  "to_mnist",
]


def load_dataset(
  name: str = "mnist",
  data_dir: str | os.PathLike | None = None,
  validation_size: int | None = None,
  *,
  label_column: int | str | None = None,
  targets: Sequence[int | str] | None = None,
  scale: float | None = None,
  n_out: int | None = None,
) -> Splits:
  """A dataset by name, in the book's three splits.

  Args:
    name: `"mnist"` (bundled), a `.csv` or `.npz` file, `"idx:PATH"` or a folder PATH (IDX
      files), or a TFDS name, optionally prefixed `"tfds:"` (`"fashion_mnist"`,
      `"emnist/digits"`, `"tfds:mnist"`).
    data_dir: where prepared TFDS datasets are searched and prepared; default
      `$TFDS_DATA_DIR`, else `~/tensorflow_datasets`. Only TFDS names use it.
    validation_size: how many of the last training examples form the validation set where the
      dataset has none; default `default_validation_size(n_train)` (10,000 for MNIST).
    label_column, targets, scale, n_out: for a `.csv` or `.npz` file only (`load_csv`,
      `load_npz`): the label column (a CSV's; default the first) or the regression target
      columns; what the inputs are divided by (255 for pixels); the network's outputs, to check
      the labels against with the line and column of the first bad one.

  Returns:
    `Splits(train, validation, test)`: x float32 (n, n_in), labels int32 (n,) (or a file's
    regression targets, float32 (n, n_out)); x in [0, 1] for every source but a file, which is
    scaled as asked. The arrays are read-only (cached and shared between callers).

  Raises:
    DataError: an unknown name (with close matches), missing or corrupt files (naming the line
      and column, or the array and index, of a file's first problem), a dataset that isn't
      image classification, or one that is neither prepared nor can be prepared here.
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
  options = {"label_column": label_column, "targets": targets, "scale": scale}
  given = [k for k, v in options.items() if v is not None]
  kind = os.path.splitext(name)[1].lower()
  if kind in (".csv", ".npz"):
    if kind == ".npz":
      if label_column is not None or targets is not None:
        raise DataError(
          f"label_column and targets choose a CSV's columns; {name!r} is an npz, whose y holds "
          "labels (n,) or targets (n, n_out)"
        )
      return load_npz(name, scale=scale, validation_size=validation_size, n_out=n_out)
    return load_csv(
      name, label_column=label_column, targets=targets, scale=scale,
      validation_size=validation_size, n_out=n_out,
    )  # fmt: skip
  if given:
    raise DataError(
      f"{', '.join(given)} {'applies' if len(given) == 1 else 'apply'} to a .csv or .npz file; "
      f"dataset {name!r} is not one"
    )
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
