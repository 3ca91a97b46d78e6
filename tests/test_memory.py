"""A run too large for the machine is refused before anything is allocated."""

import time
from pathlib import Path

import jax
import pytest

import jaxnets as jn
from jaxnets.runs import memory
from jaxnets.runs.memory import OutOfMemory, available_bytes, check_memory, training_bytes


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
  with pytest.raises(jn.InputError, match=r"^batch_size=0; expected an integer ≥ 1$"):
    training_bytes([784, 30, 10], 0)
  with pytest.raises(jn.InputError, match=r"^sizes\[1\] = -3 in \[784, -3, 10\]"):
    training_bytes([784, -3, 10], 10)
  with pytest.raises(jn.InputError, match=r"^dtype='float31'; expected a dtype such as 'float32'$"):
    training_bytes([784, 30, 10], 10, dtype="float31")
  with pytest.raises(jn.InputError, match=r"^members=0; expected an integer ≥ 1$"):
    training_bytes([784, 30, 10], 10, members=0)


BIG = [784, 100_000, 100_000, 10]


def test_an_oversized_network_is_refused_with_the_numbers(monkeypatch):
  monkeypatch.setattr(memory, "available_bytes", lambda device: 24_000_000_000)
  with pytest.raises(OutOfMemory) as e:
    check_memory(BIG, 10)
  # 10 079 600 010 parameters: 2 · 4 bytes each + 64 = 80.6 GB; 2·10·(784 + 2·200 010)·4 bytes
  # of activations = 32.1 MB.
  assert str(e.value) == (
    "the network [784, 100000, 100000, 10] needs about 80.7 GB to train (parameters, gradients "
    "and optimizer state 80.6 GB, activations 32.1 MB at mini-batch 10) but the CPU has 24.0 GB "
    "available; expected a smaller network or mini-batch"
  )
  assert isinstance(e.value, jn.InputError)
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
  assert memory._cgroup_available(str(root), str(tmp_path / "self")) == 2 << 30
  write(root / "a" / "b" / "memory.max", f"{7 << 29}\n")  # 3.5 GiB, 6 used, nothing droppable
  assert memory._cgroup_available(str(root), str(tmp_path / "self")) == 0
  write(tmp_path / "self", "0::/\n")  # a cgroup namespace: the root's files, here none
  assert memory._cgroup_available(str(root), str(tmp_path / "self")) is None


def test_cgroup_v1_limit_and_unlimited(tmp_path):
  root = tmp_path / "cgroup"
  write(tmp_path / "self", "5:cpu,cpuacct:/x\n4:memory:/docker/abc\n0::/\n")
  mine = root / "memory" / "docker" / "abc"
  write(mine / "memory.limit_in_bytes", "9223372036854771712\n")
  write(mine / "memory.usage_in_bytes", "1000\n")
  assert memory._cgroup_available(str(root), str(tmp_path / "self")) is None
  write(mine / "memory.limit_in_bytes", f"{4 << 30}\n")
  write(mine / "memory.usage_in_bytes", f"{3 << 30}\n")
  write(mine / "memory.stat", f"cache 9\ntotal_inactive_file {1 << 29}\n")
  assert memory._cgroup_available(str(root), str(tmp_path / "self")) == (1 << 30) + (1 << 29)


def test_host_available_is_the_smaller_of_meminfo_and_cgroup(monkeypatch):
  monkeypatch.setattr(memory, "_meminfo_available", lambda: 5_000)
  monkeypatch.setattr(memory, "_cgroup_available", lambda: 3_000)
  assert available_bytes(jax.devices("cpu")[0]) == 3_000
  monkeypatch.setattr(memory, "_cgroup_available", lambda: None)
  assert available_bytes(jax.devices("cpu")[0]) == 5_000
  monkeypatch.setattr(memory, "_meminfo_available", lambda: None)
  assert available_bytes(jax.devices("cpu")[0]) is None
