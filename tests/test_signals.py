"""Stopping by signal, and the run's four robustness cases as real `python -m jaxnets train`
processes: a second run on a folder in use, a full disk, a network too large, Ctrl-C twice."""

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from helpers import ENV, jaxnets_command, temp_files, tmpfs, wait_for_file

from jaxnets.runs import load_checkpoint
from jaxnets.runs.signals import Aborted, interruptible_wait, stop_on_signals


def test_the_first_signal_asks_the_second_aborts():
  before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
  with stop_on_signals() as stop:
    assert not stop and stop.signum is None
    os.kill(os.getpid(), signal.SIGINT)
    deadline = time.monotonic() + 5
    while not stop and time.monotonic() < deadline:
      time.sleep(0.001)
    assert stop and stop.signum == signal.SIGINT and stop.name == "SIGINT"
    start = time.monotonic()
    with pytest.raises(Aborted) as e:
      os.kill(os.getpid(), signal.SIGTERM)
      time.sleep(5)  # an interruptible wait stops at once
    assert time.monotonic() - start < 1
    assert e.value.signum == signal.SIGTERM and isinstance(e.value, KeyboardInterrupt)
    assert str(e.value) == "stopped at once by a second SIGTERM"
    assert stop.signum == signal.SIGINT
  assert {s: signal.getsignal(s) for s in before} == before


def test_handlers_are_restored_after_an_abort():
  before = signal.getsignal(signal.SIGINT)
  with pytest.raises(Aborted), stop_on_signals():
    os.kill(os.getpid(), signal.SIGTERM)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(5)
  assert signal.getsignal(signal.SIGINT) is before
  assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_outside_the_main_thread_nothing_trips():
  seen = {}

  def run():
    with stop_on_signals() as stop:
      seen["stop"] = bool(stop)
      seen["handler"] = signal.getsignal(signal.SIGINT)

  before = signal.getsignal(signal.SIGINT)
  thread = threading.Thread(target=run)
  thread.start()
  thread.join()
  assert seen == {"stop": False, "handler": before}


def test_a_computations_error_is_raised_in_the_waiting_thread_alone(monkeypatch, capfd):
  """The device's error (a lost process's in a distributed run: gloo's "Connection reset by
  peer") comes out of interruptible_wait as the exception, not as a traceback printed by the
  thread that waited on the device."""
  import types  # noqa: PLC0415

  import jax  # noqa: PLC0415

  from jaxnets.runs import signals  # noqa: PLC0415

  class Pending:  # an array whose computation is still running, then fails
    def is_ready(self):
      return False

  def block_until_ready(leaves):
    time.sleep(0.2)
    raise RuntimeError("Read error [127.0.0.1]:42371: Connection reset by peer")

  fake = types.SimpleNamespace(Array=Pending, tree=jax.tree, block_until_ready=block_until_ready)
  monkeypatch.setattr(signals, "jax", fake)
  with pytest.raises(RuntimeError, match="Connection reset by peer"):
    interruptible_wait([Pending()])
  assert "Traceback" not in capfd.readouterr().err


def test_a_real_process_stops_after_its_epoch_then_at_once(tmp_path):
  """A child in a busy loop of short waits, as the training loop's: SIGINT asks, SIGINT aborts."""
  code = """
import sys, time
from jaxnets.runs.signals import Aborted, stop_on_signals
try:
  with stop_on_signals(notice="stopping after this epoch; press Ctrl-C again to stop now") as s:
    print("ready", flush=True)
    while not s:
      time.sleep(0.002)
    print("asked", s.name, flush=True)
    while True:
      time.sleep(0.002)
except Aborted as e:
  print("aborted", e.signum, flush=True)
  sys.exit(128 + e.signum)
"""
  child = subprocess.Popen(
    [sys.executable, "-c", code],
    stdout=subprocess.PIPE,
    stderr=subprocess.PIPE,
    text=True,
    env=ENV,
  )
  try:
    assert child.stdout.readline() == "ready\n"
    child.send_signal(signal.SIGINT)
    assert child.stdout.readline() == "asked SIGINT\n"
    child.send_signal(signal.SIGINT)
    assert child.wait(timeout=10) == 128 + signal.SIGINT
    assert child.stdout.read() == f"aborted {int(signal.SIGINT)}\n"
    assert child.stderr.read() == "stopping after this epoch; press Ctrl-C again to stop now\n"
  finally:
    child.kill()
    child.wait()


def jaxnets_train(*args: str) -> subprocess.Popen:
  return jaxnets_command("train", *args)


def load_checkpoint_epoch(out) -> int:
  return load_checkpoint(out / "checkpoint.npz").epoch


LONG_RUN = ["--sizes", "784", "30", "10", "--train-size", "2000", "--epochs", "400", "--quiet"]


def test_two_runs_into_one_folder_the_second_is_refused_and_writes_nothing(tmp_path):
  out = tmp_path / "a"
  first = jaxnets_train(*LONG_RUN, "--seed", "1", "--out", str(out))
  try:
    wait_for_file(out / "config.json", first)
    config_before = (out / "config.json").read_bytes()
    for extra in (["--seed", "2"], ["--seed", "2", "--force"], ["--resume"]):
      second = jaxnets_train(*LONG_RUN, "--out", str(out), *extra)
      _, err = second.communicate(timeout=60)
      assert second.returncode == 2, err
      assert err.count("\n") == 1 and "Traceback" not in err
      assert f"--out '{out}' is in use by another run (pid {first.pid}: " in err
      assert (out / "config.json").read_bytes() == config_before  # still the first run's
  finally:
    first.send_signal(signal.SIGTERM)
    first.communicate(timeout=60)
  assert json.loads((out / "config.json").read_text())["seed"] == 1
  # its lock died with it: a third run may now resume it
  assert load_checkpoint_epoch(out) >= 1


def test_a_full_disk_is_one_line_naming_the_file_and_the_kept_checkpoint(tmp_path):
  out = tmp_path / "disk"
  out.mkdir()
  with tmpfs(out, "size=400k"):
    run = jaxnets_train(
      "--sizes", "784", "100", "10", "--train-size", "500", "--epochs", "5", "--batch-size",
      "50", "--out", str(out / "run"),
    )  # fmt: skip
    _, err = run.communicate(timeout=120)
    assert run.returncode == 1, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"error: can't write '{out / 'run' / 'checkpoint.npz'}': ")
    assert "No space left on device (ENOSPC)" in err and ".tmp" not in err
    assert (
      f"the last complete checkpoint (after 1 epoch) is {out / 'run' / 'checkpoint.npz'}" in err
    )
    assert load_checkpoint_epoch(out / "run") == 1
    assert temp_files(out / "run") == []


def test_a_network_too_large_for_memory_is_refused_at_once(tmp_path):
  start = time.perf_counter()
  run = jaxnets_train("--sizes", "784", "100000", "100000", "10", "--out", str(tmp_path / "big"))
  _, err = run.communicate(timeout=60)
  assert run.returncode == 2 and err.count("\n") == 1, err
  assert err.startswith("error: the network [784, 100000, 100000, 10] needs about ")
  assert " GB available; expected a smaller network or mini-batch" in err
  assert time.perf_counter() - start < 20  # seconds, not a hang (a fresh process imports jax)
  assert not (tmp_path / "big").exists()


def test_ctrl_c_twice_ends_a_long_epoch_at_once(tmp_path):
  """[784, 1000, 10] at mini-batch 1 on 20,000 examples: epochs of several seconds. The first
  SIGINT asks for the end of the epoch, the second ends the run at once, the epoch lost."""
  out = tmp_path / "run"
  args = ["--sizes", "784", "1000", "10", "--train-size", "20000", "--batch-size", "1"]
  run = jaxnets_train(*args, "--epochs", "50", "--out", str(out))
  wait_for_file(out / "checkpoint.npz", run, timeout=240)
  run.send_signal(signal.SIGINT)
  time.sleep(0.5)
  start = time.perf_counter()
  run.send_signal(signal.SIGINT)
  _, err = run.communicate(timeout=60)
  assert time.perf_counter() - start < 5
  assert run.returncode == 130, err
  assert "stopping after this epoch, with a checkpoint; press Ctrl-C again to stop at once" in err
  epochs = load_checkpoint_epoch(out)
  assert (
    "stopped at once by a second SIGINT: the current epoch was lost; the last complete "
    f"checkpoint (after {epochs} epoch{'s' if epochs > 1 else ''}) is {out / 'checkpoint.npz'}"
  ) in err
