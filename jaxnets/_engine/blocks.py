"""SGD over blocks of T steps: the same steps, the sums in another order, less memory traffic.

Within a block, layer l's weights after the steps s < t are W_l(t) = W_l − Σ_{s<t} D_l(s)ᵀ
A_{l−1}(s), with W_l those at the block's start, A_{l−1}(s) the layer's inputs at step s
(B × n_{l−1}, one row per example; A_0 = x) and D_l(s) = η ∂C/∂z_l(s) (B × n_l). So step t never
needs W_l(t):

    z_l(t) = a_{l−1}(t) W_l(t)ᵀ + b_l(t) = a_{l−1}(t) W_lᵀ − (a_{l−1}(t) A_{l−1}ᵀ) D_l + b_l(t),

with A and D the block's rows so far (those of later steps still 0), and backpropagating through it
gives δ_l W_l(t) = δ_l W_l − (δ_l Dᵀ) A_{l−1} by itself. At the block's end, one product applies the
T updates: W_l ← W_l − D_lᵀ A_{l−1}. The first layer's inputs are known for the whole block, so its
products x W_1ᵀ and the Gram matrix x xᵀ run once per block, as two large products.

A step then reads each weight matrix (twice) but writes none, where plain SGD reads and writes it
several times (the gradient, the update): what a wide layer's step costs at a small mini-batch. It
is the same SGD, exact in real arithmetic (float64: within 1e-11 of the plain steps, tested), its
float32 rounding different (within float32 rounding of the plain run, tested).

`choose` decides where blocks are used (`blocks="auto"`): plain SGD (`jaxnets.SGD`) and the
quadratic cost at mini-batches of B ≤ `BLOCK_ROWS` // 2, for
  - `network_epoch`: one network with a layer of ≥ `MIN_LAYER_WEIGHTS` weights (a population of
    such networks: each member's, vmapped);
  - `shared_shuffle_epoch`: a population of two layers or more whose members share one shuffle:
    their first layers, stacked into one W_1 (M·n_1 × n_0), share their inputs; M ≥ `MIN_MEMBERS`.
docs/design.md has the measurements behind each threshold.
"""

import jax
import jax.numpy as jnp

from jaxnets._checks import InputError
from jaxnets._engine.metrics import epoch_metrics
from jaxnets.cost import quadratic_cost, targets
from jaxnets.network import Layer, Params
from jaxnets.sgd import SGDTransformation, minibatch_indices

BLOCK_ROWS = 80
"""About how many training rows a block holds: T = BLOCK_ROWS // B steps of B examples."""

MIN_MEMBERS = 2
"""The fewest members of a shared-shuffle population whose epoch runs in blocks."""

MIN_LAYER_WEIGHTS = 1 << 16
"""The fewest weights of a network's largest layer for its epoch to run in blocks."""


def block_steps(batch_size: int) -> int:
  """T, the steps of a block at mini-batch size B (1: no blocks)."""
  return max(1, BLOCK_ROWS // batch_size)


def choose(
  blocks, *, optimizer, cost, batch_size: int, params: Params, mesh=None,
  members: int | None = None, shared: bool = False,
) -> bool:  # fmt: skip
  """Whether an epoch runs in blocks.

  Args:
    blocks: "auto" (where they pay, by the rule above), True (wherever they can: an
      `InputError` says why not) or False.
    optimizer: the optax optimizer: blocks compute plain SGD's update, so only `jaxnets.SGD`'s
      (of type `jaxnets.sgd.SGDTransformation`) runs in blocks.
    cost: the mini-batch cost: blocks compute the quadratic cost's gradient only.
    batch_size: the mini-batch size B.
    params: the network (or the population, stacked).
    mesh: a data-parallel mesh (blocks don't shard a mini-batch).
    members: for a population, M; shared: whether its members share one shuffle.
  """
  if blocks not in ("auto", True, False):
    raise InputError(f"blocks={blocks!r}; expected 'auto', True or False")
  if blocks is False:
    return False
  reasons = []
  if not isinstance(optimizer, SGDTransformation):
    reasons.append("the optimizer jaxnets.SGD (blocks compute plain SGD's update)")
  if cost is not quadratic_cost:
    reasons.append("the cost jaxnets.quadratic_cost")
  if block_steps(batch_size) < 2:
    reasons.append(f"a mini-batch of at most {BLOCK_ROWS // 2} examples (it is {batch_size})")
  if mesh is not None:
    reasons.append("no data-parallel mesh")
  if blocks is True:
    if reasons:
      raise InputError("blocks=True needs " + ", ".join(reasons) + "; or pass blocks='auto'")
    return True
  if reasons:
    return False
  if members is not None and shared and members >= MIN_MEMBERS and len(params) >= 2:
    return True
  return max(layer[0].shape[-1] * layer[0].shape[-2] for layer in params) >= MIN_LAYER_WEIGHTS


def _population_block(carry, x_TBxI, y_TxBxO, eta_M):
  """T steps of every member on the block's rows x (TB × I) and targets (T × B × O)."""
  w_JxI, b_J, rest, total_M = carry
  t_steps, b, _ = y_TxBxO.shape
  m, _, n_1 = rest[0].w.shape
  eta_J = jnp.repeat(eta_M, n_1)

  def member_cost(rest, z_BxH, y_BxO):
    return quadratic_cost(rest, jax.nn.sigmoid(z_BxH), y_BxO)

  costs_and_grads = jax.vmap(jax.value_and_grad(member_cost, (0, 1)), in_axes=(0, 0, None))
  z0_TxBxJ = (x_TBxI @ w_JxI.T).reshape(t_steps, b, -1)
  g_TxBxTB = (x_TBxI @ x_TBxI.T).reshape(t_steps, b, t_steps * b)

  def step(carry, inputs):
    b_J, rest, d_TBxJ, total_M = carry
    t, z0_BxJ, g_BxTB, y_BxO = inputs
    z_BxJ = z0_BxJ - g_BxTB @ d_TBxJ + b_J[None]  # rows of D after step t are still 0
    z_MxBxH = z_BxJ.reshape(b, m, n_1).transpose(1, 0, 2)
    cost_M, (grad_rest, grad_z_MxBxH) = costs_and_grads(rest, z_MxBxH, y_BxO)
    rest = jax.tree.map(
      lambda p, g: p - eta_M.reshape(-1, *[1] * (p.ndim - 1)) * g, rest, grad_rest
    )
    d_BxJ = grad_z_MxBxH.transpose(1, 0, 2).reshape(b, -1) * eta_J[None]
    d_TBxJ = jax.lax.dynamic_update_slice(d_TBxJ, d_BxJ, (t * b, 0))
    return (b_J - d_BxJ.sum(0), rest, d_TBxJ, total_M + cost_M), None

  d_TBxJ = jnp.zeros((t_steps * b, w_JxI.shape[0]), w_JxI.dtype)
  steps = (jnp.arange(t_steps), z0_TxBxJ, g_TxBxTB, y_TxBxO)
  (b_J, rest, d_TBxJ, total_M), _ = jax.lax.scan(step, (b_J, rest, d_TBxJ, total_M), steps)
  return w_JxI - d_TBxJ.T @ x_TBxI, b_J, rest, total_M


def _blocks(carry, run, x_NxI, y_N, order_N, batch_size, n_out, dtype):
  """`run(carry, x (TB × I), y (T × B × O))` on each block of `order_N`'s mini-batches: a scan over
  the whole blocks, then one shorter block for the steps left, then a block of one step for the
  book's smaller last mini-batch. Returns (carry, how many steps)."""
  x_NxI, y_N = jnp.asarray(x_NxI), jnp.asarray(y_N)
  t_steps = block_steps(batch_size)
  full_SxB, rest_R = minibatch_indices(order_N, batch_size)
  steps, blocks = full_SxB.shape[0], full_SxB.shape[0] // t_steps

  def gathered(carry, idx_TxB):
    return run(carry, x_NxI[idx_TxB.reshape(-1)], targets(y_N[idx_TxB], n_out, dtype))

  whole = full_SxB[: blocks * t_steps].reshape(blocks, t_steps, batch_size)
  carry = jax.lax.scan(lambda c, idx: (gathered(c, idx), None), carry, whole)[0]
  if steps % t_steps:
    carry = gathered(carry, full_SxB[blocks * t_steps :])
  if rest_R.shape[0]:
    carry = gathered(carry, rest_R[None])
  return carry, steps + (1 if rest_R.shape[0] else 0)


def shared_shuffle_epoch(params, opt_state, x_NxI, y_N, order_N, *, batch_size):
  """One epoch of a population on a shared order (N,), in blocks; unjitted. Needs two layers.

  Returns what `network_epoch` returns: (params, opt_state, metrics), the state's step count
  advanced by the epoch's steps, metrics["train_cost"] (M,) and metrics["finite"] (M,).
  """
  m, n_1, n_in = params[0].w.shape
  n_out, dtype = params[-1].w.shape[-2], params[0].w.dtype
  eta_M = jnp.broadcast_to(opt_state.hyperparams["learning_rate"], (m,)).astype(dtype)

  def run(carry, x_TBxI, y_TxBxO):
    return _population_block(carry, x_TBxI, y_TxBxO, eta_M)

  carry = (
    params[0].w.reshape(m * n_1, n_in),
    params[0].b.reshape(m * n_1),
    params[1:],
    jnp.zeros((m,), dtype),
  )
  carry, steps = _blocks(carry, run, x_NxI, y_N, order_N, batch_size, n_out, dtype)
  w_JxI, b_J, rest, total_M = carry
  params = [Layer(w_JxI.reshape(m, n_1, n_in), b_J.reshape(m, n_1)), *rest]
  count = opt_state.count + steps
  return params, opt_state._replace(count=count), epoch_metrics(params, total_M, steps)


def _network_step_cost(b_L, eps_L, z1_BxH, g_BxTB, w_L, d_L, a_L, y_BxO):
  """A step's cost C = 1/(2B) Σ ‖y − a‖², its forward through each layer's block form; ∂C/∂eps_l
  is ∂C/∂z_l. Also returns the step's hidden activations (the inputs of layers 2..L)."""
  z = z1_BxH - g_BxTB @ d_L[0] + b_L[0][None] + eps_L[0]
  hidden = []
  for w, d, a_in, b, eps in zip(w_L[1:], d_L[1:], a_L, b_L[1:], eps_L[1:]):
    a = jax.nn.sigmoid(z)
    hidden.append(a)
    z = a @ w.T - (a @ a_in.T) @ d + b[None] + eps
  return 0.5 * jnp.sum(jnp.square(y_BxO - jax.nn.sigmoid(z))) / y_BxO.shape[0], hidden


def _network_block(carry, x_TBxI, y_TxBxO, eta):
  """T steps of one network on the block's rows x (TB × I) and targets (T × B × O)."""
  w_L, b_L, total = carry
  t_steps, b, _ = y_TxBxO.shape
  dtype = x_TBxI.dtype
  z1_TxBxH = (x_TBxI @ w_L[0].T).reshape(t_steps, b, -1)
  g_TxBxTB = (x_TBxI @ x_TBxI.T).reshape(t_steps, b, t_steps * b)
  grad = jax.value_and_grad(_network_step_cost, argnums=(0, 1), has_aux=True)

  def step(carry, inputs):
    b_L, d_L, a_L, total = carry
    t, z1_BxH, g_BxTB, y_BxO = inputs
    eps_L = [jnp.zeros((b, w.shape[0]), dtype) for w in w_L]
    (cost, hidden), (grad_b, delta_L) = grad(b_L, eps_L, z1_BxH, g_BxTB, w_L, d_L, a_L, y_BxO)
    b_L = [b_l - eta * g for b_l, g in zip(b_L, grad_b)]
    d_L = [jax.lax.dynamic_update_slice(d, eta * e, (t * b, 0)) for d, e in zip(d_L, delta_L)]
    a_L = [jax.lax.dynamic_update_slice(a_in, a, (t * b, 0)) for a_in, a in zip(a_L, hidden)]
    return (b_L, d_L, a_L, total + cost), None

  d_L = [jnp.zeros((t_steps * b, w.shape[0]), dtype) for w in w_L]
  a_L = [jnp.zeros((t_steps * b, w.shape[0]), dtype) for w in w_L[:-1]]
  steps = (jnp.arange(t_steps), z1_TxBxH, g_TxBxTB, y_TxBxO)
  (b_L, d_L, a_L, total), _ = jax.lax.scan(step, (b_L, d_L, a_L, total), steps)
  w_L = [w - d.T @ a_in for w, d, a_in in zip(w_L, d_L, [x_TBxI, *a_L])]
  return w_L, b_L, total


def network_epoch(params, opt_state, x_NxI, y_N, order_N, *, batch_size):
  """One epoch of one network in blocks; unjitted. Returns what `program.network_epoch` returns:
  (params, opt_state, metrics), the state's step count advanced by the epoch's steps."""
  n_out, dtype = params[-1].w.shape[0], params[0].w.dtype
  eta = jnp.asarray(opt_state.hyperparams["learning_rate"]).astype(dtype)

  def run(carry, x_TBxI, y_TxBxO):
    return _network_block(carry, x_TBxI, y_TxBxO, eta)

  carry = ([layer.w for layer in params], [layer.b for layer in params], jnp.zeros((), dtype))
  carry, steps = _blocks(carry, run, x_NxI, y_N, order_N, batch_size, n_out, dtype)
  w_L, b_L, total = carry
  params = [Layer(w, b) for w, b in zip(w_L, b_L)]
  count = opt_state.count + steps
  return params, opt_state._replace(count=count), epoch_metrics(params, total, steps)
