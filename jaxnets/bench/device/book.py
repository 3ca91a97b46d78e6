"""The check's book part: the book's run (`make train`'s) on the CPU and, on an accelerator, on
the device at JAX's default and at float32 matmul precision, each compared with the CPU's."""

import statistics
import time
from typing import Any

import jax
import numpy as np

from jaxnets.bench.device.plan import Cap, Plan, precision
from jaxnets.data import Dataset, load_mnist
from jaxnets.network import init_params
from jaxnets.train import fit

BOOK: dict[str, Any] = {"sizes": (784, 30, 10), "eta": 3.0, "batch_size": 10, "seed": 0}
"""The book's run: `make train`'s."""


class _Stop(Exception):
  """Raised from `on_epoch` at a part's cap: the run so far is kept."""


def book_run(
  label: str, device, prec: str | None, plan: Plan, data: dict, cap: Cap, say
) -> dict[str, Any]:
  """The book's run on `device` at matmul precision `prec`, stopped at the cap."""
  init_key, shuffle_key = jax.random.split(jax.random.key(BOOK["seed"]))  # as `make train`
  epochs: list[dict] = []
  first: dict[str, Any] = {}

  def on_epoch(epoch, params, opt_state, metrics):
    if epoch == 0:
      first["params"] = jax.tree.map(np.asarray, params)
    epochs.append({k: float(v) for k, v in metrics.items()})
    if cap.out() and epoch + 1 < plan.book_epochs:
      raise _Stop

  start = time.perf_counter()
  stopped = False
  with jax.default_device(device), precision(prec):
    params = init_params(init_key, BOOK["sizes"])
    try:
      fit(
        params, data["train"], epochs=plan.book_epochs, batch_size=BOOK["batch_size"],
        key=shuffle_key, eta=BOOK["eta"], validation=data["validation"], test=data["test"],
        on_epoch=on_epoch,
      )  # fmt: skip
    except _Stop:
      stopped = True
  accuracy = [e["test_accuracy"] for e in epochs]
  seconds = [e["epoch_seconds"] for e in epochs]
  result = {
    "label": label,
    "platform": device.platform,
    "device_kind": device.device_kind,
    "precision": prec or "default",
    "epochs": len(epochs),
    "stopped_at_cap": stopped,
    "test_accuracy": accuracy,
    "validation_accuracy": [e.get("validation_accuracy") for e in epochs],
    "train_cost": [e["train_cost"] for e in epochs],
    "epoch_seconds": seconds,
    "seconds_per_epoch": statistics.median(seconds[1:] or seconds) if seconds else None,
    "first_epoch_seconds": seconds[0] if seconds else None,
    "best_test_accuracy": max(accuracy) if accuracy else None,
    "final_test_accuracy": accuracy[-1] if accuracy else None,
    "wall_s": time.perf_counter() - start,
  }
  result["_first_params"] = first.get("params")
  say(
    f"book: {label}: {len(epochs)} epochs, final test accuracy "
    f"{result['final_test_accuracy']:.2%}, {result['seconds_per_epoch']:.3f} s/epoch"
    if epochs
    else f"book: {label}: no epoch within the cap"
  )
  return result


def book_part(device, plan: Plan, cap: Cap, say, accelerator: bool | None = None) -> dict:
  """The book's run on the CPU and, on an accelerator (`accelerator`: default, whether `device`
  is one; the tests pass True to run this path on the CPU), on the device at JAX's default and
  at float32 matmul precision, each against the CPU's."""
  mnist = load_mnist()
  n, t = plan.book_train, plan.book_test
  data: dict[str, Any] = {
    "train": Dataset(mnist.train.x[:n], mnist.train.y[:n]),
    "validation": mnist.validation if n is None else None,
    "test": Dataset(mnist.test.x[:t], mnist.test.y[:t]),
  }
  cpu = jax.devices("cpu")[0]
  # the CPU's run first, the reference, within half the cap on an accelerator (the slower side)
  if accelerator is None:
    accelerator = device.platform != "cpu"
  cpu_cap = Cap(cap.seconds / 2) if accelerator else cap
  reference = book_run("cpu", cpu, None, plan, data, cpu_cap, say)
  runs = []
  if accelerator:
    name = device.platform
    runs.append(book_run(f"{name} default precision", device, None, plan, data, cap, say))
    runs.append(book_run(f"{name} float32", device, "float32", plan, data, cap, say))
  cpu_params = reference.pop("_first_params")
  for r in runs:
    params = r.pop("_first_params")
    if params is not None and cpu_params is not None:
      r["first_epoch_max_param_diff_vs_cpu"] = max(
        float(np.max(np.abs(a - b)))
        for a, b in zip(jax.tree.leaves(params), jax.tree.leaves(cpu_params))
      )
    both = min(len(r["test_accuracy"]), len(reference["test_accuracy"]))
    if both:
      r["compared_epochs"] = both
      r["test_accuracy_diff_vs_cpu"] = (
        r["test_accuracy"][both - 1] - reference["test_accuracy"][both - 1]
      )
  setup = {
    **BOOK,
    "sizes": list(BOOK["sizes"]),
    "epochs": plan.book_epochs,
    "train_examples": len(data["train"].x),
    "test_examples": len(data["test"].x),
    "keys": "init, shuffle = jax.random.split(jax.random.key(seed)), as make train's",
  }
  return {"setup": setup, "runs": [*runs, reference]}
