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

import difflib
import functools
import gzip
import importlib.util
import math
import os
import socket
import struct
import threading
import time
import urllib.parse
import urllib.request
import zlib

import numpy as np

from jaxnets.data import DataError, Dataset, Splits, images_to_x, load_mnist

IDX_FILES = {
  "train_images": "train-images-idx3-ubyte",
  "train_labels": "train-labels-idx1-ubyte",
  "test_images": "t10k-images-idx3-ubyte",
  "test_labels": "t10k-labels-idx1-ubyte",
}
# IDX type codes (the magic number's third byte) → big-endian numpy dtypes.
IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
PROBE_SECONDS = 3.0
INSTALL_HINT = "pip install 'jaxnets[tfds]'"


def default_validation_size(n_train: int) -> int:
  """A sixth of the training examples, at most 10,000 (MNIST: 60,000 → 10,000)."""
  return min(10_000, n_train // 6)


def tfds_data_dir(data_dir: str | os.PathLike | None = None) -> str:
  """The folder searched for prepared TFDS datasets: `data_dir`, else `$TFDS_DATA_DIR`, else
  `~/tensorflow_datasets` (TFDS's own rule)."""
  if data_dir is not None:
    return os.fspath(data_dir)
  return os.environ.get("TFDS_DATA_DIR") or os.path.join(
    os.path.expanduser("~"), "tensorflow_datasets"
  )


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


# --- IDX folders -------------------------------------------------------------------------------


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
  arrays = {role: read_idx(f) for role, f in files.items()}
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


# --- tensorflow-datasets -----------------------------------------------------------------------


def load_tfds(
  name: str, data_dir: str | os.PathLike | None = None, validation_size: int | None = None
) -> Splits:
  """A tensorflow-datasets image-classification dataset in the book's three splits.

  Args:
    name: a TFDS name, `"NAME[/CONFIG][:VERSION]"` (`"fashion_mnist"`, `"emnist/digits"`), or
      the folder of a prepared dataset version (one holding `dataset_info.json`).
    data_dir: where prepared datasets are searched, and prepared if missing; default
      `tfds_data_dir()`.
    validation_size: how many of the last training examples form the validation set where the
      dataset has no validation split; default `default_validation_size(n_train)`.

  Returns:
    `Splits(train, validation, test)` as `load_dataset` gives.

  Raises:
    DataError: see `load_dataset`.
  """
  return _load_tfds_cached(name, tfds_data_dir(data_dir), validation_size)


def _import_tfds():
  try:
    import tensorflow_datasets as tfds
  except ImportError as e:
    raise DataError(
      f"TFDS datasets need tensorflow-datasets, which can't be imported ({e}); expected it "
      f"installed: {INSTALL_HINT}, or use --dataset mnist or --dataset idx:PATH"
    ) from e
  return tfds


def _close_matches(tfds, name: str) -> str:
  """' Did you mean ...?' for an unknown dataset (or config) name, or ''."""
  base, _, config = name.partition(":")[0].partition("/")
  if config:
    try:
      configs = [f"{base}/{c}" for c in tfds.builder_cls(base).builder_configs]
    except Exception:  # noqa: BLE001 (an unknown base name: suggest datasets instead)
      configs = []
    if configs:
      matches = difflib.get_close_matches(name, configs, n=5, cutoff=0.5) or configs[:10]
      return f" Did you mean {', '.join(matches)}?"
  names = list(tfds.list_builders(with_community_datasets=False)) + ["mnist", "idx:PATH"]
  matches = difflib.get_close_matches(base.lower().replace("-", "_"), names, n=5, cutoff=0.6)
  return f" Did you mean {', '.join(matches)}?" if matches else ""


def _builder(tfds, name: str, data_dir: str):
  if os.path.isfile(os.path.join(name, "dataset_info.json")):
    try:
      return tfds.builder_from_directory(name)
    except Exception as e:
      raise DataError(f"prepared TFDS dataset folder {name!r} can't be read: {e}") from e
  try:
    return tfds.builder(name, data_dir=data_dir)
  except tfds.core.DatasetNotFoundError as e:
    raise DataError(
      f"dataset {name!r} is not the bundled 'mnist', an IDX folder or a TFDS dataset (nor a "
      f"dataset prepared in {data_dir!r}).{_close_matches(tfds, name)}"
    ) from e
  except (ValueError, AssertionError) as e:
    first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    raise DataError(f"TFDS dataset {name!r}: {first}.{_close_matches(tfds, name)}") from e


def _image_label_keys(tfds, builder, name: str) -> tuple[str, str]:
  """The image and label features of an image-classification dataset."""
  info = builder.info
  keys = info.supervised_keys or ("image", "label")
  features = info.features
  found = {k: type(v).__name__ for k, v in features.items()}
  expected = (
    "expected an image-classification dataset: a fixed-shape uint8 image feature and a "
    "ClassLabel, such as mnist, fashion_mnist, kmnist, emnist/digits, cifar10"
  )
  if (
    not isinstance(keys, tuple)
    or len(keys) != 2
    or not all(isinstance(k, str) and k in features for k in keys)
  ):
    raise DataError(f"TFDS dataset {name!r} has features {found}; {expected}")
  image_key, label_key = keys
  image, label = features[image_key], features[label_key]
  if not isinstance(label, tfds.features.ClassLabel) or not isinstance(
    image, (tfds.features.Image, tfds.features.Tensor)
  ):
    raise DataError(f"TFDS dataset {name!r} has features {found}; {expected}")
  shape = tuple(image.shape)
  if np.dtype(image.np_dtype) != np.uint8 or not shape or None in shape or -1 in shape:
    raise DataError(
      f"TFDS dataset {name!r} has {image_key} of {np.dtype(image.np_dtype).name} and shape "
      f"{shape}; {expected}"
    )
  return image_key, label_key


def installed(module: str) -> bool:
  """Whether `module` can be imported (without importing it)."""
  try:
    return importlib.util.find_spec(module) is not None
  except (ImportError, ValueError):
    return False


def _proxy_or_host(url: str) -> tuple[str, int] | None:
  """(host, port) that a download of `url` first connects to: its proxy, else its host."""
  parts = urllib.parse.urlsplit(url)
  if not parts.hostname:
    return None
  proxy = urllib.request.getproxies().get(parts.scheme)
  if proxy and not urllib.request.proxy_bypass(parts.hostname):
    proxy_parts = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    if proxy_parts.hostname:
      return proxy_parts.hostname, proxy_parts.port or 80
  return parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)


def download_hosts(builder) -> list[tuple[str, int]]:
  """The (host, port)s a builder downloads from (its checksums file), else Google Storage's."""
  try:
    urls = list(type(builder).url_infos or ())
  except Exception:  # noqa: BLE001 (no checksums file, or tensorflow/datasets#11212)
    urls = []
  hosts = {hp for hp in map(_proxy_or_host, urls) if hp}
  return sorted(hosts) or [_proxy_or_host("https://storage.googleapis.com/")]


def unreachable(hosts: list[tuple[str, int]], timeout: float = PROBE_SECONDS) -> str | None:
  """None if any of `hosts` accepts a TCP connection within `timeout` seconds, else why not.

  The hosts are tried at once, in daemon threads, so this returns within about `timeout`
  seconds even where name resolution hangs.
  """
  results: dict[tuple[str, int], str | None] = {}

  def connect(host: str, port: int) -> None:
    try:
      with socket.create_connection((host, port), timeout=timeout):
        results[host, port] = None
    except OSError as e:
      results[host, port] = str(e) or type(e).__name__

  threads = [threading.Thread(target=connect, args=hp, daemon=True) for hp in hosts]
  for t in threads:
    t.start()
  deadline = time.monotonic() + timeout + 0.5
  for t in threads:
    t.join(max(0.0, deadline - time.monotonic()))
    if any(results.get(hp, "") is None for hp in hosts):
      return None
  return "; ".join(
    f"{h}:{p}: {results.get((h, p), f'no answer within {timeout:g} s')}" for h, p in hosts
  )


def _not_prepared(name: str, builder, data_dir: str, why: str) -> DataError:
  where = os.fspath(builder.data_path) if hasattr(builder, "data_path") else data_dir
  return DataError(
    f"TFDS dataset {name!r} is not prepared in data_dir {data_dir!r} (no {where!r}) and can't "
    f"be prepared here: {why}. To use it, on a machine that is online run {INSTALL_HINT} and "
    f"python -c \"import jaxnets; jaxnets.load_dataset('{name}')\", then copy its "
    f"~/tensorflow_datasets/{name.split('/')[0].split(':')[0]} folder into {data_dir!r} here "
    "(or pass --data-dir / set TFDS_DATA_DIR to where it is); or use an IDX folder with "
    "--dataset idx:PATH, or the bundled --dataset mnist"
  )


def _prepare(tfds, builder, name: str, data_dir: str) -> None:
  """Downloads and prepares `builder` in array_record form, or fails fast saying why not."""
  missing = [m for m in ("tensorflow", "importlib_resources") if not installed(m)]
  if missing:
    raise _not_prepared(
      name, builder, data_dir, f"preparing needs {' and '.join(missing)}, not installed"
    )
  problem = unreachable(download_hosts(builder))
  if problem is not None:
    raise _not_prepared(name, builder, data_dir, f"its download can't be reached ({problem})")
  try:
    builder.download_and_prepare(
      file_format="array_record",
      download_config=tfds.download.DownloadConfig(try_download_gcs=False),
    )
  except Exception as e:
    why = f"preparing failed ({type(e).__name__}: {e})"
    raise _not_prepared(name, builder, data_dir, why) from e


def _read_split(tfds, builder, name: str, split: str, keys: tuple[str, str]):
  """A split's (uint8 images, labels): random access where the format allows, else TF."""
  image_key, label_key = keys
  try:
    source = builder.as_data_source(split=split)
  except NotImplementedError as e:  # tfrecord and other sequential formats
    file_format = getattr(builder.info.file_format, "value", builder.info.file_format)
    if not installed("tensorflow"):
      raise DataError(
        f"TFDS dataset {name!r} in {os.fspath(builder.data_path)!r} is stored as "
        f"{file_format}, which only TensorFlow reads; expected TensorFlow "
        f"installed ({INSTALL_HINT}), or the dataset prepared as array_record (delete the "
        "folder and load it again with TensorFlow installed)"
      ) from e
    batch = tfds.as_numpy(builder.as_dataset(split=split, batch_size=-1))
    return np.asarray(batch[image_key]), np.asarray(batch[label_key])
  needs_pillow = isinstance(builder.info.features[image_key], tfds.features.Image)
  if needs_pillow and not installed("PIL"):
    raise DataError(
      f"TFDS dataset {name!r} stores PNG images, which need Pillow to decode; expected Pillow "
      f"installed: {INSTALL_HINT} (or pip install pillow)"
    )
  n = len(source)
  images = np.empty((n, *builder.info.features[image_key].shape), np.uint8)
  labels = np.empty(n, np.int64)
  for i in range(n):
    example = source[i]
    images[i] = example[image_key]
    labels[i] = example[label_key]
  return images, labels


@functools.lru_cache(maxsize=4)
def _load_tfds_cached(name: str, data_dir: str, validation_size: int | None) -> Splits:
  tfds = _import_tfds()
  builder = _builder(tfds, name, data_dir)
  keys = _image_label_keys(tfds, builder, name)
  if not builder.is_prepared():
    _prepare(tfds, builder, name, data_dir)
  splits = list(builder.info.splits)
  for required in ("train", "test"):
    if required not in splits:
      raise DataError(
        f"TFDS dataset {name!r} has splits {splits}; expected 'train' and 'test' "
        "(and optionally 'validation')"
      )
  read = functools.partial(_read_split, tfds, builder, name, keys=keys)
  validation = read("validation") if "validation" in splits else None
  return _split(f"TFDS dataset {name!r}", read("train"), read("test"), validation, validation_size)
