"""One run at a time in a run's folder: the lock, held by a real second process."""

import os
import shlex
import signal
import subprocess
import sys

import pytest
from helpers import ENV

import jaxnets as jn
from jaxnets.runs.lock import RunLocked, lock_run


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
    assert isinstance(refused.value, jn.InputError)
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
  with pytest.raises(jn.InputError) as e:
    lock_run(tmp_path / "none")
  assert str(e.value) == (
    f"--out {str(tmp_path / 'none')!r} is not an existing folder; expected the run's folder"
  )
