"""Will a training run fit in memory? Checked before anything is allocated.

`jaxnets._engine.memory.training_bytes` estimates what a run holds at its peak; `available_bytes`
asks the device (or, for the CPU, the host and its cgroup) how much it has free, and
`check_memory` compares the two, so that a network too large for the machine is refused in a line
instead of swapping or hanging. The command line checks every run; a library user calls
`check_memory` before `init_params` allocates anything.
"""

import os
from collections.abc import Sequence
from typing import Any

import jax

from jaxnets._checks import InputError, check_int, check_sizes
from jaxnets._engine.memory import estimate, training_bytes

__all__ = [
  "OutOfMemory",
  "available_bytes",
  "check_memory",
  "host_available_bytes",
  "human_bytes",
  "training_bytes",
]

_UNLIMITED = 1 << 60  # a cgroup v1 limit this large means "no limit" (it prints 2^63 - 4096)


class OutOfMemory(InputError):
  """A run that needs more memory than its device has available."""


def _read_int(path: str) -> int | None:
  """The integer in a /proc or /sys file; None if absent, unreadable or "max"."""
  try:
    with open(path) as f:
      text = f.read().strip()
  except OSError:
    return None
  return int(text) if text.isdigit() else None


def _read_stat(path: str, key: str) -> int:
  """A value of a cgroup's memory.stat ("inactive_file 1234"), 0 if absent."""
  try:
    with open(path) as f:
      for line in f:
        name, _, value = line.partition(" ")
        if name == key and value.strip().isdigit():
          return int(value)
  except OSError:
    pass
  return 0


def _meminfo_available() -> int | None:
  try:
    with open("/proc/meminfo") as f:
      for line in f:
        if line.startswith("MemAvailable:"):
          return int(line.split()[1]) * 1024  # the kernel's "kB" are KiB
  except (OSError, ValueError, IndexError):
    pass
  return None


def _cgroup_dirs(root: str, self_cgroup: str) -> tuple[list[str], str, str, str, str]:
  """This process's cgroup folder and its ancestors up to the mount, for v2 or v1, with the names
  of their limit, usage and stat files and of the stat of reclaimable page cache."""
  v2 = os.path.exists(os.path.join(root, "cgroup.controllers"))
  mount = root if v2 else os.path.join(root, "memory")
  names = (
    ("memory.max", "memory.current", "memory.stat", "inactive_file")
    if v2
    else ("memory.limit_in_bytes", "memory.usage_in_bytes", "memory.stat", "total_inactive_file")
  )
  path = ""
  try:
    with open(self_cgroup) as f:
      for line in f:  # "0::/a/b" (v2), "4:memory:/a/b" (v1)
        _, controllers, where = line.rstrip("\n").split(":", 2)
        if (v2 and controllers == "") or (not v2 and "memory" in controllers.split(",")):
          path = where
          break
  except (OSError, ValueError):
    pass
  folder = os.path.normpath(os.path.join(mount, path.lstrip("/")))
  if os.path.commonpath([folder, mount]) != mount or not os.path.isdir(folder):
    folder = mount  # another cgroup namespace: this process sees its own cgroup as the root
  dirs = [folder]
  while folder != mount:
    folder = os.path.dirname(folder)
    dirs.append(folder)
  return (dirs, *names)


def _cgroup_available(root: str = "/sys/fs/cgroup", self_cgroup: str = "/proc/self/cgroup"):
  """The least, over this process's cgroup and its ancestors, of the limit minus the usage, not
  counting the page cache the kernel can drop (inactive files, as the kubelet's working set);
  None where no cgroup sets a limit. Works for cgroup v2 and v1."""
  dirs, limit_file, usage_file, stat_file, cache_key = _cgroup_dirs(root, self_cgroup)
  free = []
  for folder in dirs:
    limit = _read_int(os.path.join(folder, limit_file))
    usage = _read_int(os.path.join(folder, usage_file))
    if limit is None or usage is None or limit >= _UNLIMITED:
      continue
    usage -= min(usage, _read_stat(os.path.join(folder, stat_file), cache_key))
    free.append(max(0, limit - usage))
  return min(free) if free else None


def host_available_bytes() -> int | None:
  """The host's available memory for this process: the smaller of /proc/meminfo's MemAvailable
  and the cgroup's limit minus its usage (v2 or v1), whichever exist; None if neither does."""
  known = [b for b in (_meminfo_available(), _cgroup_available()) if b is not None]
  return min(known) if known else None


def available_bytes(device: Any = None) -> int | None:
  """The bytes `device` has free for a new run, or None when it can't tell.

  Args:
    device: a JAX device (None: `jax.devices()[0]`). On a CPU, the host's available memory
      (see `host_available_bytes`); on a GPU or TPU, its allocator's `bytes_limit` minus
      `bytes_in_use`, where `memory_stats()` reports them.

  Returns:
    Free bytes, or None when unknown.
  """
  if device is None:
    device = jax.devices()[0]
  if getattr(device, "platform", None) == "cpu":
    return host_available_bytes()
  try:
    stats = device.memory_stats()
  except Exception:  # a backend without memory statistics
    return None
  if not stats or "bytes_limit" not in stats:
    return None
  return max(0, int(stats["bytes_limit"]) - int(stats.get("bytes_in_use", 0)))


def human_bytes(n: int) -> str:
  """A byte count for people, in decimal units: "512 bytes", "8.0 MB", "80.6 GB"."""
  if n < 1000:
    return f"{n} bytes"
  size = float(n)
  for unit in ("kB", "MB", "GB", "TB", "PB"):
    size /= 1000
    if size < 999.95 or unit == "PB":
      return f"{size:.1f} {unit}"
  raise AssertionError("unreachable")


def check_memory(
  sizes: Sequence[int],
  batch_size: int,
  *,
  dtype: Any = "float32",
  optimizer_slots: int = 0,
  members: int = 1,
  eval_examples: int = 0,
  eval_members: int | None = None,
  data_bytes: int = 0,
  device: Any = None,
) -> int:
  """Refuses a run that `jaxnets._engine.memory.training_bytes` says won't fit in `device`'s
  available memory.

  Fast (it reads a few system files and the device's statistics) and allocates nothing. Where
  the available memory is unknown, the check passes.

  Args:
    sizes, batch_size, dtype, optimizer_slots, members, eval_examples, eval_members,
      data_bytes: as for `training_bytes`.
    device: the JAX device the run trains on (None: `jax.devices()[0]`).

  Returns:
    The estimate, in bytes.

  Raises:
    OutOfMemory: the estimate exceeds the available memory; the message names the sizes, both
      amounts and what they are made of.
    InputError: bad sizes or counts (see `training_bytes`).
  """
  state, activations, training = estimate(
    sizes, batch_size, dtype=dtype, optimizer_slots=optimizer_slots, members=members,
    eval_examples=eval_examples, eval_members=eval_members,
  )  # fmt: skip
  data_bytes = check_int("data_bytes", data_bytes, minimum=0)
  needed = state + activations + data_bytes
  if device is None:
    device = jax.devices()[0]
  available = available_bytes(device)
  if available is None or needed <= available:
    return needed
  what = f"the network {list(check_sizes(sizes))}"
  if members > 1:
    what = f"a population of {members} networks {list(check_sizes(sizes))}"
  where = (
    f"at mini-batch {batch_size}" if training else f"evaluating {eval_examples} examples at once"
  )
  parts = f"parameters, gradients and optimizer state {human_bytes(state)}, activations "
  parts += f"{human_bytes(activations)} {where}"
  if data_bytes:
    parts += f", data {human_bytes(data_bytes)}"
  platform = str(getattr(device, "platform", "device")).upper()
  raise OutOfMemory(
    f"{what} needs about {human_bytes(needed)} to train ({parts}) but the {platform} has "
    f"{human_bytes(available)} available; expected a smaller network or mini-batch"
  )
