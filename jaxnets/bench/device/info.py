"""What a device check ran on: the devices JAX sees and their memory, and the versions of Python,
JAX, jaxlib, its CUDA plugin and libraries, PyTorch and the other libraries the check uses.

Every probe is guarded: what a machine or a JAX version lacks (no GPU, no nvidia-smi, a JAX whose
private CUDA version module moved, a backend without `memory_stats`) is recorded as None, never an
error, so that the record is written wherever the check runs.
"""

import contextlib
import importlib
import importlib.metadata
import os
import platform
import subprocess
import sys
from typing import Any

import jax

from jaxnets.bench.machine import cpu_info

LIBRARIES = ("jax", "jaxlib", "numpy", "optax", "chex", "matplotlib", "torch", "pytest")
"""The packages whose versions the record names (None where one isn't installed)."""

CUDA_VERSION_FUNCTIONS = (
  "cuda_runtime_get_version",
  "cuda_runtime_build_version",
  "cuda_driver_get_version",
  "cudnn_get_version",
  "cudnn_build_version",
  "cublas_get_version",
  "cupti_get_version",
)
"""Functions of jaxlib's CUDA `_versions` module (private; each read where it exists)."""

NVIDIA_SMI_FIELDS = "name,driver_version,memory.total,compute_cap"


def package_version(name: str) -> str | None:
  """An installed distribution's version, or None."""
  try:
    return importlib.metadata.version(name)
  except importlib.metadata.PackageNotFoundError:
    return None


def jax_plugins() -> dict[str, str]:
  """The installed JAX plugin and NVIDIA library distributions (jax-cuda13-plugin, ...)."""
  out = {}
  for dist in importlib.metadata.distributions():
    name = (dist.metadata["Name"] or "").lower()
    if name.startswith(("jax-cuda", "jax_cuda", "jax-rocm", "libtpu", "nvidia-")):
      out[name] = dist.version
  return dict(sorted(out.items()))


def cuda_versions() -> dict[str, Any]:
  """The CUDA libraries' versions jaxlib's CUDA plugin reports (cuda_runtime_get_version: 12080
  for 12.8, ...), read from its private `_versions` module; {} without a CUDA plugin."""
  for module in ("jax_cuda13_plugin", "jax_cuda12_plugin", "jaxlib.cuda"):
    try:
      versions = importlib.import_module(f"{module}._versions")
    except Exception:  # not installed, or a plugin that fails to load
      continue
    out: dict[str, Any] = {"module": module}
    for name in CUDA_VERSION_FUNCTIONS:
      function = getattr(versions, name, None)
      if function is not None:
        try:
          out[name] = function()
        except Exception as e:  # a library that is absent on this machine
          out[name] = f"unavailable: {str(e).splitlines()[0][:80] if str(e) else type(e).__name__}"
    return out
  return {}


def nvidia_smi() -> list[dict[str, str]] | None:
  """`nvidia-smi`'s name, driver, memory and compute capability of each GPU; None without it."""
  try:
    done = subprocess.run(
      ["nvidia-smi", f"--query-gpu={NVIDIA_SMI_FIELDS}", "--format=csv,noheader"],
      capture_output=True,
      text=True,
      timeout=20,
    )
  except (OSError, subprocess.TimeoutExpired):
    return None
  if done.returncode:
    return None
  keys = NVIDIA_SMI_FIELDS.split(",")
  return [
    dict(zip(keys, (v.strip() for v in line.split(","))))
    for line in done.stdout.splitlines()
    if line.strip()
  ]


def memory_stats(device) -> dict[str, int] | None:
  """`device.memory_stats()` (bytes_limit, bytes_in_use, peak_bytes_in_use, ...); None where the
  backend keeps none (the CPU) or lacks the method."""
  try:
    stats = device.memory_stats()
  except Exception:
    return None
  if not stats:
    return None
  return {str(k): int(v) for k, v in stats.items() if isinstance(v, (int, float))}


def describe_device(device) -> dict[str, Any]:
  """One device: id, platform, kind, process, memory, and the CUDA compute capability."""
  return {
    "id": device.id,
    "platform": device.platform,
    "device_kind": device.device_kind,
    "process_index": device.process_index,
    "compute_capability": getattr(device, "compute_capability", None),
    "memory_stats": memory_stats(device),
  }


def torch_info() -> dict[str, Any] | None:
  """PyTorch's version, its CUDA build, whether it sees a GPU (and which), its float32 matmul
  precision; None where it isn't installed."""
  try:
    import torch
  except Exception:  # absent, or broken (a CUDA library it can't load)
    return None
  info: dict[str, Any] = {
    "version": torch.__version__,
    "cuda_build": torch.version.cuda,
    "cuda_available": False,
    "float32_matmul_precision": torch.get_float32_matmul_precision(),
  }
  with contextlib.suppress(Exception):
    info["cuda_available"] = bool(torch.cuda.is_available())
    if info["cuda_available"]:
      info["cuda_device"] = torch.cuda.get_device_name(0)
      info["cuda_matmul_allow_tf32"] = bool(torch.backends.cuda.matmul.allow_tf32)
  return info


def environment(device) -> dict[str, Any]:
  """Everything above for a check on `device` (a JAX device): the machine's devices, versions."""
  cpu = cpu_info()
  cpu.pop("flags", None)  # the vector extensions are kept; the whole list is long
  return {
    "python": platform.python_version(),
    "python_executable": sys.executable,
    "platform": platform.platform(),
    "versions": {name: package_version(name) for name in LIBRARIES},
    "jax_plugins": jax_plugins(),
    "cuda": cuda_versions(),
    "nvidia_smi": nvidia_smi() if device.platform == "gpu" else None,
    "torch": torch_info(),
    "default_backend": jax.default_backend(),
    "device": describe_device(device),
    "devices": [describe_device(d) for d in jax.devices(device.platform)],
    "cpu": cpu,
    "jax_config": {
      "jax_default_matmul_precision": jax.config.jax_default_matmul_precision,  # type: ignore[attr-defined]
      "jax_enable_x64": bool(jax.config.read("jax_enable_x64")),
    },
    "environment_variables": {
      k: v for k, v in sorted(os.environ.items()) if k.startswith(("JAX_", "XLA_", "CUDA_"))
    },
  }


def summary(env: dict[str, Any]) -> list[str]:
  """The environment in a few lines: device, memory, versions."""
  d, v = env["device"], env["versions"]
  stats = d["memory_stats"] or {}
  memory = (
    f"memory: {stats['bytes_limit'] / 1e9:.1f} GB for JAX, {stats.get('bytes_in_use', 0) / 1e9:.2f}"
    " GB in use"
    if "bytes_limit" in stats
    else "memory: no memory_stats (the host's)"
  )
  lines = [
    f"device: {d['platform']} {d['device_kind']} ({len(env['devices'])} of this platform"
    f"{', compute capability ' + str(d['compute_capability']) if d['compute_capability'] else ''}"
    f"); {memory}",
    f"python {env['python']}, jax {v['jax']}, jaxlib {v['jaxlib']}, numpy {v['numpy']}, "
    f"optax {v['optax']}, chex {v['chex']}, torch {v['torch'] or 'not installed'}, "
    f"pytest {v['pytest'] or 'not installed'}",
  ]
  cuda = env["cuda"]
  if cuda:
    runtime = cuda.get("cuda_runtime_get_version")
    cudnn = cuda.get("cudnn_get_version")
    lines.append(f"CUDA runtime {runtime}, cuDNN {cudnn} (via {cuda['module']})")
  for gpu in env["nvidia_smi"] or []:
    lines.append("nvidia-smi: " + ", ".join(f"{k} {val}" for k, val in gpu.items()))
  return lines
