"""A population's members spread over devices: a mesh with one axis named "members".

Each device trains its own members with the same program a single device runs for a smaller
population (`program.population_epoch` inside `shard_map`): parameters, optimizer state (η
included) and per-member orders are split on the member axis, the training data and a shared
order are replicated, and nothing crosses devices but the epoch's metrics, gathered so that every
process can read them. So member k computes exactly what it computes on one device, wherever it
lives. The devices may span several processes (`jax.distributed`): every process passes the same
whole population and data, and holds its devices' members.

A population whose size M is not a multiple of the devices is padded with copies of its last
member up to one (`pad`); the copies are trained and dropped (`unpad`): they never show in a
result.
"""

import functools

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from jaxnets._checks import InputError
from jaxnets._engine import program

AXIS = "members"


def check_mesh(mesh) -> int:
  """The devices of a members mesh: one axis named "members"."""
  if not isinstance(mesh, Mesh) or tuple(mesh.axis_names) != (AXIS,):
    names = tuple(mesh.axis_names) if isinstance(mesh, Mesh) else mesh
    raise InputError(
      f"mesh has axes {names}; expected a jax.sharding.Mesh with one axis named 'members', e.g. "
      "Mesh(jax.devices(), ('members',))"
    )
  return mesh.size


def padded(members: int, devices: int) -> int:
  """The population size padded up to a multiple of the devices."""
  return -(-members // devices) * devices


def pad(tree, members: int, total: int):
  """Arrays with a leading member axis of `members` padded to `total` with copies of the last."""
  if total == members:
    return tree
  return jax.tree.map(
    lambda a: np.concatenate([np.asarray(a), np.repeat(np.asarray(a)[-1:], total - members, 0)]),
    tree,
  )


def unpad(tree, members: int):
  """The first `members` entries of every array's leading axis."""
  return jax.tree.map(lambda a: a[:members], tree)


def put(tree, mesh, split: bool):
  """NumPy or JAX arrays as global arrays on `mesh`: split on their leading (member) axis, or
  replicated. Every process passes the same whole values and keeps its devices' parts."""
  sharding = NamedSharding(mesh, P(AXIS) if split else P())

  def one(a):
    a = np.asarray(a) if not isinstance(a, jax.Array) or a.is_fully_addressable else a
    if isinstance(a, jax.Array):
      return jax.device_put(a, sharding)
    return jax.make_array_from_callback(a.shape, sharding, lambda index: a[index])

  return jax.tree.map(one, tree)


def gathered(tree):
  """Global arrays as NumPy arrays, whole, on every process (a collective: every process calls
  it at the same point)."""
  leaves = jax.tree.leaves(tree)
  if all(not isinstance(a, jax.Array) or a.is_fully_addressable for a in leaves):
    return jax.tree.map(np.asarray, tree)
  from jax.experimental import multihost_utils  # noqa: PLC0415

  return multihost_utils.process_allgather(tree, tiled=True)


def _shard_map(f, mesh, in_specs, out_specs):
  """`shard_map` without the replication check (each device's program is one device's)."""
  return jax.shard_map(f, mesh=mesh, in_specs=in_specs, out_specs=out_specs, check_vma=False)


def _everywhere(tree):
  """Per-device values (a leading member axis) gathered along the mesh: the whole on every
  device."""
  return jax.tree.map(lambda a: jax.lax.all_gather(a, AXIS, tiled=True), tree)


@functools.partial(jax.jit, static_argnames=("mesh", *program.STATIC))
def population_epoch(params, opt_state, x_NxI, y_N, order, *, mesh, **static):
  """`program.population_epoch`, each device on its members; the metrics replicated."""
  shared = order.ndim == 1

  def local(p, s, x, y, o):
    p, s, metrics = program.population_epoch(p, s, x, y, o, **static)
    return p, s, _everywhere(metrics)

  specs = (P(AXIS), P(AXIS), P(), P(), P() if shared else P(AXIS))
  return _shard_map(local, mesh, specs, (P(AXIS), P(AXIS), P()))(
    params, opt_state, x_NxI, y_N, order
  )


@functools.partial(jax.jit, static_argnames=("mesh", "members_per_call"))
def evaluate_population(params, x_NxI, y_N, *, mesh, members_per_call: int):
  """`program.evaluate_population`, each device on its members; (cost, correct) replicated."""

  def local(p, x, y):
    return _everywhere(program.evaluate_population(p, x, y, members_per_call=members_per_call))

  return _shard_map(local, mesh, (P(AXIS), P(), P()), P())(params, x_NxI, y_N)
