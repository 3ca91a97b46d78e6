"""Datasets by name: IDX folders the tests write, TFDS (mocked, and tiny datasets built here)."""

import gzip
import json
import os
import socket
import struct
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest
import tensorflow_datasets as tfds

import jaxnets
import jaxnets as jn
from jaxnets.cli import main
from jaxnets.data import DataError
from jaxnets.data import tfds as datasets

# --- IDX folders -------------------------------------------------------------------------------


def idx_bytes(a: np.ndarray) -> bytes:
  """`a` (uint8) in IDX form: 00 00 08 ndim, big-endian sizes, the bytes."""
  assert a.dtype == np.uint8
  return bytes([0, 0, 8, a.ndim]) + struct.pack(f">{a.ndim}I", *a.shape) + a.tobytes()


def write_idx_folder(folder, n_train=30, n_test=7, shape=(4, 3), n_classes=3, gz=False):
  """IDX files whose image i has pixel 0 = i and label i % n_classes; returns the arrays."""
  os.makedirs(folder, exist_ok=True)
  rng = np.random.default_rng(0)
  arrays = {}
  for prefix, n in (("train", n_train), ("t10k", n_test)):
    images = rng.integers(0, 256, (n, *shape), dtype=np.uint8)
    images.reshape(n, -1)[:, 0] = np.arange(n)
    labels = (np.arange(n) % n_classes).astype(np.uint8)
    for kind, a in (("images-idx3", images), ("labels-idx1", labels)):
      data = idx_bytes(a)
      name = f"{prefix}-{kind}-ubyte" + (".gz" if gz else "")
      with open(os.path.join(folder, name), "wb") as f:
        f.write(gzip.compress(data) if gz else data)
    arrays[prefix] = images, labels
  return arrays


@pytest.mark.parametrize("gz", [False, True])
def test_idx_folder_gives_load_mnists_splits(tmp_path, gz):
  arrays = write_idx_folder(tmp_path, gz=gz)
  splits = jn.load_dataset(f"idx:{tmp_path}")
  assert [len(s.x) for s in splits] == [25, 5, 7]  # a sixth of 30 train images for validation
  images, labels = arrays["train"]
  np.testing.assert_array_equal(splits.train.x, images[:25].reshape(25, 12) / np.float32(255))
  np.testing.assert_array_equal(splits.validation.y, labels[25:])
  np.testing.assert_array_equal(splits.test.x * 255, arrays["t10k"][0].reshape(7, 12))
  for split in splits:
    assert split.x.dtype == np.float32 and split.y.dtype == np.int32
    assert not split.x.flags.writeable and not split.y.flags.writeable
  # A bare folder path is an IDX folder too; validation_size is honoured.
  assert [len(s.x) for s in jn.load_dataset(str(tmp_path), validation_size=10)] == [20, 10, 7]


def test_idx_dotted_names(tmp_path):
  write_idx_folder(tmp_path)
  for f in os.listdir(tmp_path):
    os.rename(tmp_path / f, tmp_path / f.replace("-idx", ".idx"))
  assert len(jaxnets.data.load_idx(tmp_path).train.x) == 25


def test_read_idx_keeps_types_and_shapes(tmp_path):
  a = np.arange(24, dtype=">i4").reshape(2, 3, 4)
  path = tmp_path / "a-idx3"
  path.write_bytes(bytes([0, 0, 0x0C, 3]) + struct.pack(">3I", 2, 3, 4) + a.tobytes())
  b = jaxnets.data.read_idx(path)
  assert b.dtype == np.int32 and b.dtype.isnative
  np.testing.assert_array_equal(b, np.arange(24).reshape(2, 3, 4))


@pytest.mark.parametrize(
  "damage, message",
  [
    (lambda b: b[:-5], r"has 115 bytes after its header; expected 120 .* truncated or corrupt"),
    (lambda b: b + b"\0", r"has 121 bytes after its header; expected 120"),
    (lambda b: b[:10], r"has 10 bytes; expected a header of 16 bytes .* truncated"),
    (lambda b: b"\x08\x03" + b[2:], r"starts with bytes 08 03 08 03; expected the IDX magic"),
    (lambda b: b"", r"starts with bytes \(none\)"),
    (lambda b: gzip.compress(b)[:-30], r"can't be read or decompressed .* corrupt"),
    (lambda b: gzip.compress(b)[:20] + b"\xff" * 40, r"can't be read or decompressed .* corrupt"),
  ],
)
def test_truncated_or_corrupt_idx_files_are_clear_errors(tmp_path, damage, message):
  good = idx_bytes(np.zeros((10, 4, 3), np.uint8))
  path = tmp_path / "train-images-idx3-ubyte"
  path.write_bytes(damage(good))
  with pytest.raises(DataError, match=message):
    jaxnets.data.read_idx(path)


def test_idx_folder_errors(tmp_path):
  with pytest.raises(DataError, match="does not exist or is not a folder; expected train-"):
    jn.load_dataset(f"idx:{tmp_path / 'nope'}")
  write_idx_folder(tmp_path)
  os.remove(tmp_path / "t10k-labels-idx1-ubyte")
  with pytest.raises(DataError, match="lacks t10k-labels-idx1-ubyte .* holds"):
    jaxnets.data.load_idx(tmp_path)
  (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(6, np.uint8)))
  with pytest.raises(DataError, match="6 test labels for 7 test images"):
    jaxnets.data.load_idx(tmp_path)
  (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros((7, 2), np.uint8)))
  with pytest.raises(DataError, match=r"uint8 of shape \(7, 2\); expected integer labels"):
    jaxnets.data.load_idx(tmp_path)
  (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(7, np.uint8)))
  with pytest.raises(DataError, match=r"validation_size=30; expected 0 ≤ size < 30"):
    jaxnets.data.load_idx(tmp_path, validation_size=30)


def test_load_dataset_names():
  assert jn.load_dataset() is jn.load_mnist() and jn.load_dataset("mnist") is jn.load_mnist()
  assert [len(s.x) for s in jn.load_dataset("mnist", validation_size=5_000)] == [
    55_000,
    5_000,
    10_000,
  ]
  with pytest.raises(DataError, match="dataset '' is empty; expected 'mnist'"):
    jn.load_dataset("")
  with pytest.raises(DataError, match="validation_size=-1; expected an integer ≥ 0"):
    jn.load_dataset("mnist", validation_size=-1)


def test_train_command_takes_sizes_from_an_idx_dataset(tmp_path, capsys):
  write_idx_folder(tmp_path / "idx", n_train=60, n_test=10, shape=(2, 3), n_classes=4)
  args = ["train", "--dataset", f"idx:{tmp_path / 'idx'}", "--epochs", "2", "--batch-size", "5"]
  assert main([*args, "--sizes", "6", "5", "4", "--out", str(tmp_path / "run"), "--quiet"]) == 0
  config = json.loads((tmp_path / "run" / "config.json").read_text())
  assert config["dataset"] == f"idx:{tmp_path / 'idx'}" and config["data_dir"] is None
  assert len(json.loads((tmp_path / "run" / "metrics.json").read_text())["test_accuracy"]) == 2
  assert main([*args, "--sizes", "784", "30", "10"]) == 2
  assert "expects (n, 784): expected a network of 6 inputs" in capsys.readouterr().err
  assert main([*args, "--sizes", "6", "30", "3"]) == 2
  assert "has 3 outputs: expected labels in 0..2, or a network of at least 4 outputs" in (
    capsys.readouterr().err
  )


# --- TFDS: mocked data ---------------------------------------------------------------------------


def write_tfds_metadata(data_dir, name, splits):
  """dataset_info.json (and features) for the registered TFDS dataset `name`, as preparing it
  would leave, with `splits` {name: n} and no data: enough for `tfds.testing.mock_data`."""
  builder = tfds.builder(name, data_dir=str(data_dir), file_format="array_record")
  template = tfds.core.ShardedFileTemplate(
    data_dir=builder.data_path, dataset_name=name, split="train", filetype_suffix="array_record"
  )
  builder.info.set_splits(
    tfds.core.SplitDict(
      [
        tfds.core.SplitInfo(
          name=s, shard_lengths=[n], num_bytes=0, filename_template=template.replace(split=s)
        )
        for s, n in splits.items()
      ]
    )
  )
  builder.data_path.mkdir(parents=True)
  builder.info.write_to_directory(builder.data_path)


def test_tfds_dataset_with_mock_data(tmp_path):
  write_tfds_metadata(tmp_path, "fashion_mnist", {"train": 60_000, "test": 10_000})
  with tfds.testing.mock_data(
    num_examples=18, policy=tfds.testing.MockPolicy.USE_FILES, data_dir=str(tmp_path)
  ):
    splits = jn.load_dataset("fashion_mnist", data_dir=str(tmp_path))
  assert [s.x.shape for s in splits] == [(15, 784), (3, 784), (18, 784)]
  for split in splits:
    assert split.x.dtype == np.float32 and 0 <= split.x.min() and split.x.max() <= 1
    assert split.y.dtype == np.int32 and 0 <= split.y.min() and split.y.max() < 10
    assert not split.x.flags.writeable
  assert splits.train.x.std() > 0.1  # mock_data's random images, not zeros


# --- TFDS: tiny datasets built here --------------------------------------------------------------

TINY_SHAPE = (4, 3, 1)
TINY_SPLITS = {"train": 24, "validation": 6, "test": 9}


def tiny_examples(split: str):
  """Image i of a split: random pixels but pixel 0 = i + 10 · (split index); label i % 3."""
  offset = 10 * list(TINY_SPLITS).index(split)
  rng = np.random.default_rng(offset)
  for i in range(TINY_SPLITS[split]):
    image = rng.integers(0, 256, TINY_SHAPE, dtype=np.uint8)
    image.flat[0] = i + offset
    yield i, {"image": image, "label": i % 3}


class TinyImages(tfds.core.GeneratorBasedBuilder):
  """A tiny image-classification dataset with PNG images, as TFDS's own (preparing it needs
  TensorFlow)."""

  VERSION = tfds.core.Version("1.0.0")

  def _info(self):
    return tfds.core.DatasetInfo(
      builder=self,
      features=tfds.features.FeaturesDict(
        {
          "image": tfds.features.Image(shape=TINY_SHAPE),
          "label": tfds.features.ClassLabel(num_classes=3),
        }
      ),
      supervised_keys=("image", "label"),
    )

  def _split_generators(self, dl_manager):
    return {split: tiny_examples(split) for split in TINY_SPLITS}

  def _generate_examples(self):  # the splits come from `_split_generators`
    raise NotImplementedError


def check_tiny(splits):
  assert [len(s.x) for s in splits] == list(TINY_SPLITS.values())
  for split, name in zip(splits, TINY_SPLITS, strict=True):
    expected = {int(ex["image"].flat[0]): ex for _, ex in tiny_examples(name)}
    firsts = np.rint(split.x[:, 0] * 255).astype(int)
    assert sorted(firsts) == sorted(expected)  # every example once (TFDS shuffles them)
    for x, y, first in zip(split.x, split.y, firsts):
      np.testing.assert_array_equal(x * 255, expected[first]["image"].reshape(-1))
      assert y == expected[first]["label"]


@pytest.fixture(scope="module")
def tiny_data_dir(tmp_path_factory):
  """TinyImages prepared as array_record (random access) and as tfrecord."""
  data_dir = tmp_path_factory.mktemp("tfds")
  TinyImages(data_dir=str(data_dir)).download_and_prepare(file_format="array_record")
  tfrecord_dir = data_dir / "tfrecord"
  TinyImages(data_dir=str(tfrecord_dir)).download_and_prepare(file_format="tfrecord")
  return data_dir


def test_prepared_tfds_dataset(tiny_data_dir):
  check_tiny(jn.load_dataset("tiny_images", data_dir=str(tiny_data_dir)))
  check_tiny(jn.load_dataset("tiny_images", data_dir=str(tiny_data_dir / "tfrecord")))


def run_without_tensorflow(code: str) -> subprocess.CompletedProcess:
  """Runs `code` in a Python where TensorFlow can't be found, as where it isn't installed."""
  prelude = textwrap.dedent(
    """
    import importlib.machinery, sys

    class NoTensorFlow(importlib.machinery.PathFinder):
      @classmethod
      def find_spec(cls, name, path=None, target=None):
        if name.split(".")[0] == "tensorflow":
          return None
        return super().find_spec(name, path, target)

    sys.meta_path[:] = [
      NoTensorFlow if f is importlib.machinery.PathFinder else f for f in sys.meta_path
    ]
    """
  )
  return subprocess.run(
    [sys.executable, "-c", prelude + textwrap.dedent(code)], capture_output=True, text=True
  )


def test_prepared_array_record_is_read_without_tensorflow(tiny_data_dir):
  folder = tiny_data_dir / "tiny_images" / "1.0.0"
  result = run_without_tensorflow(
    f"""
    import numpy as np, jaxnets
    splits = jaxnets.load_dataset("tfds:{folder}")
    print([len(s.x) for s in splits], float(splits.train.x.max()), "tensorflow" in sys.modules)
    try:
      jaxnets.load_dataset("tfds:{tiny_data_dir / "tfrecord" / "tiny_images" / "1.0.0"}")
    except jaxnets.data.DataError as e:
      print(e)
    """
  )
  lines = result.stdout.splitlines()
  assert lines[0].split("] ")[0] == "[24, 6, 9" and lines[0].endswith(" False"), result.stderr
  assert "stored as tfrecord, which only TensorFlow reads" in lines[1], result.stderr
  assert "pip install 'jaxnets[tfds]'" in lines[1]


def test_unprepared_dataset_is_prepared_as_array_record(tmp_path, monkeypatch):
  probed = []
  monkeypatch.setattr(datasets, "unreachable", lambda hosts: probed.append(hosts))
  check_tiny(jn.load_dataset("tiny_images", data_dir=str(tmp_path)))
  assert probed == [[("storage.googleapis.com", 443)]]  # no checksums file: TFDS's storage
  assert any(p.name.endswith(".array_record-00000-of-00001") for p in tmp_path.rglob("*"))


# --- TFDS: data that can't be had ----------------------------------------------------------------


def closed_port() -> int:
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def test_offline_is_a_fast_clear_error(tmp_path, monkeypatch):
  port = closed_port()
  monkeypatch.setattr(datasets, "download_hosts", lambda builder: [("127.0.0.1", port)])
  start = time.perf_counter()
  with pytest.raises(DataError) as e:
    jn.load_dataset("fashion_mnist", data_dir=str(tmp_path))
  assert time.perf_counter() - start < 10
  message = str(e.value)
  for part in (
    f"'fashion_mnist' is not prepared in data_dir '{tmp_path}'",
    f"its download can't be reached (127.0.0.1:{port}: ",
    "on a machine that is online run pip install 'jaxnets[tfds]'",
    f"copy its ~/tensorflow_datasets/fashion_mnist folder into '{tmp_path}'",
    "--dataset idx:PATH",
  ):
    assert part in message
  assert not os.path.exists(tmp_path / "fashion_mnist" / "3.0.1" / "dataset_info.json")


def test_fashion_mnist_downloads_from_its_checksums_hosts():
  builder = tfds.builder("fashion_mnist", data_dir="/nonexistent")
  assert datasets.download_hosts(builder) == [
    ("fashion-mnist.s3-website.eu-central-1.amazonaws.com", 80)
  ]


def test_missing_tensorflow_is_a_clear_error_before_any_probe(tmp_path, monkeypatch):
  monkeypatch.setattr(datasets, "installed", lambda module: module != "tensorflow")
  monkeypatch.setattr(datasets, "unreachable", lambda hosts: pytest.fail("probed the network"))
  with pytest.raises(DataError, match=r"can't be prepared here: preparing needs tensorflow, "):
    jn.load_dataset("kmnist", data_dir=str(tmp_path))


def test_unreachable_probe():
  with socket.socket() as server:
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    assert datasets.unreachable([("127.0.0.1", closed_port()), ("127.0.0.1", port)]) is None
  port = closed_port()
  assert datasets.unreachable([("127.0.0.1", port)]).startswith(f"127.0.0.1:{port}: ")


def test_unreachable_probe_gives_up_on_a_host_that_hangs(monkeypatch):
  release = threading.Event()

  def hang(*args, **kwargs):
    release.wait(30)
    raise OSError("released")

  monkeypatch.setattr(socket, "create_connection", hang)
  start = time.perf_counter()
  try:
    assert datasets.unreachable([("example.org", 80)], timeout=0.5) == (
      "example.org:80: no answer within 0.5 s"
    )
  finally:
    release.set()
  assert time.perf_counter() - start < 2


@pytest.mark.parametrize(
  "name, message",
  [
    (
      "fashon_mnist",
      r"'fashon_mnist' is not the bundled 'mnist', .*; did you mean the TFDS dataset "
      r"'fashion_mnist'\?$",
    ),
    (
      "fashion-mnist",
      r"^dataset 'fashion-mnist' is not the bundled 'mnist', .*; did you mean the TFDS dataset "
      r"'fashion_mnist'\?$",
    ),
    (
      "mnsit",
      r"'mnsit' is not .*; did you mean 'mnist' \(bundled with jaxnets\), or the TFDS datasets "
      r"'kmnist' or 'emnist'\?$",
    ),
    (
      "emnist/digitz",
      r"^dataset 'emnist/digitz': the TFDS dataset 'emnist' has no config 'digitz'; did you mean "
      r"'emnist/digits', ",
    ),
    ("imdb_reviews", r"has text of object .*; expected an image-classification dataset"),
  ],
)
def test_unknown_or_unsuitable_tfds_names(tmp_path, name, message):
  with pytest.raises(DataError, match=message):
    jn.load_dataset(name, data_dir=str(tmp_path))


def test_unknown_dataset_on_the_command_line(capsys):
  assert main(["train", "--dataset", "kmnistt", "--epochs", "1"]) == 2
  err = capsys.readouterr().err
  assert err.startswith("error: dataset 'kmnistt' is not") and "datasets 'kmnist' or" in err
  assert err.count("\n") == 1
