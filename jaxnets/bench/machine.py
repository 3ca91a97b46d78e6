"""The machine a benchmark ran on: its CPU (model, cores, vector extensions) and its float32
matmul peaks, so that every figure names what measured it."""

import math
import os
import platform
import time

import numpy as np

from jaxnets._engine.device import usable_cores

VECTOR_FLAGS = (
  "sse4_2",
  "avx",
  "avx2",
  "fma",
  "avx_vnni",
  "avx512f",
  "avx512bw",
  "avx512vl",
  "avx512_vnni",
  "avx512_bf16",
  "avx512_fp16",
  "amx_tile",
  "amx_bf16",
  "amx_int8",
  "asimd",
  "sve",
  "sve2",
)
"""The vector extensions the table names, of the CPU's flags (x86) or features (Arm)."""


def cpu_info(cpuinfo: str = "/proc/cpuinfo") -> dict:
  """The CPU: model name, vendor, family, model and stepping, core counts, flags, and which of
  `VECTOR_FLAGS` it has; from /proc/cpuinfo where there is one, else from `platform`."""
  fields: dict[str, str] = {}
  try:
    with open(cpuinfo) as f:
      for line in f:
        if not line.strip():
          break  # the first processor's block is enough
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
  except OSError:
    pass
  flags = (fields.get("flags") or fields.get("Features") or "").split()
  number = lambda k: int(fields[k]) if fields.get(k, "").isdigit() else None  # noqa: E731
  return {
    "model_name": fields.get("model name") or platform.processor() or platform.machine(),
    "vendor": fields.get("vendor_id") or fields.get("CPU implementer"),
    "family": number("cpu family"),
    "model": number("model"),
    "stepping": number("stepping"),
    "cores": os.cpu_count(),
    "usable_cores": usable_cores(),
    "vector_extensions": [f for f in VECTOR_FLAGS if f in flags],
    "flags": flags,
  }


def describe_cpu(cpu: dict) -> str:
  """One line: "AMD EPYC (family 25, model 17), 2 cores; vector extensions: avx2 fma ..."."""
  ids = ", ".join(f"{k} {cpu[k]}" for k in ("family", "model") if cpu.get(k) is not None)
  return (
    f"{cpu['model_name']}{f' ({ids})' if ids else ''}, {cpu['usable_cores']} cores; vector "
    f"extensions: {' '.join(cpu['vector_extensions']) or 'none named'}"
  )


def matmul_peak(device, n: int | None = None, repeats: int = 10) -> float:
  """The device's float32 matmul GFLOP/s: the best of `repeats` (n, n) @ (n, n) products."""
  import jax
  import jax.numpy as jnp

  n = n or (2048 if device.platform == "cpu" else 8192)
  rng = np.random.default_rng(0)
  a, b = (jax.device_put(rng.standard_normal((n, n), np.float32), device) for _ in range(2))
  matmul = jax.jit(jnp.matmul)
  matmul(a, b).block_until_ready()
  best = math.inf
  for _ in range(repeats):
    start = time.perf_counter()
    matmul(a, b).block_until_ready()
    best = min(best, time.perf_counter() - start)
  return 2 * n**3 / best / 1e9


def one_core_peak(n: int = 1024, repeats: int = 10) -> float | None:
  """One CPU core's float32 matmul GFLOP/s: NumPy's BLAS limited to one thread, the best of
  `repeats` (n, n) @ (n, n) products; None without threadpoolctl."""
  try:
    from threadpoolctl import threadpool_limits
  except ImportError:
    return None
  rng = np.random.default_rng(0)
  a, b = (rng.standard_normal((n, n), dtype=np.float32) for _ in range(2))
  best = math.inf
  with threadpool_limits(1):
    a @ b
    for _ in range(repeats):
      start = time.perf_counter()
      a @ b
      best = min(best, time.perf_counter() - start)
  return 2 * n**3 / best / 1e9
