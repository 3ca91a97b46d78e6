"""What the benchmark times, as `timing.Trainer`s: jaxnets' compiled epochs (one network, or a
population) and the baselines' steps (NumPy, PyTorch eager), all on MNIST's training examples.

Every trainer starts from `init_params(jax.random.key(0), sizes)` (a population: from
`init_population(jax.random.split(jax.random.key(0), M), sizes)`), trains with η = `ETA`, and
continues from trial to trial. jaxnets' trials take the first examples of each epoch's order,
drawn by `epoch_order` outside the clock, as `fit` draws it while the device trains the epoch
before; the baselines step through the mini-batches of one fixed shuffle in turn, gathering their
rows inside the trial.
"""

import contextlib
import dataclasses
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any, Literal

import jax
import numpy as np

from jaxnets.bench import numpy_reference as reference
from jaxnets.bench.timing import nothing
from jaxnets.cost import quadratic_cost
from jaxnets.data import load_mnist
from jaxnets.network import init_params
from jaxnets.population import init_population, train_population_epoch
from jaxnets.train import SGD, epoch_order, key_words, train_epoch, with_learning_rate

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
    x_NxI, y_N = self.data.on_device
    self.params, self.opt_state, self.metrics = jax.block_until_ready(
      self.compiled(self.params, self.opt_state, x_NxI, y_N, order)
    )

  def limit(self) -> AbstractContextManager[Any]:
    return nothing()


class JaxEpochs(CompiledEpochs):
  """`jaxnets.train_epoch` training one network (the optimizer `SGD` at η = `ETA`), its orders
  drawn on the host by `epoch_order` (keyed by `jax.random.key(1)`).

  The design choices of `train_epoch` are timed with `shuffle="device"` (orders drawn by
  `jax.random.permutation` on the device instead), `timed_shuffle` (drawing the order inside the
  trial), another `cost` and another `optimizer` (an optax one with η in its state).
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
    optimizer: Any = SGD,
  ):
    super().__init__(name, data, sizes, batch_size)
    self.shuffle, self.timed_shuffle, self.cost = shuffle, timed_shuffle, cost
    self.optimizer = optimizer
    self.params = jax.device_put(init_params(jax.random.key(0), sizes), data.device)
    opt_state = with_learning_rate(optimizer.init(self.params), ETA)
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
    static = {"batch_size": self.batch_size, "optimizer": self.optimizer, "cost": self.cost}
    return train_epoch.lower(self.params, self.opt_state, x_NxI, y_N, order, **static)


class PopulationEpochs(CompiledEpochs):
  """`jaxnets.train_population_epoch` training M networks at once (the optimizer `SGD` at
  η = `ETA` for every member), with per-member orders (member k's keyed by
  `jax.random.split(jax.random.key(1), M)[k]`) or, `shared`, one for all (keyed by
  `jax.random.key(1)`), drawn on the host by `epoch_order`."""

  def __init__(
    self, data: Data, sizes: Sequence[int], batch_size: int, members: int, *, shared: bool
  ):
    super().__init__(f"{members} {'shared' if shared else 'per-member'}", data, sizes, batch_size)
    self.members, self.shared = members, shared
    params = init_population(jax.random.split(jax.random.key(0), members), sizes)
    self.params = jax.device_put(params, data.device)
    opt_state = with_learning_rate(jax.vmap(SGD.init)(self.params), ETA)
    self.opt_state = jax.device_put(opt_state, data.device)
    key = jax.random.key(1)
    self.words = [key_words(k) for k in ([key] if shared else jax.random.split(key, members))]

  def order(self, epoch: int) -> jax.Array:
    """(N,) shared, or (M, N) one per member."""
    n, examples = self.epoch_examples, self.examples
    orders = [epoch_order(w, epoch, n)[:examples] for w in self.words]
    return jax.device_put(orders[0] if self.shared else np.stack(orders), self.data.device)

  def lower(self, order: jax.Array) -> Any:
    x_NxI, y_N = self.data.on_device
    return train_population_epoch.lower(
      self.params, self.opt_state, x_NxI, y_N, order, batch_size=self.batch_size, optimizer=SGD
    )


def numpy_threads(threads: str | int) -> AbstractContextManager[Any]:
  """A context in which NumPy's BLAS uses `threads` threads (threadpoolctl), or its default."""
  if threads == "default":
    return nothing()
  from threadpoolctl import threadpool_limits

  return threadpool_limits(int(threads))


def numpy_thread_choices() -> tuple[str | int, ...]:
  """The thread settings a NumPy baseline is tried at: its default, and one thread where
  threadpoolctl can set it."""
  try:
    import threadpoolctl  # noqa: F401
  except ImportError:
    return ("default",)
  return ("default", 1)


class ConsecutiveSteps:
  """A baseline that steps through consecutive mini-batches of one fixed shuffle, trial after
  trial, `examples` of them a trial (cycling through the shuffle's S mini-batches)."""

  examples: int
  batch_size: int
  done: int

  def prepare(self, examples: int) -> float:
    self.examples = examples
    return 0.0

  def next_rows(self, batches: int) -> np.ndarray:
    """The indices, into the shuffle's mini-batches, of the next trial's steps."""
    steps = self.examples // self.batch_size
    rows = np.arange(self.done, self.done + steps) % batches
    self.done += steps
    return rows


class NumpySteps(ConsecutiveSteps):
  """A `jaxnets.bench.numpy_reference` SGD step (`sgd_step_matrix` or `sgd_step_loop`) over
  consecutive mini-batches of one fixed shuffle, `threads` threads for NumPy's BLAS."""

  def __init__(
    self,
    data: Data,
    sizes: Sequence[int],
    batch_size: int,
    step: Callable,
    *,
    name: str,
    threads: str | int = "default",
  ):
    self.data, self.sizes, self.batch_size, self.step = data, tuple(sizes), batch_size, step
    self.name, self.threads = name, threads
    self.epoch_examples = self.examples = data.n
    self.params = reference.to_numpy(init_params(jax.random.key(0), sizes))
    self.y_NxO = data.one_hot(sizes[-1])
    self.batches_SxB = shuffled_batches(data.n, batch_size)
    self.done = 0

  def ready(self) -> Callable[[], None]:
    idx_SxB = self.batches_SxB[self.next_rows(len(self.batches_SxB))]

    def trial():
      x_NxI, y_NxO, params = self.data.x_NxI, self.y_NxO, self.params
      for idx_B in idx_SxB:
        params = self.step(params, x_NxI[idx_B], y_NxO[idx_B], ETA)
      self.params = params

    return trial

  def limit(self) -> AbstractContextManager[Any]:
    return numpy_threads(self.threads)


def torch_threads(threads: str | int) -> AbstractContextManager[Any]:
  """A context in which PyTorch uses `threads` threads, or its default."""
  import torch

  @contextlib.contextmanager
  def limited():
    before = torch.get_num_threads()
    torch.set_num_threads(int(threads))
    try:
      yield
    finally:
      torch.set_num_threads(before)

  return nothing() if threads == "default" else limited()


def torch_version() -> str | None:
  """PyTorch's version, or None where it is not installed."""
  try:
    import torch
  except ImportError:
    return None
  return torch.__version__


class TorchSteps(ConsecutiveSteps):
  """PyTorch eager: autograd of the quadratic cost and an in-place SGD update, over consecutive
  mini-batches of one fixed shuffle; on `device` ("cpu" or "cuda", synchronized once a trial)."""

  def __init__(
    self,
    data: Data,
    sizes: Sequence[int],
    batch_size: int,
    *,
    device: str = "cpu",
    threads: str | int = "default",
  ):
    import torch

    self.data, self.sizes, self.batch_size = data, tuple(sizes), batch_size
    self.name, self.device, self.threads = "torch", device, threads
    self.epoch_examples = self.examples = data.n
    self.params = [
      (torch.tensor(w, device=device), torch.tensor(b, device=device))
      for w, b in reference.to_numpy(init_params(jax.random.key(0), sizes))
    ]
    for w, b in self.params:
      w.requires_grad_(True)
      b.requires_grad_(True)
    self.batches_SxB = torch.from_numpy(shuffled_batches(data.n, batch_size)).to(device)
    self.done = 0

  def ready(self) -> Callable[[], None]:
    import torch

    rows = self.next_rows(len(self.batches_SxB)).tolist()
    x_NxI, y_NxO = self.data.torch(self.device, self.sizes[-1])

    def trial():
      for i in rows:
        idx_B = self.batches_SxB[i]
        a = x_NxI[idx_B]
        for w, b in self.params:
          a = torch.sigmoid(a @ w.T + b)
        cost = 0.5 * torch.sum((y_NxO[idx_B] - a) ** 2) / self.batch_size
        cost.backward()
        with torch.no_grad():
          for w, b in self.params:
            w -= ETA * w.grad
            b -= ETA * b.grad
            w.grad = None
            b.grad = None
      if self.device != "cpu":
        torch.cuda.synchronize()

    return trial

  def limit(self) -> AbstractContextManager[Any]:
    return torch_threads(self.threads)
