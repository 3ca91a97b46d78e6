"""What the benchmark times, as `timing.Trainer`s: jaxnets' compiled epochs (one network, or a
population) and the baselines' steps (NumPy, PyTorch eager), all on MNIST's training examples.

Every trainer starts from `init_params(jax.random.key(0), sizes)` (a population: from
`init_population(jax.random.split(jax.random.key(0), M), sizes)`), trains with η = `ETA`, and
continues from trial to trial. jaxnets' trials take the first examples of each epoch's order,
drawn by `epoch_order` outside the clock, as `fit` draws it while the device trains the epoch
before; the baselines step through the mini-batches of one fixed shuffle in turn, gathering their
rows inside the trial.
"""

import dataclasses
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any, Literal

import jax
import numpy as np
from jax.sharding import Mesh

from jaxnets._engine import members as spread
from jaxnets._engine import program
from jaxnets.bench import numpy_reference as reference
from jaxnets.bench.timing import nothing
from jaxnets.cost import quadratic_cost
from jaxnets.data import load_mnist
from jaxnets.network import init_params
from jaxnets.population import init_population, population_options
from jaxnets.sgd import SGD, with_learning_rate
from jaxnets.train import epoch_options, epoch_order, key_words

ETA = 3.0


@dataclasses.dataclass
class Data:
  """Training examples: on the host (NumPy) and, put there once, on the device.

  Attributes:
    x_NxI: the inputs, float32 (N, 784).
    y_N: their integer labels.
    device: the JAX device the arrays of `on_device` are on.
    on_device: (x_NxI, y_N) on `device`.
  """

  x_NxI: np.ndarray
  y_N: np.ndarray
  device: Any
  on_device: tuple[jax.Array, jax.Array]
  _torch: dict = dataclasses.field(default_factory=dict)

  @classmethod
  def load(cls, device, n: int | None = None) -> "Data":
    """The bundled MNIST's training examples (the first n of them, if given)."""
    train = load_mnist().train
    x_NxI, y_N = np.asarray(train.x[:n]), np.asarray(train.y[:n])
    return cls(x_NxI, y_N, device, (jax.device_put(x_NxI, device), jax.device_put(y_N, device)))

  @property
  def n(self) -> int:
    return len(self.y_N)

  def one_hot(self, n_out: int) -> np.ndarray:
    """The labels as float32 one-hot rows (N, n_out)."""
    return reference.one_hot(self.y_N, n_out)

  def torch(self, device: str, n_out: int):
    """(x (N, I), one-hot y (N, O)) as PyTorch tensors on `device`, made once."""
    import torch

    if (device, n_out) not in self._torch:
      self._torch[device, n_out] = (
        torch.from_numpy(np.array(self.x_NxI)).to(device),  # a writable copy
        torch.from_numpy(self.one_hot(n_out)).to(device),
      )
    return self._torch[device, n_out]


def shuffled_batches(n: int, batch_size: int) -> np.ndarray:
  """A shuffle of range(n) as full mini-batches of indices (S, B): the baselines' epoch."""
  perm_N = np.random.default_rng(0).permutation(n)
  return perm_N[: n // batch_size * batch_size].reshape(-1, batch_size)


class CompiledEpochs:
  """The part the two jaxnets trainers share: a trial is one call of an epoch program compiled
  for trials of `examples` examples (`lower`), on the first `examples` of the epoch's order
  (`order`), drawn before the trial, outside the clock, unless `timed_shuffle`."""

  threads: str | int = "default"
  timed_shuffle = False

  def __init__(self, name: str, data: Data, sizes: Sequence[int], batch_size: int):
    self.name, self.data, self.sizes, self.batch_size = name, data, tuple(sizes), batch_size
    self.epoch_examples = self.examples = data.n
    self.epoch = 0
    self.metrics: dict = {}
    self.params: Any = None
    self.opt_state: Any = None

  def order(self, epoch: int) -> jax.Array:
    """The first `examples` of epoch `epoch`'s order, on the device."""
    raise NotImplementedError

  def lower(self, order: jax.Array) -> Any:
    """The epoch program lowered for `order`'s shape (`jax.jit(...).lower`)."""
    raise NotImplementedError

  def prepare(self, examples: int) -> float:
    self.examples = examples
    lowered = self.lower(jax.block_until_ready(self.order(0)))
    start = time.perf_counter()
    self.compiled = lowered.compile()
    return time.perf_counter() - start

  def ready(self) -> Callable[[], None]:
    epoch, self.epoch = self.epoch, self.epoch + 1
    if self.timed_shuffle:
      return lambda: self.train(self.order(epoch))
    order = jax.block_until_ready(self.order(epoch))
    return lambda: self.train(order)

  def train(self, order: jax.Array) -> None:
    x_NxI, y_N = self.inputs()
    self.params, self.opt_state, self.metrics = jax.block_until_ready(
      self.compiled(self.params, self.opt_state, x_NxI, y_N, order)
    )

  def inputs(self) -> tuple[jax.Array, jax.Array]:
    """The training examples, where the program reads them."""
    return self.data.on_device

  def limit(self) -> AbstractContextManager[Any]:
    return nothing()


class JaxEpochs(CompiledEpochs):
  """`jaxnets.train_epoch` training one network (the optimizer `SGD` at η = `ETA`), its orders
  drawn on the host by `epoch_order` (keyed by `jax.random.key(1)`).

  The design choices of `train_epoch` are timed with `shuffle="device"` (orders drawn by
  `jax.random.permutation` on the device instead), `timed_shuffle` (drawing the order inside the
  trial), another `cost`, and `blocks` True or False (SGD in blocks of steps, or plain steps).
  """

  def __init__(
    self,
    data: Data,
    sizes: Sequence[int],
    batch_size: int,
    *,
    name: str = "jaxnets",
    shuffle: Literal["host", "device"] = "host",
    timed_shuffle: bool = False,
    cost: Callable = quadratic_cost,
    blocks: bool | str = "auto",
  ):
    super().__init__(name, data, sizes, batch_size)
    self.shuffle, self.timed_shuffle, self.cost, self.blocks = shuffle, timed_shuffle, cost, blocks
    self.params = jax.device_put(init_params(jax.random.key(0), sizes), data.device)
    opt_state = with_learning_rate(SGD.init(self.params), ETA)
    self.opt_state = jax.device_put(opt_state, data.device)
    self.key = jax.device_put(jax.random.key(1), data.device)
    self.words = key_words(self.key)

  def order(self, epoch: int) -> jax.Array:
    if self.shuffle == "device":
      return self.permute(jax.random.fold_in(self.key, epoch))
    order_N = epoch_order(self.words, epoch, self.epoch_examples)[: self.examples]
    return jax.device_put(order_N, self.data.device)

  def prepare(self, examples: int) -> float:
    n = self.epoch_examples
    self.permute = jax.jit(lambda k: jax.random.permutation(k, n)[:examples].astype(np.int32))
    return super().prepare(examples)

  def lower(self, order: jax.Array) -> Any:
    x_NxI, y_N = self.data.on_device
    static = epoch_options(self.params, self.batch_size, SGD, self.cost, None, self.blocks)
    return program.compiled_network_epoch.lower(
      self.params, self.opt_state, x_NxI, y_N, order, **static
    )


class PopulationEpochs(CompiledEpochs):
  """`jaxnets.train_population_epoch` training M networks at once (the optimizer `SGD` at
  η = `ETA` for every member), with per-member orders (member k's keyed by
  `jax.random.split(jax.random.key(1), M)[k]`) or, `shared`, one for all (keyed by
  `jax.random.key(1)`), drawn on the host by `epoch_order`; over `devices` devices of the data's
  platform (a "members" mesh, each training M / devices members), or on the data's one."""

  def __init__(
    self, data: Data, sizes: Sequence[int], batch_size: int, members: int, *, shared: bool,
    devices: int = 1,
  ):  # fmt: skip
    name = f"{members} {'shared' if shared else 'per-member'}"
    super().__init__(name + (f" on {devices} devices" if devices > 1 else ""), data, sizes,
                     batch_size)  # fmt: skip
    self.members, self.shared, self.devices = members, shared, devices
    self.mesh = None
    if devices > 1:
      if members % devices:
        raise ValueError(f"{members} members don't divide over {devices} devices")
      self.mesh = Mesh(np.array(jax.devices(data.device.platform)[:devices]), (spread.AXIS,))
    params = init_population(jax.random.split(jax.random.key(0), members), sizes)
    opt_state = with_learning_rate(jax.vmap(SGD.init)(params), ETA)
    self.params, self.opt_state = self.place((params, opt_state), split=True)
    if self.mesh is not None:
      self.on_mesh = self.place(tuple(data.on_device), split=False)
    key = jax.random.key(1)
    self.words = [key_words(k) for k in ([key] if shared else jax.random.split(key, members))]

  def place(self, tree, split: bool):
    """Arrays onto the data's device, or onto the mesh (split on the members, or replicated)."""
    if self.mesh is None:
      return jax.device_put(tree, self.data.device)
    return spread.put(tree, self.mesh, split=split)

  def inputs(self) -> tuple[jax.Array, jax.Array]:
    return self.data.on_device if self.mesh is None else self.on_mesh

  def order(self, epoch: int) -> jax.Array:
    """(N,) shared, or (M, N) one per member."""
    n, examples = self.epoch_examples, self.examples
    orders = [epoch_order(w, epoch, n)[:examples] for w in self.words]
    return self.place(orders[0] if self.shared else np.stack(orders), split=not self.shared)

  def lower(self, order: jax.Array) -> Any:
    x_NxI, y_N = self.inputs()
    static = population_options(self.params, SGD, quadratic_cost, self.batch_size, "auto",
                                self.shared, per_device=self.members // self.devices)  # fmt: skip
    if self.mesh is None:
      return program.compiled_population_epoch.lower(
        self.params, self.opt_state, x_NxI, y_N, order, **static
      )
    return spread.population_epoch.lower(
      self.params, self.opt_state, x_NxI, y_N, order, mesh=self.mesh, **static
    )
