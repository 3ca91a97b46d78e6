"""Saving and loading networks and training checkpoints: npz files, no pickle, checksummed.

A write goes to a temporary file in the same folder, is flushed and fsynced, then renamed over the
destination (`jaxnets._files.write_atomic`): a crash at any moment leaves either the old file or
the new one, never half of one. A write that fails (a full disk, a read-only or missing folder)
raises `WriteError`, naming the destination, and leaves the old file as it was. Each file carries
the sha256 of its arrays, checked on load.
"""

import hashlib
import io
import json
import os
import zipfile
from collections.abc import Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxnets._checks import InputError, network_or_population
from jaxnets._files import WriteError, write_atomic
from jaxnets.network import Layer, Params

__all__ = [
  "Checkpoint",
  "CheckpointError",
  "WriteError",
  "load_checkpoint",
  "load_params",
  "save_checkpoint",
  "save_params",
]

_CHECKSUM_KEY = "__sha256__"


class CheckpointError(InputError):
  """A checkpoint that is missing, truncated, corrupt, or not what the caller expects."""


def _digest(arrays: Mapping[str, np.ndarray]) -> str:
  digest = hashlib.sha256()
  for key in sorted(arrays):
    a = np.ascontiguousarray(arrays[key])
    digest.update(f"{key}|{a.dtype.str}|{a.shape}|".encode())
    digest.update(a.tobytes())
  return digest.hexdigest()


def save_arrays(path: str | os.PathLike, arrays: Mapping[str, np.ndarray]) -> None:
  """Atomically writes named arrays to an npz file with their sha256.

  Args:
    path: the destination; its folder must exist.
    arrays: names → arrays (numeric or fixed-width strings, never objects).

  Raises:
    WriteError: the file could not be written (see `write_atomic`); an earlier one is kept.
  """
  arrays = {k: np.asarray(v) for k, v in arrays.items()}
  for k, a in arrays.items():
    if a.dtype.hasobject:
      raise InputError(f"array {k!r} has dtype object; only plain arrays are saved (no pickle)")
  arrays[_CHECKSUM_KEY] = np.array(_digest(arrays))
  buffer = io.BytesIO()
  np.savez(buffer, **arrays)  # type: ignore[arg-type]  # (numpy stubs: allow_pickle)
  write_atomic(path, buffer.getvalue())


def load_arrays(path: str | os.PathLike) -> dict[str, np.ndarray]:
  """Reads an npz written by `save_arrays` and verifies its checksum.

  Raises:
    CheckpointError: the file is missing, truncated or corrupt, or its checksum doesn't match.
  """
  path = os.fspath(path)
  if not os.path.isfile(path):
    raise CheckpointError(f"checkpoint {path!r} does not exist or is not a file")
  try:
    with np.load(path, allow_pickle=False) as npz:
      arrays = {k: npz[k] for k in npz.files}
  except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
    raise CheckpointError(f"checkpoint {path!r} is truncated or corrupt: {e}") from e
  stored = arrays.pop(_CHECKSUM_KEY, None)
  if stored is None:
    raise CheckpointError(
      f"checkpoint {path!r} has no checksum; expected a file written by jaxnets.save_params"
    )
  actual = _digest(arrays)
  if str(stored) != actual:
    raise CheckpointError(
      f"checkpoint {path!r} is corrupt: its arrays hash to {actual}, expected {stored}"
    )
  return arrays


def params_to_arrays(params: Params, prefix: str = "") -> dict[str, np.ndarray]:
  """A network (or a population, stacked) as named numpy arrays: {prefix}w_0, {prefix}b_0, ..."""
  network_or_population(params)
  arrays = {}
  for l, (w, b) in enumerate(params):
    arrays[f"{prefix}w_{l}"] = np.asarray(w)
    arrays[f"{prefix}b_{l}"] = np.asarray(b)
  return arrays


def arrays_to_params(
  arrays: Mapping[str, np.ndarray], prefix: str = "", source: str = "", dtype: Any = None
) -> Params:
  """The inverse of `params_to_arrays`; raises CheckpointError if layers are missing or mismatch,
  or if they are float64 and JAX's x64 mode is off (JAX would silently round them to float32)
  and no `dtype` to convert them to is given."""
  n_layers = sum(1 for k in arrays if k.startswith(f"{prefix}w_"))
  if n_layers == 0:
    raise CheckpointError(f"checkpoint {source!r} holds no network (no array {prefix}w_0)")
  params = []
  for l in range(n_layers):
    try:
      w, b = arrays[f"{prefix}w_{l}"], arrays[f"{prefix}b_{l}"]
    except KeyError as e:
      raise CheckpointError(f"checkpoint {source!r} lacks array {e.args[0]!r}") from e
    if dtype is not None:
      w, b = w.astype(dtype), b.astype(dtype)
    elif w.dtype == np.float64 and not jax.config.read("jax_enable_x64"):
      raise CheckpointError(
        f"checkpoint {source!r} holds float64 parameters but JAX's x64 mode is off; expected "
        "them loaded inside `with jax.enable_x64(True):`, or with dtype='float32' to convert"
      )
    params.append(Layer(jnp.asarray(w), jnp.asarray(b)))
  try:
    network_or_population(params)
  except InputError as e:
    raise CheckpointError(f"checkpoint {source!r} holds an inconsistent network: {e}") from e
  return params


def save_params(path: str | os.PathLike, params: Params) -> None:
  """Saves a network to `path` (npz, atomic, checksummed). Loading gives back the same bits.

  A population (`jaxnets.fit_population`'s params, stacked on a leading member axis) is saved
  and loaded stacked; member k is `jaxnets.member(params, k)`.

  Raises:
    WriteError: the file could not be written (see `write_atomic`); an earlier one is kept.
  """
  save_arrays(path, params_to_arrays(params))


def load_params(path: str | os.PathLike, dtype: Any = None) -> Params:
  """Loads a network saved by `save_params`, or the network inside a training checkpoint.

  Args:
    path: the file.
    dtype: convert the parameters to this dtype (None: keep the saved one; float64 needs JAX's
      x64 mode).

  Returns:
    A list of `Layer(w, b)`, bit-identical to what was saved (stacked, for a population).

  Raises:
    CheckpointError: the file is missing, truncated, corrupt, or holds no consistent network.
  """
  arrays = load_arrays(path)
  prefix = "params/" if "params/w_0" in arrays else ""
  return arrays_to_params(arrays, prefix=prefix, source=os.fspath(path), dtype=dtype)


class Checkpoint(NamedTuple):
  """Everything a run needs to continue exactly where it stopped."""

  params: Params
  opt_state: Any  # the optimizer's state pytree
  epoch: int  # epochs completed
  key: jax.Array  # the shuffle key; epoch e shuffles with epoch_order(key, e, n)
  config: dict[str, Any]  # the run's TrainConfig as a dict
  history: dict[str, list[float]]  # per-epoch metrics so far


def save_checkpoint(path: str | os.PathLike, ckpt: Checkpoint) -> None:
  """Saves a training checkpoint: params, optimizer state, PRNG key, epoch, config, history.

  The file is an npz of plain arrays (no pickle), written atomically, with a checksum.

  Raises:
    WriteError: the file could not be written (see `write_atomic`); an earlier one is kept.
  """
  arrays = params_to_arrays(ckpt.params, prefix="params/")
  for i, leaf in enumerate(jax.tree.leaves(ckpt.opt_state)):
    arrays[f"opt/{i}"] = np.asarray(leaf)
  arrays["epoch"] = np.array(ckpt.epoch, np.int64)
  arrays["key"] = np.asarray(jax.random.key_data(ckpt.key))
  arrays["config"] = np.array(json.dumps(ckpt.config))
  for name, values in ckpt.history.items():
    arrays[f"history/{name}"] = np.asarray(values, np.float64)
  save_arrays(path, arrays)


def load_checkpoint(path: str | os.PathLike, opt_state_like: Any = None) -> Checkpoint:
  """Loads a checkpoint written by `save_checkpoint`.

  Args:
    path: the checkpoint file.
    opt_state_like: a state of the same optimizer (e.g. `optimizer.init(params)`, or its
      `jax.eval_shape`), whose structure the saved leaves are put back into; None leaves
      `opt_state` a list of leaves.

  Raises:
    CheckpointError: missing, truncated or corrupt file, or an optimizer state that doesn't fit.
  """
  source = os.fspath(path)
  arrays = load_arrays(path)
  for required in ("epoch", "key", "config"):
    if required not in arrays:
      raise CheckpointError(
        f"checkpoint {source!r} lacks {required!r}: it is a network "
        "(save_params), not a training checkpoint"
      )
  params = arrays_to_params(arrays, prefix="params/", source=source)
  leaves = [
    jnp.asarray(arrays[f"opt/{i}"]) for i in range(sum(k.startswith("opt/") for k in arrays))
  ]
  opt_state: Any = leaves
  if opt_state_like is not None:
    like, treedef = jax.tree.flatten(opt_state_like)
    if [(a.shape, a.dtype) for a in like] != [(a.shape, a.dtype) for a in leaves]:
      raise CheckpointError(
        f"checkpoint {source!r} holds an optimizer state of "
        f"{len(leaves)} arrays that doesn't fit this run's optimizer "
        f"({len(like)} arrays)"
      )
    opt_state = jax.tree.unflatten(treedef, leaves)
  history = {
    k.removeprefix("history/"): v.tolist() for k, v in arrays.items() if k.startswith("history/")
  }
  return Checkpoint(
    params=params,
    opt_state=opt_state,
    epoch=int(arrays["epoch"]),
    key=jax.random.wrap_key_data(jnp.asarray(arrays["key"])),
    config=json.loads(str(arrays["config"])),
    history=history,
  )
