import os
import shutil

import numpy as np
import pytest

from jaxnets._engine.device import to_device
from jaxnets.data import DataError
from jaxnets.data import mnist as data


def test_mnist_has_the_books_split(mnist):
  assert [len(s.x) for s in mnist] == [50_000, 10_000, 10_000]
  for split in mnist:
    assert split.x.dtype == np.float32 and split.x.shape[1] == 784
    assert split.y.dtype == np.int32 and split.y.ndim == 1
    assert split.x.min() == 0.0 and split.x.max() == 1.0
  # Test-set label counts from the data's README.
  np.testing.assert_array_equal(
    np.bincount(mnist.test.y), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
  )
  assert not mnist.train.x.flags.writeable


def test_bundled_file_checksum():
  assert data.sha256_of_file(data.bundled_mnist_path()) == data.MNIST_SHA256


def test_checksum_mismatch_is_a_clear_error(tmp_path, monkeypatch):
  copy = tmp_path / "mnist.npz"
  shutil.copy(data.bundled_mnist_path(), copy)
  with open(copy, "r+b") as f:
    f.seek(1000)
    f.write(b"\x00" * 8)
  monkeypatch.setattr(data, "bundled_mnist_path", lambda: str(copy))
  data.load_mnist.cache_clear()
  try:
    with pytest.raises(DataError, match=f"has sha256 .*; expected {data.MNIST_SHA256}"):
      data.load_mnist()
  finally:
    data.load_mnist.cache_clear()


def test_missing_or_corrupt_file(tmp_path):
  with pytest.raises(DataError, match="does not exist"):
    data.load_mnist(str(tmp_path / "nope.npz"))
  bad = tmp_path / "bad.npz"
  bad.write_bytes(b"not a zip")
  with pytest.raises(DataError, match="can't be read as an npz"):
    data.load_mnist(str(bad))
  assert os.path.exists(bad)


def test_images_to_x_is_exact_and_jax_uses_it_in_place(mnist):
  images = np.arange(256, dtype=np.uint8).reshape(1, 16, 16).repeat(3, axis=0)
  x = data.images_to_x(images)
  assert x.shape == (3, 256) and x.dtype == np.float32
  np.testing.assert_array_equal(x[0], np.arange(256, dtype=np.float32) / np.float32(255))
  train_x = mnist.train.x
  assert not train_x.flags.writeable and train_x.ctypes.data % 64 == 0
  on_device = to_device(train_x)
  assert on_device.unsafe_buffer_pointer() == train_x.ctypes.data  # no 157 MB copy
