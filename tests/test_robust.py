"""Robust runs: the folder's lock, write errors, the memory check, and stopping by signal."""

import ast
import contextlib
import errno
import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import chex
import jax
import pytest

import jaxnets as jn
from jaxnets import _memory
from jaxnets._checks import InputError
from jaxnets._memory import OutOfMemory, available_bytes, check_memory, training_bytes
from jaxnets.runs import checkpoint
from jaxnets.runs.checkpoint import Checkpoint, WriteError, load_checkpoint, save_checkpoint
from jaxnets.runs.config import TrainConfig
from jaxnets.runs.lock import RunLocked, lock_run
from jaxnets.runs.signals import Aborted, stop_on_signals

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


# The memory check


def test_training_bytes_by_hand():
  # [784, 30, 10]: 784·30 + 30 + 30·10 + 10 = 23 860 parameters; per example 784 + 2·(30 + 10)
  # = 864 values of a and z; float32.
  params = 23_860 * 4
  activations = 2 * 10 * 864 * 4
  assert training_bytes([784, 30, 10], 10) == 2 * params + 64 + activations == 260_064
  assert training_bytes([784, 30, 10], 10, optimizer_slots=2) == 4 * params + 64 + activations
  assert training_bytes([784, 30, 10], 10, dtype="float64") == 2 * (260_064 - 64) + 64
  assert training_bytes([784, 30, 10], 10, dtype="bfloat16") == (260_064 - 64) // 2 + 64
  assert training_bytes([784, 30, 10], 10, members=3) == 3 * 260_064
  assert training_bytes([784, 30, 10], 10, data_bytes=1000) == 261_064
  # Evaluating 10 000 examples whole outweighs a mini-batch's forward and backward.
  assert training_bytes([784, 30, 10], 10, eval_examples=10_000) == 2 * params + 64 + (
    10_000 * 864 * 4
  )


def test_training_bytes_checks_its_arguments():
  with pytest.raises(InputError, match=r"^batch_size=0; expected an integer ≥ 1$"):
    training_bytes([784, 30, 10], 0)
  with pytest.raises(InputError, match=r"^sizes\[1\] = -3 in \[784, -3, 10\]"):
    training_bytes([784, -3, 10], 10)
  with pytest.raises(InputError, match=r"^dtype='float31'; expected a dtype such as 'float32'$"):
    training_bytes([784, 30, 10], 10, dtype="float31")
  with pytest.raises(InputError, match=r"^members=0; expected an integer ≥ 1$"):
    training_bytes([784, 30, 10], 10, members=0)


BIG = [784, 100_000, 100_000, 10]


def test_an_oversized_network_is_refused_with_the_numbers(monkeypatch):
  monkeypatch.setattr(_memory, "available_bytes", lambda device: 24_000_000_000)
  with pytest.raises(OutOfMemory) as e:
    check_memory(BIG, 10)
  # 10 079 600 010 parameters: 2 · 4 bytes each + 64 = 80.6 GB; 2·10·(784 + 2·200 010)·4 bytes
  # of activations = 32.1 MB.
  assert str(e.value) == (
    "the network [784, 100000, 100000, 10] needs about 80.7 GB to train (parameters, gradients "
    "and optimizer state 80.6 GB, activations 32.1 MB at mini-batch 10) but the CPU has 24.0 GB "
    "available; expected a smaller network or mini-batch"
  )
  assert isinstance(e.value, InputError)
  with pytest.raises(OutOfMemory) as e:  # 1000 · 190 944 bytes; 1000 · 10 000 · 864 · 4 bytes
    check_memory([784, 30, 10], 10, members=1000, eval_examples=10_000, data_bytes=2 * 10**9)
  assert str(e.value) == (
    "a population of 1000 networks [784, 30, 10] needs about 36.8 GB to train (parameters, "
    "gradients and optimizer state 190.9 MB, activations 34.6 GB evaluating 10000 examples at "
    "once, data 2.0 GB) but the CPU has 24.0 GB available; expected a smaller network or "
    "mini-batch"
  )
  assert check_memory([784, 30, 10], 10) == 260_064


def test_the_oversized_network_on_this_machine():
  needed = training_bytes(BIG, 10)
  available = available_bytes()
  if available is None or available >= needed:
    pytest.skip(f"this machine has {available} bytes available")
  live = len(jax.live_arrays())
  start = time.perf_counter()
  with pytest.raises(OutOfMemory, match=r"needs about 80\.7 GB .* but the CPU has [\d.]+ GB avail"):
    check_memory(BIG, 10)
  assert time.perf_counter() - start < 0.5
  assert len(jax.live_arrays()) == live  # nothing allocated


def test_available_bytes_on_this_cpu():
  with open("/proc/meminfo") as f:
    total = int(f.readline().split()[1]) * 1024  # MemTotal
  available = available_bytes(jax.devices("cpu")[0])
  assert 0 < available <= total
  assert available_bytes() == pytest.approx(available, rel=0.1)


class FakeDevice:
  platform = "gpu"

  def __init__(self, stats):
    self.stats = stats

  def memory_stats(self):
    if isinstance(self.stats, Exception):
      raise self.stats
    return self.stats


def test_available_bytes_on_an_accelerator():
  gpu = FakeDevice({"bytes_limit": 16_000_000_000, "bytes_in_use": 1_000_000_000})
  assert available_bytes(gpu) == 15_000_000_000
  with pytest.raises(OutOfMemory, match=r"^the network \[784, 100000, 100000, 10\] .* but the GPU"):
    check_memory(BIG, 10, device=gpu)
  with pytest.raises(OutOfMemory, match=r"but the GPU has 15\.0 GB available;"):
    check_memory([784, 30, 10], 10, members=100_000, device=gpu)
  for unknown in (None, {}, {"bytes_in_use": 5}, NotImplementedError("no stats")):
    assert available_bytes(FakeDevice(unknown)) is None
    assert check_memory(BIG, 10, device=FakeDevice(unknown)) == training_bytes(BIG, 10)


def write(path: Path, text: str) -> None:
  path.parent.mkdir(parents=True, exist_ok=True)
  path.write_text(text)


def test_cgroup_v2_limits_count_every_ancestor_and_not_the_page_cache(tmp_path):
  root = tmp_path / "cgroup"
  write(root / "cgroup.controllers", "cpu memory\n")
  write(tmp_path / "self", "0::/a/b\n")
  write(root / "a" / "memory.max", f"{8 << 30}\n")
  write(root / "a" / "memory.current", f"{7 << 30}\n")
  write(root / "a" / "memory.stat", f"anon 1\ninactive_file {1 << 30}\nactive_file 5\n")
  write(root / "a" / "b" / "memory.max", "max\n")
  write(root / "a" / "b" / "memory.current", f"{6 << 30}\n")
  # a: 8 GiB limit, 7 GiB used of which 1 GiB is droppable cache: 2 GiB free.
  assert _memory._cgroup_available(str(root), str(tmp_path / "self")) == 2 << 30
  write(root / "a" / "b" / "memory.max", f"{7 << 29}\n")  # 3.5 GiB, 6 used, nothing droppable
  assert _memory._cgroup_available(str(root), str(tmp_path / "self")) == 0
  write(tmp_path / "self", "0::/\n")  # a cgroup namespace: the root's files, here none
  assert _memory._cgroup_available(str(root), str(tmp_path / "self")) is None


def test_cgroup_v1_limit_and_unlimited(tmp_path):
  root = tmp_path / "cgroup"
  write(tmp_path / "self", "5:cpu,cpuacct:/x\n4:memory:/docker/abc\n0::/\n")
  mine = root / "memory" / "docker" / "abc"
  write(mine / "memory.limit_in_bytes", "9223372036854771712\n")
  write(mine / "memory.usage_in_bytes", "1000\n")
  assert _memory._cgroup_available(str(root), str(tmp_path / "self")) is None
  write(mine / "memory.limit_in_bytes", f"{4 << 30}\n")
  write(mine / "memory.usage_in_bytes", f"{3 << 30}\n")
  write(mine / "memory.stat", f"cache 9\ntotal_inactive_file {1 << 29}\n")
  assert _memory._cgroup_available(str(root), str(tmp_path / "self")) == (1 << 30) + (1 << 29)


def test_host_available_is_the_smaller_of_meminfo_and_cgroup(monkeypatch):
  monkeypatch.setattr(_memory, "_meminfo_available", lambda: 5_000)
  monkeypatch.setattr(_memory, "_cgroup_available", lambda: 3_000)
  assert available_bytes(jax.devices("cpu")[0]) == 3_000
  monkeypatch.setattr(_memory, "_cgroup_available", lambda: None)
  assert available_bytes(jax.devices("cpu")[0]) == 5_000
  monkeypatch.setattr(_memory, "_meminfo_available", lambda: None)
  assert available_bytes(jax.devices("cpu")[0]) is None


def test_memory_is_core_level():
  """_memory imports nothing from the tooling (runs, data, bench)."""
  tree = ast.parse((REPO / "jaxnets" / "_memory.py").read_text())
  modules = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
  modules += [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
  assert [m for m in modules if m.startswith("jaxnets")] == ["jaxnets._checks"]


# Stopping by signal


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


# --- The four cases of the issue, as real `python -m jaxnets train` processes ------------------


def jaxnets_train(*args, **kw) -> subprocess.Popen:
  return subprocess.Popen(
    [sys.executable, "-m", "jaxnets", "train", *args],
    stdout=subprocess.PIPE,
    stderr=subprocess.PIPE,
    text=True,
    env=ENV,
    **kw,
  )


def wait_for_file(path: Path, proc: subprocess.Popen, timeout: float = 120) -> None:
  deadline = time.time() + timeout
  while not path.exists():
    assert proc.poll() is None, proc.communicate()
    assert time.time() < deadline, f"{path} never appeared"
    time.sleep(0.01)


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


def load_checkpoint_epoch(out: Path) -> int:
  return load_checkpoint(out / "checkpoint.npz").epoch


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
