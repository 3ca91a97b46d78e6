"""What several test files need, written once."""

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxnets as jn

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(REPO), "JAX_PLATFORMS": "cpu"}
"""The environment of a child process: this checkout's jaxnets, on the CPU."""


def small(mnist, n: int) -> jn.Dataset:
  """The first n training examples of MNIST."""
  return jn.Dataset(mnist.train.x[:n], mnist.train.y[:n])


def max_diff(a, b) -> float:
  """The largest absolute difference between two pytrees of arrays."""
  return max(float(jnp.max(jnp.abs(x - y))) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


def params_of(folder) -> jn.Params:
  """The network a run wrote to `folder/params.npz`."""
  return jn.load_params(os.path.join(folder, "params.npz"))


def numpy_forward(params, x) -> np.ndarray:
  """The network's outputs for a batch, in float64 NumPy: a ← σ(a wᵀ + b)."""
  a = np.asarray(x, np.float64)
  for w, b in params:
    a = 1 / (1 + np.exp(-(a @ np.asarray(w, np.float64).T + np.asarray(b, np.float64))))
  return a


def to_float64(tree):
  """A pytree's arrays as float64 NumPy arrays (for comparisons in float64, outside x64)."""
  return jax.tree.map(lambda a: np.asarray(a, np.float64), tree)


def jaxnets_command(*args: str, **kw) -> subprocess.Popen:
  """`python -m jaxnets ARGS` as a child process, its stdout and stderr piped (text)."""
  return subprocess.Popen(
    [sys.executable, "-m", "jaxnets", *args],
    stdout=subprocess.PIPE,
    stderr=subprocess.PIPE,
    text=True,
    env=ENV,
    **kw,
  )


def run_command(
  *args: str, module: str = "jaxnets", timeout: float = 300, **kw
) -> subprocess.CompletedProcess:
  """`python -m MODULE ARGS` to its end: (returncode, stdout, stderr)."""
  return subprocess.run(
    [sys.executable, "-m", module, *args],
    capture_output=True,
    text=True,
    env=ENV,
    timeout=timeout,
    **kw,
  )


def wait_for_file(path, proc: subprocess.Popen, timeout: float = 120) -> None:
  """Waits until `path` exists; fails if `proc` ends first or the time runs out."""
  deadline = time.time() + timeout
  while not os.path.exists(path):
    assert proc.poll() is None, proc.communicate()
    assert time.time() < deadline, f"{path} never appeared"
    time.sleep(0.01)


def temp_files(folder) -> list[str]:
  """Temporary files an atomic write left behind (there should be none)."""
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


@contextlib.contextmanager
def one_at_a_time(tmp_path_factory, name: str):
  """Holds a lock that every pytest-xdist worker of this session shares: tests that start several
  processes each take it, so that two of them never run at once on a small machine (where they
  would time each other out). (xdist's `--dist loadgroup` didn't group tests with pytest 9.2 and
  xdist 3.8.)"""
  import fcntl  # noqa: PLC0415

  base = tmp_path_factory.getbasetemp()
  folder = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
  with open(folder / f"{name}.lock", "w") as f:
    fcntl.flock(f, fcntl.LOCK_EX)
    try:
      yield
    finally:
      fcntl.flock(f, fcntl.LOCK_UN)
