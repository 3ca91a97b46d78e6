"""Atomic writes: a write that fails names its file and keeps the old one (real full disks where a
tmpfs can be mounted, simulated errors elsewhere)."""

import errno
import os
import subprocess

import chex
import jax
import pytest
from helpers import temp_files, tmpfs

import jaxnets as jn
from jaxnets import _files
from jaxnets.runs import Checkpoint, TrainConfig, WriteError, load_checkpoint, save_checkpoint


def small_net(seed: int):
  return jn.init_params(jax.random.key(seed), [3, 2])


@pytest.mark.parametrize(
  "call, code, text",
  [
    ("write", errno.ENOSPC, "No space left on device"),
    ("fsync", errno.EIO, "Input/output error"),
    ("replace", errno.EROFS, "Read-only file system"),
  ],
)
def test_a_failed_write_names_the_destination_and_keeps_the_old_file(
  tmp_path, monkeypatch, call, code, text
):
  path = tmp_path / "checkpoint.npz"
  jn.save_params(path, small_net(0))
  real = getattr(os, call)
  calls = []

  def fail(*args):
    calls.append(args)
    if call == "write" and len(calls) == 1:  # a partial write first, as a filling disk gives
      return real(args[0], bytes(args[1][:10]))
    raise OSError(code, os.strerror(code))

  monkeypatch.setattr(os, call, fail)
  with pytest.raises(WriteError) as e:
    jn.save_params(path, small_net(1))
  monkeypatch.undo()
  name = errno.errorcode[code]
  assert str(e.value) == f"can't write {str(path)!r}: {text} ({name})"
  assert isinstance(e.value, OSError) and e.value.errno == code and e.value.filename == str(path)
  assert temp_files(tmp_path) == []
  chex.assert_trees_all_equal(jn.load_params(path), small_net(0))


def test_a_missing_folder_is_named(tmp_path, monkeypatch):
  monkeypatch.chdir(tmp_path)
  with pytest.raises(WriteError) as e:
    jn.save_params("x/params.npz", small_net(0))
  assert str(e.value) == "can't write 'x/params.npz': its folder 'x' does not exist"
  assert e.value.errno == errno.ENOENT and ".tmp" not in str(e.value)
  (tmp_path / "f").write_text("")
  with pytest.raises(WriteError, match=r"^can't write 'f/p.npz': its folder 'f' is not a folder$"):
    jn.save_params("f/p.npz", small_net(0))


@pytest.fixture
def read_only_folder(tmp_path):
  """A folder with a complete file in it that can't be written: chmod 0o500, or for root (whom
  permissions don't stop) a read-only tmpfs. Yields (folder, the errno a write gets)."""
  folder = tmp_path / "ro"
  folder.mkdir()
  if os.geteuid() != 0:
    jn.save_params(folder / "p.npz", small_net(0))
    folder.chmod(0o500)
    yield folder, errno.EACCES
    folder.chmod(0o700)
    return
  with tmpfs(folder, "size=64k"):
    jn.save_params(folder / "p.npz", small_net(0))
    subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
    yield folder, errno.EROFS


def test_a_read_only_folder(read_only_folder):
  folder, code = read_only_folder
  path = folder / "p.npz"
  with pytest.raises(WriteError) as e:
    jn.save_params(path, small_net(1))
  assert e.value.errno == code
  assert str(e.value) == f"can't write {str(path)!r}: {os.strerror(code)} ({errno.errorcode[code]})"
  assert temp_files(folder) == []
  chex.assert_trees_all_equal(jn.load_params(path), small_net(0))


def test_a_full_filesystem(tmp_path):
  """A real full disk: a 400 kB tmpfs holds one checkpoint of [784, 100, 10] (318 kB), not two."""
  folder = tmp_path / "small"
  folder.mkdir()
  config = TrainConfig(sizes=(784, 100, 10))
  optimizer = config.make_optimizer()
  path = folder / "checkpoint.npz"
  with tmpfs(folder, "size=400k"):
    saved = None
    for epoch in range(1, 10):
      params = jn.init_params(jax.random.key(epoch), config.sizes)
      ckpt = Checkpoint(
        params, optimizer.init(params), epoch, jax.random.key(0), config.to_dict(), {}
      )
      try:
        save_checkpoint(path, ckpt)
      except WriteError as e:
        error = e
        break
      saved = ckpt
    else:
      pytest.fail("the tmpfs never filled up")
    assert saved is not None, "not even the first checkpoint fit"
    assert error.errno == errno.ENOSPC
    assert str(error) == f"can't write {str(path)!r}: No space left on device (ENOSPC)"
    assert temp_files(folder) == []
    loaded = load_checkpoint(path)
    assert loaded.epoch == saved.epoch
    chex.assert_trees_all_equal(loaded.params, saved.params)


def test_write_error_round_trips_through_pickle_for_process_pools():
  import pickle  # the exception only, as multiprocessing sends it: no file is ever pickled

  e = _files.write_error("a/b.npz", OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)))
  again = pickle.loads(pickle.dumps(e))
  assert type(again) is WriteError
  assert (str(again), again.errno, again.filename) == (str(e), e.errno, e.filename)
