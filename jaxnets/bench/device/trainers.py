"""The device check's trainers beyond the benchmark's: PyTorch with `torch.compile`, and
populations made fast enough to prepare at M = 4096 within the check's minutes.

`Population` is `trainers.PopulationEpochs` (the same compiled epoch, the same timing), its
members initialised by one vmapped `init_params` (equal to `init_population`'s, which calls
`init_params` once per member: tens of seconds at M = 4096) and its orders drawn once per trial
size: per-member orders are one shuffle, rotated by a different offset for each member (each
member gathers its own mini-batches, which is what the per-member program's speed depends on).
"""

import time
from collections.abc import Sequence

import jax
import numpy as np

from jaxnets.bench.baselines import TorchSteps, quadratic_cost_torch
from jaxnets.bench.trainers import ETA, CompiledEpochs, Data, PopulationEpochs
from jaxnets.network import init_params
from jaxnets.sgd import SGD, with_learning_rate


class TorchCompiledSteps(TorchSteps):
  """`TorchSteps` with the step's gather, forward and cost (`quadratic_cost_torch`) compiled by
  `torch.compile` (its backward by AOTAutograd); the trial, the in-place update included, is
  `TorchSteps`'. Compiled by `prepare`, its seconds returned (Dynamo's caches are reset first, so
  each network and mini-batch size compiles for its own static shapes). `backend` is
  torch.compile's ("eager" in the tests: traced by Dynamo, not compiled)."""

  def __init__(
    self,
    data: Data,
    sizes: Sequence[int],
    batch_size: int,
    *,
    device: str = "cpu",
    backend: str = "inductor",
  ):
    import torch

    super().__init__(data, sizes, batch_size, device=device)
    self.name = "torch.compile"
    torch._dynamo.reset()
    self.cost = torch.compile(quadratic_cost_torch, backend=backend)
    self.compile_s: float | None = None

  def prepare(self, examples: int) -> float:
    """Sets the trial's examples; compiles on the first call. Returns the compile seconds."""
    import torch

    self.examples = examples
    if self.compile_s is not None:
      return self.compile_s
    x_NxI, y_NxO = self.data.torch(self.device, self.sizes[-1])
    start = time.perf_counter()
    self.cost(x_NxI, y_NxO, self.batches_SxB[0], self.params).backward()
    if self.device != "cpu":
      torch.cuda.synchronize()
    for w, b in self.params:
      w.grad = b.grad = None
    self.compile_s = time.perf_counter() - start
    return self.compile_s


def init_members(members: int, sizes: Sequence[int]):
  """`init_population(jax.random.split(jax.random.key(0), members), sizes)`, equal to it, in
  one vmapped call."""
  keys = jax.random.split(jax.random.key(0), members)
  return jax.jit(jax.vmap(lambda k: init_params(k, sizes)))(keys)


class Population(PopulationEpochs):
  """`PopulationEpochs`, prepared in seconds at any M (see the module's docstring)."""

  def __init__(
    self, data: Data, sizes: Sequence[int], batch_size: int, members: int, *, shared: bool
  ):
    name = f"{members} {'shared' if shared else 'per-member'}"
    CompiledEpochs.__init__(self, name, data, sizes, batch_size)
    self.members, self.shared = members, shared
    self.devices, self.mesh = 1, None  # on the data's one device, as PopulationEpochs' default
    self.params = jax.device_put(init_members(members, sizes), data.device)
    opt_state = with_learning_rate(jax.vmap(SGD.init)(self.params), ETA)
    self.opt_state = jax.device_put(opt_state, data.device)
    self.orders: dict[int, jax.Array] = {}

  def order(self, epoch: int) -> jax.Array:
    """The same order every trial of a size (the orders don't change an epoch's speed)."""
    if self.examples not in self.orders:
      n, examples = self.epoch_examples, self.examples
      rng = np.random.default_rng(1)
      perm_N = rng.permutation(n).astype(np.int32)
      if self.shared:
        order = perm_N[:examples]
      else:
        shifts_M = rng.integers(0, n, self.members)
        order = perm_N[(np.arange(examples)[None, :] + shifts_M[:, None]) % n]
      self.orders = {examples: jax.device_put(order, self.data.device)}
    return self.orders[self.examples]
