"""An epoch of mini-batch SGD as one compiled program, and the evaluation of a set.

`network_epoch` is `jaxnets.sgd_epoch`'s loop as a `lax.scan`: the epoch's order cut into
mini-batches (`minibatch_indices`), their rows gathered about `CHUNK_ROWS` at a time (an outer scan
over chunks, an inner one over a chunk's mini-batches), one step each, the costs summed on the
device; or, where `blocks` says, the same steps in blocks (`jaxnets._engine.blocks`).
`population_epoch` is the same for M networks stacked on a leading axis: each member's epoch
vmapped, or each step vmapped over the members, or a shared shuffle in blocks. Both return the
epoch's metrics for the host to read once: the mean mini-batch cost and whether it and every
parameter are finite.
"""

import functools

import jax
import jax.numpy as jnp
import optax
from jax.sharding import NamedSharding, PartitionSpec

from jaxnets._engine import blocks as blocked
from jaxnets._engine.metrics import epoch_metrics
from jaxnets.cost import quadratic_cost, targets
from jaxnets.evaluation import predict
from jaxnets.sgd import minibatch_indices

CHUNK_ROWS = 1024
"""About how many training rows an epoch gathers at once (docs/design.md says why)."""


def step(params, opt_state, x_BxI, y_BxO, optimizer, cost):
  """One step: the mini-batch cost, its gradient, and the optimizer's update."""
  cost_value, grads = jax.value_and_grad(cost)(params, x_BxI, y_BxO)
  with jax.numpy_dtype_promotion("standard"):  # optax's own arithmetic (adam's β^t: float ** int)
    updates, opt_state = optimizer.update(grads, opt_state, params)
  return optax.apply_updates(params, updates), opt_state, cost_value


def _scan_steps(params, opt_state, x_NxI, y_N, full, rest, *, one_step, chunk_rows, shard):
  """The steps of `full` (S, ..., B) mini-batches of indices and a last smaller one, `rest`
  (1, ..., R), gathered a chunk of K mini-batches at a time. Returns (params, opt_state, total)."""
  n_out, dtype = params[-1].w.shape[-2], params[-1].w.dtype
  steps, batch_size = full.shape[0], full.shape[-1]
  k = max(1, min(steps, chunk_rows // batch_size))

  def gather(idx):  # (K, ..., B) indices → x (K, ..., B, I), targets (K, ..., B, O)
    return shard(x_NxI[idx]), shard(targets(y_N[idx], n_out, dtype))

  def chunk(carry, idx):
    def one(carry, xy):
      params, opt_state, total = carry
      params, opt_state, cost_value = one_step(params, opt_state, *xy)
      return (params, opt_state, total + cost_value), None  # the costs summed step by step

    return jax.lax.scan(one, carry, gather(idx))[0]

  total = jnp.zeros(params[-1].b.shape[:-1], dtype)  # (), or (M,) for a population
  whole = full[: steps // k * k].reshape(steps // k, k, *full.shape[1:])
  carry = jax.lax.scan(lambda c, idx: (chunk(c, idx), None), (params, opt_state, total), whole)[0]
  if steps % k:
    carry = chunk(carry, full[steps // k * k :])
  if rest.shape[-1]:
    carry = chunk(carry, rest)
  return carry


def network_epoch(
  params, opt_state, x_NxI, y_N, order_N, *, batch_size, optimizer, cost, mesh, blocks, chunk_rows
):
  """One network's epoch on `order_N`, unjitted: (params, opt_state, metrics).

  With `mesh` (a "batch" axis), each mini-batch is sharded over its devices; a last mini-batch
  too small to split evenly (the book's remainder) is not sharded. With `blocks`, the steps run
  in blocks (plain SGD only; the caller decides, `blocks.choose`)."""
  if blocks:
    return blocked.network_epoch(params, opt_state, x_NxI, y_N, order_N, batch_size=batch_size)
  x_NxI, y_N = jnp.asarray(x_NxI), jnp.asarray(y_N)
  full_SxB, rest_R = minibatch_indices(order_N, batch_size)

  def shard(a_KxBxD):
    if mesh is None or a_KxBxD.shape[1] % mesh.size:
      return a_KxBxD
    return jax.lax.with_sharding_constraint(
      a_KxBxD, NamedSharding(mesh, PartitionSpec(None, "batch"))
    )

  def one_step(params, opt_state, x_BxI, y_BxO):
    return step(params, opt_state, x_BxI, y_BxO, optimizer, cost)

  params, opt_state, total = _scan_steps(
    params, opt_state, x_NxI, y_N, full_SxB, rest_R[None],
    one_step=one_step, chunk_rows=chunk_rows, shard=shard,
  )  # fmt: skip
  steps = full_SxB.shape[0] + (1 if rest_R.shape[0] else 0)
  return params, opt_state, epoch_metrics(params, total, steps)


def population_epoch(params, opt_state, x_NxI, y_N, order, *, batch_size, optimizer, cost, blocks):
  """M networks' epoch, unjitted: params and opt_state stacked on a leading axis M, `order` one
  shared (N,) or one per member (M, N). Member k takes the steps of its single run:

  - M = 1: the single run's program (a vmap of one is slower);
  - a shared order in blocks (M ≥ 2): the members' first layers stacked into one matrix;
  - a shared order, or per-member orders in blocks: each member's epoch vmapped;
  - per-member orders in plain steps: each step vmapped over the members, a chunk gathering
    every member's mini-batches at once, x of shape (K, M, B, I).
  """
  m = jax.tree.leaves(params)[0].shape[0]
  shared = order.ndim == 1
  one_network = functools.partial(
    network_epoch, x_NxI=x_NxI, y_N=y_N, batch_size=batch_size, optimizer=optimizer,
    cost=cost, mesh=None, blocks=blocks, chunk_rows=CHUNK_ROWS,
  )  # fmt: skip
  if m == 1:
    p, s = jax.tree.map(lambda a: a[0], (params, opt_state))
    out = one_network(p, s, order_N=order if shared else order[0])
    return jax.tree.map(lambda a: a[None], out)
  if shared and blocks:
    return blocked.shared_shuffle_epoch(params, opt_state, x_NxI, y_N, order, batch_size=batch_size)
  if shared or blocks:
    return jax.vmap(lambda p, s, o: one_network(p, s, order_N=o), (0, 0, None if shared else 0))(
      params, opt_state, order
    )
  full_MxSxB, rest_MxR = jax.vmap(lambda o: minibatch_indices(o, batch_size))(order)

  def one_step(params, opt_state, x_MxBxI, y_MxBxO):
    return jax.vmap(lambda *a: step(*a, optimizer, cost))(params, opt_state, x_MxBxI, y_MxBxO)

  params, opt_state, total_M = _scan_steps(
    params, opt_state, jnp.asarray(x_NxI), jnp.asarray(y_N), full_MxSxB.transpose(1, 0, 2),
    rest_MxR[None], one_step=one_step, chunk_rows=max(1, CHUNK_ROWS // m), shard=lambda a: a,
  )  # fmt: skip
  steps = full_MxSxB.shape[1] + (1 if rest_MxR.shape[1] else 0)
  return params, opt_state, epoch_metrics(params, total_M, steps)


STATIC = ("batch_size", "optimizer", "cost", "blocks")
compiled_network_epoch = jax.jit(
  functools.partial(network_epoch, chunk_rows=CHUNK_ROWS), static_argnames=(*STATIC, "mesh")
)
"""`network_epoch` compiled, once per shape and static arguments (`fit` and `train_epoch`'s)."""
compiled_population_epoch = jax.jit(population_epoch, static_argnames=STATIC)
"""`population_epoch` compiled (`fit_population` and `train_population_epoch`'s)."""


@jax.jit
def evaluate_set(params, x_NxI, y_N):
  """(cost, correct) of one network on a set: the quadratic cost, and the count of examples whose
  largest output is their label (−1 for regression targets, which have no accuracy)."""
  cost = quadratic_cost(params, x_NxI, y_N)
  if jnp.issubdtype(y_N.dtype, jnp.integer):
    return cost, jnp.sum(predict(params, x_NxI) == y_N, dtype=jnp.int32)
  return cost, jnp.int32(-1)


@functools.partial(jax.jit, static_argnames="members_per_call")
def evaluate_population(params, x_NxI, y_N, members_per_call: int):
  """(cost (M,), correct (M,)) of every member on a set, `members_per_call` at a time."""
  return jax.lax.map(lambda p: evaluate_set(p, x_NxI, y_N), params, batch_size=members_per_call)
