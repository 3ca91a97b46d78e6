"""Will a training run fit in memory? An estimate made before anything is allocated.

`training_bytes` counts what a run holds at its peak, `available_bytes` asks the device (or, for
the CPU, the host and its cgroup) how much it has free, and `check_memory` compares the two, so
that a network too large for the machine is refused in a line instead of swapping or hanging.
"""

import os
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxnets._checks import InputError, check_int, check_sizes

OPTIMIZER_SCALAR_BYTES = 64
"""The optimizer's scalars (learning rate, step count, ...): a few values, 64 bytes in all."""

_UNLIMITED = 1 << 60  # a cgroup v1 limit this large means "no limit" (it prints 2^63 - 4096)


class OutOfMemory(InputError):
  """A run that needs more memory than its device has available."""


def _itemsize(dtype: Any) -> int:
  try:
    return np.dtype(jnp.dtype(dtype)).itemsize
  except TypeError:
    raise InputError(f"dtype={dtype!r}; expected a dtype such as 'float32'") from None


def parameter_count(sizes: Sequence[int]) -> int:
  """Weights and biases of a network of `sizes`: Σ_l n_{l+1}·n_l + n_{l+1}."""
  sizes = check_sizes(sizes)
  return sum(n_out * n_in + n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))


def _estimate(
  sizes: Sequence[int],
  batch_size: int,
  dtype: Any,
  optimizer_slots: int,
  members: int,
  eval_examples: int,
  eval_members: int | None = None,
) -> tuple[int, int, int]:
  """(state bytes, activation bytes, examples the activations are counted for)."""
  sizes = check_sizes(sizes)
  batch_size = check_int("batch_size", batch_size, minimum=1)
  optimizer_slots = check_int("optimizer_slots", optimizer_slots, minimum=0)
  members = check_int("members", members, minimum=1)
  eval_examples = check_int("eval_examples", eval_examples, minimum=0)
  eval_members = members if eval_members is None else check_int("eval_members", eval_members, 1)
  itemsize = _itemsize(dtype)
  # Parameters, their gradients, and `optimizer_slots` arrays of the same shapes.
  state = (2 + optimizer_slots) * parameter_count(sizes) * itemsize + OPTIMIZER_SCALAR_BYTES
  # Per example: the input a_0, then z_l and a_l of every later layer.
  per_example = (sizes[0] + 2 * sum(sizes[1:])) * itemsize
  train = members * 2 * batch_size * per_example  # forward values and their gradients (backward)
  evaluate = eval_members * eval_examples * per_example  # forward only
  return members * state, max(train, evaluate), batch_size if train >= evaluate else -1


def training_bytes(
  sizes: Sequence[int],
  batch_size: int,
  *,
  dtype: Any = "float32",
  optimizer_slots: int = 0,
  members: int = 1,
  eval_examples: int = 0,
  eval_members: int | None = None,
  data_bytes: int = 0,
) -> int:
  """About how many bytes training a network of `sizes` needs on its device, at its peak.

  The count, with P = Σ_l (n_{l+1}·n_l + n_{l+1}) parameters and A = n_0 + 2·Σ_{l≥1} n_l values
  per example (the input, then z_l and a_l of every layer):

    members · ((2 + optimizer_slots)·P·itemsize + 64)      parameters, gradients, optimizer state
    + max(members · 2·batch_size, eval_members · eval_examples)·A·itemsize     activations
    + data_bytes

  The dataset is not counted (it is in host memory already) unless the caller adds it.

  Args:
    sizes: the layer sizes [n_0, ..., n_L].
    batch_size: examples of a mini-batch.
    dtype: the parameters' dtype ("float32": 4 bytes a number).
    optimizer_slots: arrays the size of the parameters the optimizer keeps: 0 for SGD, 1 for
      momentum, 2 for Adam.
    members: networks trained at once (a population); all of the above is counted for each.
    eval_examples: examples evaluated in one forward pass (a validation or test set evaluated
      whole); 0 when evaluation is batched no larger than training.
    eval_members: members evaluated at once (default: all of them).
    data_bytes: data that must be copied to the device (0 for the CPU, where it already is).

  Returns:
    The estimate in bytes.

  Raises:
    InputError: bad sizes, a batch size < 1, negative counts.
  """
  state, activations, _ = _estimate(
    sizes, batch_size, dtype, optimizer_slots, members, eval_examples, eval_members
  )
  return state + activations + check_int("data_bytes", data_bytes, minimum=0)


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
  """Refuses a run that `training_bytes` says won't fit in `device`'s available memory.

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
  state, activations, at_batch = _estimate(
    sizes, batch_size, dtype, optimizer_slots, members, eval_examples, eval_members
  )
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
    f"at mini-batch {batch_size}"
    if at_batch > 0
    else f"evaluating {eval_examples} examples at once"
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


def check_fit_memory(
  sizes: tuple[int, ...],
  params: Any,
  optimizer: Any,
  batch_size: int,
  validation: Any,
  test: Any,
  mesh: Any,
  members: int = 1,
  eval_members: int | None = None,
) -> None:
  """`check_memory` before `fit` (or `fit_population`, `members` networks stacked in `params`,
  evaluated `eval_members` at a time) allocates its gradients, optimizer state and activations."""
  leaves = jax.tree.leaves(params)
  param_bytes = sum(a.size * a.dtype.itemsize for a in leaves)
  state = jax.eval_shape(optimizer.init, params)  # its shapes, nothing allocated
  state_bytes = sum(a.size * a.dtype.itemsize for a in jax.tree.leaves(state))
  device = mesh.devices.flat[0] if mesh is not None else jax.devices()[0]
  check_memory(
    sizes,
    batch_size,
    dtype=leaves[0].dtype,
    optimizer_slots=round(state_bytes / param_bytes),
    members=members,
    eval_members=eval_members,
    eval_examples=max([len(d.x) for d in (validation, test) if d is not None], default=0),
    device=device,
  )
