"""The benchmark's baselines, as `timing.Trainer`s: NumPy (`numpy_reference`'s two forms) and
PyTorch eager, stepping through consecutive mini-batches of one fixed shuffle."""

import contextlib
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

import jax
import numpy as np

from jaxnets.bench import numpy_reference as reference
from jaxnets.bench.timing import nothing
from jaxnets.bench.trainers import ETA, Data, shuffled_batches
from jaxnets.network import init_params


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


def quadratic_cost_torch(x_NxI, y_NxO, idx_B, params):
  """The mini-batch's quadratic cost in PyTorch: its rows gathered, the sigmoid layers forward."""
  import torch

  a = x_NxI[idx_B]
  for w, b in params:
    a = torch.sigmoid(a @ w.T + b)
  return 0.5 * torch.sum((y_NxO[idx_B] - a) ** 2) / idx_B.shape[0]


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
    self.cost = quadratic_cost_torch  # torch.compile's in TorchCompiledSteps

  def ready(self) -> Callable[[], None]:
    import torch

    rows = self.next_rows(len(self.batches_SxB)).tolist()
    x_NxI, y_NxO = self.data.torch(self.device, self.sizes[-1])

    def trial():
      for i in rows:
        self.cost(x_NxI, y_NxO, self.batches_SxB[i], self.params).backward()
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
