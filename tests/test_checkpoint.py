import os

import chex
import jax
import numpy as np
import pytest

import jaxnets as jn
from jaxnets.runs import CheckpointError, WriteError, checkpoint


def test_save_load_round_trip_is_exact(tmp_path):
  params = jn.init_params(jax.random.key(0), [784, 30, 10])
  path = tmp_path / "params.npz"
  jn.save_params(path, params)
  loaded = jn.load_params(path)
  chex.assert_trees_all_equal(loaded, params)
  assert isinstance(loaded[0], jn.Layer)
  assert [f for f in os.listdir(tmp_path) if f.startswith(".tmp")] == []
  with np.load(path, allow_pickle=False) as npz:  # plain arrays, readable without pickle
    assert sorted(npz.files) == ["__sha256__", "b_0", "b_1", "w_0", "w_1"]


def test_missing_truncated_corrupt(tmp_path):
  with pytest.raises(CheckpointError, match="does not exist"):
    jn.load_params(tmp_path / "none.npz")
  path = tmp_path / "p.npz"
  jn.save_params(path, jn.init_params(jax.random.key(0), [3, 2]))
  raw = path.read_bytes()
  (tmp_path / "t.npz").write_bytes(raw[: len(raw) // 2])
  with pytest.raises(CheckpointError, match="truncated or corrupt"):
    jn.load_params(tmp_path / "t.npz")
  arrays = dict(np.load(path, allow_pickle=False))
  arrays["w_0"] = arrays["w_0"] + 1
  np.savez(tmp_path / "c.npz", **arrays)
  with pytest.raises(CheckpointError, match="is corrupt: its arrays hash to"):
    jn.load_params(tmp_path / "c.npz")


def test_inconsistent_network_and_object_arrays(tmp_path):
  checkpoint.save_arrays(
    tmp_path / "x.npz", {"w_0": np.ones((2, 3), np.float32), "b_0": np.ones(3, np.float32)}
  )
  with pytest.raises(CheckpointError, match=r"inconsistent network: .*params\[0\].b"):
    jn.load_params(tmp_path / "x.npz")
  with pytest.raises(jn.InputError, match="dtype object"):
    checkpoint.save_arrays(tmp_path / "o.npz", {"a": np.array([{}], dtype=object)})


def test_failed_write_leaves_the_old_file(tmp_path, monkeypatch):
  path = tmp_path / "p.npz"
  old = jn.init_params(jax.random.key(0), [3, 2])
  jn.save_params(path, old)

  def crash(*args):
    raise OSError("disk full")

  monkeypatch.setattr(os, "replace", crash)
  with pytest.raises(WriteError, match="disk full"):
    jn.save_params(path, jn.init_params(jax.random.key(1), [3, 2]))
  chex.assert_trees_all_equal(jn.load_params(path), old)
  assert [f for f in os.listdir(tmp_path) if f.startswith(".tmp")] == []


def test_written_files_get_the_usual_permissions(tmp_path):
  jn.save_params(tmp_path / "p.npz", jn.init_params(jax.random.key(0), [3, 2]))
  (tmp_path / "plain").write_bytes(b"")
  assert os.stat(tmp_path / "p.npz").st_mode & 0o777 == os.stat(tmp_path / "plain").st_mode & 0o777


def test_float64_params_load_in_x64_or_converted(tmp_path):
  path = tmp_path / "f64.npz"
  with jax.enable_x64(True):
    params = jn.init_params(jax.random.key(0), [3, 2], dtype="float64")
    jn.save_params(path, params)
    chex.assert_trees_all_equal(jn.load_params(path), params)
  with pytest.raises(CheckpointError, match="holds float64 parameters but JAX's x64 mode is off"):
    jn.load_params(path)
  as32 = jn.load_params(path, dtype="float32")
  assert all(a.dtype == "float32" for a in jax.tree.leaves(as32))
  np.testing.assert_array_equal(as32[0].w, np.asarray(params[0].w).astype(np.float32))
