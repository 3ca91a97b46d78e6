"""tensorflow-datasets image-classification datasets, read without TensorFlow where possible."""

import contextlib
import functools
import importlib.util
import logging
import os
import socket
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator

import numpy as np

from jaxnets.data.dataset import DataError, Splits
from jaxnets.data.names import NAME, close_matches, unknown
from jaxnets.data.splits import _split

PROBE_SECONDS = 3.0
INSTALL_HINT = "pip install 'jaxnets[tfds]'"


def tfds_data_dir(data_dir: str | os.PathLike | None = None) -> str:
  """The folder searched for prepared TFDS datasets: `data_dir`, else `$TFDS_DATA_DIR`, else
  `~/tensorflow_datasets` (TFDS's own rule)."""
  if data_dir is not None:
    return os.fspath(data_dir)
  return os.environ.get("TFDS_DATA_DIR") or os.path.join(
    os.path.expanduser("~"), "tensorflow_datasets"
  )


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


@contextlib.contextmanager
def _quiet_absl() -> Iterator[None]:
  """TFDS's absl warnings (e.g. about a dataset folder not yet prepared) held back: whatever
  matters reaches the user as a `DataError`."""
  logger = logging.getLogger("absl")
  level = logger.level
  logger.setLevel(logging.ERROR)
  try:
    yield
  finally:
    logger.setLevel(level)


def _builder(tfds, name: str, data_dir: str):
  if os.path.isfile(os.path.join(name, "dataset_info.json")):
    try:
      return tfds.builder_from_directory(name)
    except Exception as e:
      raise DataError(f"prepared TFDS dataset folder {name!r} can't be read: {e}") from e
  if not NAME.fullmatch(name):
    raise unknown(tfds, name, data_dir)
  try:
    return tfds.builder(name, data_dir=data_dir)
  except tfds.core.DatasetNotFoundError as e:
    raise unknown(tfds, name, data_dir) from e
  except (ValueError, AssertionError) as e:
    base, _, config = name.partition(":")[0].partition("/")
    if config and base in tfds.list_builders(with_community_datasets=False):
      why = f"the TFDS dataset {base!r} has no config {config!r}"
    else:
      why = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    raise DataError(f"dataset {name!r}: {why}{close_matches(tfds, name)}") from e


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
  return sorted(hosts) or [("storage.googleapis.com", 443)]


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
  with _quiet_absl():
    return _load(name, data_dir, validation_size)


def _load(name: str, data_dir: str, validation_size: int | None) -> Splits:
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
