"""Robust runs: the folder's lock, write errors, the memory check, and stopping by signal."""

import contextlib
import errno
import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import chex
import jax
import pytest

import jaxnets as jn
from jaxnets._checks import InputError
from jaxnets.runs import checkpoint
from jaxnets.runs.checkpoint import Checkpoint, WriteError, load_checkpoint, save_checkpoint
from jaxnets.runs.config import TrainConfig
from jaxnets.runs.lock import RunLocked, lock_run

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(REPO), "JAX_PLATFORMS": "cpu"}


def temp_files(folder) -> list[str]:
  return [f for f in os.listdir(folder) if f.startswith(".tmp")]


@contextlib.contextmanager
def tmpfs(folder, options: str):
  """A tmpfs mounted on `folder` (root with CAP_SYS_ADMIN only: else the test is skipped)."""
  try:
    mounted = subprocess.run(
      ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True, text=True
    )
  except FileNotFoundError:
    pytest.skip("no mount command")
  if mounted.returncode:
    pytest.skip(f"can't mount a tmpfs here: {mounted.stderr.strip()}")
  try:
    yield folder
  finally:
    subprocess.run(["umount", "-l", str(folder)], check=True)


# Write errors


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

  e = checkpoint._write_error("a/b.npz", OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)))
  again = pickle.loads(pickle.dumps(e))
  assert type(again) is WriteError
  assert (str(again), again.errno, again.filename) == (str(e), e.errno, e.filename)


# The lock of a run's folder


def hold_lock_in_child(folder) -> tuple[subprocess.Popen, list[str]]:
  """A real second process that takes the folder's lock, says so, and sleeps."""
  code = (
    "import sys, time; from jaxnets.runs.lock import lock_run; "
    "lock = lock_run(sys.argv[1]); print('locked', flush=True); time.sleep(60)"
  )
  argv = [sys.executable, "-c", code, str(folder)]
  child = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=ENV)
  assert child.stdout.readline() == "locked\n"
  return child, argv


def test_a_second_process_is_refused_naming_the_first(tmp_path):
  child, argv = hold_lock_in_child(tmp_path)
  try:
    with pytest.raises(RunLocked) as refused:
      lock_run(tmp_path)
    command = shlex.join([os.path.basename(argv[0]), *argv[1:]])
    assert str(refused.value) == (
      f"--out {str(tmp_path)!r} is in use by another run (pid {child.pid}: {command}); "
      "wait for it to end or choose another folder"
    )
    assert isinstance(refused.value, InputError)
  finally:
    child.kill()
    child.wait()


def test_the_lock_of_a_killed_process_does_not_block(tmp_path):
  child, _ = hold_lock_in_child(tmp_path)
  with pytest.raises(RunLocked):
    lock_run(tmp_path)
  child.send_signal(signal.SIGKILL)
  assert child.wait() == -signal.SIGKILL
  with lock_run(tmp_path):
    pid, command = (tmp_path / ".lock").read_text().splitlines()
    assert int(pid) == os.getpid()


def test_the_lock_is_released_on_leaving_the_context(tmp_path):
  with lock_run(tmp_path) as lock:
    assert lock.held
    text = (tmp_path / ".lock").read_text()
    assert text.startswith(f"{os.getpid()}\n") and text.endswith("\n")
    with pytest.raises(RunLocked, match=rf"\(pid {os.getpid()}: "):  # even in the same process
      lock_run(tmp_path)
  assert not lock.held
  # Another process can take it now.
  taken = subprocess.run(
    [
      sys.executable,
      "-c",
      "import sys; from jaxnets.runs.lock import lock_run; lock_run(sys.argv[1])",
    ]
    + [str(tmp_path)],
    capture_output=True,
    text=True,
    env=ENV,
  )
  assert taken.returncode == 0, taken.stderr
  lock = lock_run(tmp_path)
  lock.release()
  lock.release()  # twice: nothing
  lock_run(tmp_path).release()


def test_the_lock_needs_an_existing_folder(tmp_path):
  with pytest.raises(InputError) as e:
    lock_run(tmp_path / "none")
  assert str(e.value) == (
    f"--out {str(tmp_path / 'none')!r} is not an existing folder; expected the run's folder"
  )
