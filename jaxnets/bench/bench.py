"""The benchmark, `python -m jaxnets bench`: seconds per epoch of mini-batch SGD on MNIST.

For each network and mini-batch size it measures jaxnets' `train_epoch` (compile seconds, then the
median of several epochs), and side by side the NumPy implementations of `jaxnets.reference`
(the whole mini-batch as one matrix, and the book's per-example backprop loop) and PyTorch eager
when it is installed (`pip install 'jaxnets[bench]'`), each baseline with the better of its
default threads and one thread. It also measures the device's float32 matmul peak in the same run,
so that GFLOP/s can be read as a fraction of what the device does.

An epoch is 50,000 examples. Slow cases are timed on fewer examples and extrapolated per example
(the cost of an epoch is linear in its examples): JAX on as many examples as about half a second
at the matmul peak allows, the baselines for about `min_seconds` of steps. The table says which.
"""

import dataclasses
import io
import json
import os
import platform
import statistics
import time
from collections.abc import Sequence

import numpy as np

from jaxnets.bench import numpy_reference as reference
from jaxnets.runs.checkpoint import write_atomic

NETS = ((784, 30, 10), (784, 100, 10), (784, 1024, 1024, 10))
BATCH_SIZES = (10, 100, 1000)
EPOCH = 50_000
ETA = 3.0


@dataclasses.dataclass
class Options:
  """What to measure: the device, networks, batch sizes, and how long to time each case."""

  device: str = "cpu"
  nets: Sequence[Sequence[int]] = NETS
  batch_sizes: Sequence[int] = BATCH_SIZES
  repeats: int = 5
  min_seconds: float = 1.0
  peak_n: int | None = None
  max_examples: int = EPOCH
  baselines: bool = True
  variants: bool = True

  @classmethod
  def quick(cls, device: str = "cpu") -> "Options":
    """A run of a few seconds (tests): the small net, small timings, a small matmul."""
    return cls(
      device=device,
      nets=((784, 30, 10),),
      batch_sizes=(10, 100),
      repeats=2,
      min_seconds=0.05,
      peak_n=256,
      max_examples=2000,
    )


def epoch_flops(sizes: Sequence[int], n: int, batch_size: int) -> float:
  """FLOPs of an epoch of n examples: matmuls forward and backward, and the updates.

  Per example and layer (n_in → n_out): 2·n_in·n_out forward, 2·n_in·n_out for ∂C/∂w, and
  2·n_in·n_out for ∂C/∂a of the layer below (not for the first layer); per step 2 per parameter.
  """
  macs = [a * b for a, b in zip(sizes[:-1], sizes[1:])]
  per_example = 2 * (2 * sum(macs) + sum(macs[1:]))
  n_params = sum(macs) + sum(sizes[1:])
  steps = -(-n // batch_size)
  return float(per_example * n + 2 * n_params * steps)


def matmul_peak(device, n: int | None = None, repeats: int = 5) -> float:
  """The device's float32 matmul GFLOP/s: the best of `repeats` (n, n) @ (n, n) products."""
  import jax
  import jax.numpy as jnp

  n = n or (2048 if device.platform == "cpu" else 8192)
  a = jax.device_put(jax.random.normal(jax.random.key(0), (n, n), jnp.float32), device)
  b = jax.device_put(jax.random.normal(jax.random.key(1), (n, n), jnp.float32), device)
  matmul = jax.jit(jnp.matmul)
  matmul(a, b).block_until_ready()
  best = float("inf")
  for _ in range(repeats):
    start = time.perf_counter()
    matmul(a, b).block_until_ready()
    best = min(best, time.perf_counter() - start)
  return 2 * n**3 / best / 1e9


def examples_first_quadratic_cost(params, x_BxI, y_BxO):
  """`quadratic_cost` with the forward pass `jax.vmap(feedforward, (None, 0))`, which puts the
  examples first: equal up to float rounding, the layout `variants()` compares with the shipped
  one (the examples as columns, `feedforward_batch`)."""
  import jax
  import jax.numpy as jnp

  from jaxnets.network import feedforward

  a_BxO = jax.vmap(feedforward, in_axes=(None, 0))(params, x_BxI)
  return 0.5 * jnp.sum(jnp.square(y_BxO - a_BxO)) / x_BxI.shape[0]


def time_jax(
  sizes, batch_size: int, n: int, device, repeats: int, shuffle: str = "host", cost=None
) -> dict:
  """`train_epoch` on n MNIST examples: compile seconds and the median seconds of an epoch.

  Each timed epoch includes drawing its shuffle: on the host by NumPy (`epoch_order`, as `fit`
  does), or with `shuffle="device"` by `jax.random.permutation` in its own jitted call. `cost` is
  the mini-batch cost the steps differentiate (default `quadratic_cost`).
  """
  import jax
  import jax.numpy as jnp
  import optax

  from jaxnets.cost import quadratic_cost
  from jaxnets.data import load_mnist
  from jaxnets.network import init_params
  from jaxnets.train import epoch_order, key_words, train_epoch

  train = load_mnist().train
  x = jax.device_put(train.x[:n], device)
  y = jax.device_put(train.y[:n], device)
  params = jax.device_put(init_params(jax.random.key(0), sizes), device)
  optimizer = optax.sgd(ETA)
  opt_state = optimizer.init(params)
  key = jax.device_put(jax.random.key(1), device)
  words = key_words(key)
  permutation = jax.jit(lambda k: jax.random.permutation(k, n).astype(jnp.int32))

  def order(epoch):
    if shuffle == "device":
      return permutation(jax.random.fold_in(key, epoch))
    return jax.device_put(epoch_order(words, epoch, n), device)

  kwargs = dict(batch_size=batch_size, optimizer=optimizer, cost=cost or quadratic_cost)
  start = time.perf_counter()
  compiled = train_epoch.lower(params, opt_state, x, y, order(0), **kwargs).compile()
  compile_s = time.perf_counter() - start
  jax.block_until_ready(compiled(params, opt_state, x, y, order(0)))  # first touch of memory
  seconds = []
  for epoch in range(repeats):
    start = time.perf_counter()  # the shuffle counts: fit draws one per epoch
    params, opt_state, metrics = compiled(params, opt_state, x, y, order(epoch + 1))
    jax.block_until_ready((params, metrics))
    seconds.append(time.perf_counter() - start)
  return {"compile_s": compile_s, "seconds": statistics.median(seconds), "examples": n}


VARIANT_CASES = (((784, 30, 10), 10), ((784, 100, 10), 1000))
"""The cases `time_variants` measures: the speed issue's two goals."""


def variants() -> dict:
  """`train_epoch`'s design choices and their alternatives: name → (shuffle, cost)."""
  return {
    "as shipped: host shuffle, examples as columns": ("host", None),
    "shuffle by jax.random.permutation": ("device", None),
    "forward vmapped with the examples first": ("host", examples_first_quadratic_cost),
    "both (the earlier design)": ("device", examples_first_quadratic_cost),
  }


def time_variants(device, repeats: int, max_examples: int = EPOCH, log=print) -> list[dict]:
  """Seconds per epoch of each of `variants()` on `VARIANT_CASES`, measured side by side."""
  rows = []
  for sizes, batch_size in VARIANT_CASES:
    n = min(max_examples, EPOCH) // batch_size * batch_size
    for name, (shuffle, cost) in variants().items():
      t = time_jax(sizes, batch_size, n, device, repeats, shuffle=shuffle, cost=cost)
      rows.append(
        {
          "variant": name,
          "sizes": list(sizes),
          "batch_size": batch_size,
          "epoch_s": t["seconds"] * EPOCH / n,
        }
      )
      log(format_variant(rows, rows[-1]))
  return rows


def format_variant(rows, row) -> str:
  """One line: the variant, its seconds per epoch and its time relative to the shipped one."""
  base = next(
    r for r in rows if r["sizes"] == row["sizes"] and r["batch_size"] == row["batch_size"]
  )
  net = "[" + ", ".join(map(str, row["sizes"])) + "]"
  return (
    f"{net:>15} {row['batch_size']:>5}  {row['variant']:<46} {row['epoch_s']:>7.3f} s  "
    f"{row['epoch_s'] / base['epoch_s']:>5.2f}×"
  )


def time_steps(step, batch_size: int, min_seconds: float, max_examples: int) -> dict:
  """Runs `step(i)` over consecutive mini-batches for ≥ `min_seconds` (after one warm-up)."""
  step(0)
  start, steps = time.perf_counter(), 0
  while True:
    step(steps + 1)
    steps += 1
    elapsed = time.perf_counter() - start
    if elapsed >= min_seconds or (steps + 2) * batch_size > max_examples:
      return {"seconds": elapsed, "examples": steps * batch_size}


def limit_threads(impl: str, threads: int | None):
  """A context in which NumPy's BLAS (through threadpoolctl) or PyTorch uses `threads` threads."""
  import contextlib

  if threads is None:
    return contextlib.nullcontext()
  if impl == "torch":
    import torch

    @contextlib.contextmanager
    def torch_threads():
      before = torch.get_num_threads()
      torch.set_num_threads(threads)
      try:
        yield
      finally:
        torch.set_num_threads(before)

    return torch_threads()
  try:
    from threadpoolctl import threadpool_limits
  except ImportError:
    return None
  return threadpool_limits(threads)


def time_best_threads(impl: str, stepper, batch_size: int, options: Options) -> dict:
  """`time_steps` with the library's default threads and with one thread; the faster of the two.

  Small matrices gain nothing from a second thread, and a library whose threads spin-wait can be
  many times slower on a busy machine; each baseline gets its better setting.
  """
  best = None
  for threads in (None, 1):
    limit = limit_threads(impl, threads)
    if limit is None:
      continue
    with limit:
      t = time_steps(stepper, batch_size, options.min_seconds, options.max_examples)
    t["threads"] = threads or "default"
    if best is None or t["seconds"] / t["examples"] < best["seconds"] / best["examples"]:
      best = t
  assert best is not None  # numpy always runs with its default threads
  return best


def shuffled_batches(n: int, batch_size: int) -> np.ndarray:
  """A shuffle of range(n) as full mini-batches of indices (S, B), as each epoch gathers them."""
  perm = np.random.default_rng(0).permutation(n)
  return perm[: n // batch_size * batch_size].reshape(-1, batch_size)


def numpy_stepper(step, sizes, batch_size: int):
  """A `time_steps` callable: `step` (a `jaxnets.reference` SGD step) on mini-batch i."""
  import jax

  from jaxnets.data import load_mnist
  from jaxnets.network import init_params

  train = load_mnist().train
  x, y = train.x, reference.one_hot(np.asarray(train.y), sizes[-1])
  state = {"params": reference.to_numpy(init_params(jax.random.key(0), sizes))}
  perm_SxB = shuffled_batches(len(x), batch_size)

  def run(i):
    idx_B = perm_SxB[i % len(perm_SxB)]
    state["params"] = step(state["params"], x[idx_B], y[idx_B], ETA)

  return run


def torch_stepper(sizes, batch_size: int, device: str, with_params: bool = False):
  """A `time_steps` callable: PyTorch eager autograd and an in-place SGD update on mini-batch i
  (and its parameters, `with_params`)."""
  import jax
  import torch

  from jaxnets.data import load_mnist
  from jaxnets.network import init_params

  train = load_mnist().train
  x = torch.from_numpy(np.array(train.x)).to(device)  # a writable copy
  y = torch.from_numpy(reference.one_hot(np.asarray(train.y), sizes[-1])).to(device)
  params = [
    (torch.tensor(w, device=device, requires_grad=True), torch.tensor(b, device=device))
    for w, b in reference.to_numpy(init_params(jax.random.key(0), sizes))
  ]
  for _, b in params:
    b.requires_grad_(True)
  perm_SxB = torch.from_numpy(shuffled_batches(len(x), batch_size)).to(device)

  def run(i):
    idx_B = perm_SxB[i % len(perm_SxB)]
    x_BxI, y_BxO = x[idx_B], y[idx_B]
    a = x_BxI
    for w, b in params:
      a = torch.sigmoid(a @ w.T + b)
    cost = 0.5 * torch.sum((y_BxO - a) ** 2) / batch_size
    cost.backward()
    with torch.no_grad():
      for w, b in params:
        w -= ETA * w.grad
        b -= ETA * b.grad
        w.grad = None
        b.grad = None
    if device != "cpu":
      torch.cuda.synchronize()

  return (run, params) if with_params else run


def torch_version() -> str | None:
  try:
    import torch
  except ImportError:
    return None
  return torch.__version__


def cpu_name() -> str:
  """The CPU model, from /proc/cpuinfo where there is one."""
  try:
    with open("/proc/cpuinfo") as f:
      for line in f:
        if line.startswith("model name"):
          return line.split(":", 1)[1].strip()
  except OSError:
    pass
  return platform.processor() or platform.machine()


def _entry(impl, sizes, batch_size, seconds, examples, peak, compile_s=None) -> dict:
  epoch_s = seconds * EPOCH / examples
  gflops = epoch_flops(sizes, EPOCH, batch_size) / epoch_s / 1e9
  return {
    "impl": impl,
    "sizes": list(sizes),
    "batch_size": batch_size,
    "compile_s": compile_s,
    "epoch_s": epoch_s,
    "examples_per_s": EPOCH / epoch_s,
    "gflops": gflops,
    "peak_fraction": gflops / peak,
    "timed_examples": examples,
    "extrapolated": examples != EPOCH,
  }


def run(options: Options, log=print) -> dict:
  """Measures every case of `options`; returns the results as a JSON-ready dict."""
  import jax

  device = jax.devices(options.device)[0]
  peak = matmul_peak(device, options.peak_n)
  log(f"{options.device}: {device.device_kind}, float32 matmul peak {peak:.1f} GFLOP/s")
  has_torch = options.baselines and torch_version() is not None
  torch_device = "cuda" if options.device == "gpu" else "cpu"
  results = []
  for sizes in options.nets:
    sizes = tuple(sizes)
    per_example = epoch_flops(sizes, EPOCH, 1) / EPOCH
    for batch_size in options.batch_sizes:
      budget = int(0.5 * peak * 1e9 / per_example) // batch_size * batch_size
      n = max(min(options.max_examples, budget), min(options.max_examples, 20 * batch_size))
      t = time_jax(sizes, batch_size, n, device, options.repeats)
      results.append(
        _entry("jax", sizes, batch_size, t["seconds"], t["examples"], peak, t["compile_s"])
      )
      if options.baselines:
        impls = [
          ("numpy_matrix", numpy_stepper(reference.sgd_step_matrix, sizes, batch_size)),
          ("numpy_loop", numpy_stepper(reference.sgd_step_loop, sizes, batch_size)),
        ]
        if has_torch and (options.device == "cpu" or options.device == "gpu"):
          impls.append(("torch", torch_stepper(sizes, batch_size, torch_device)))
        for impl, stepper in impls:
          t = time_best_threads(impl, stepper, batch_size, options)
          results.append(_entry(impl, sizes, batch_size, t["seconds"], t["examples"], peak))
          results[-1]["threads"] = t["threads"]
      log(format_row(results, sizes, batch_size))
  rows = (
    time_variants(device, options.repeats, options.max_examples, log) if options.variants else []
  )
  return {
    "device": options.device,
    "device_kind": device.device_kind,
    "devices": len(jax.devices(options.device)),
    "cpu": cpu_name(),
    "cpu_count": os.cpu_count(),
    "jax_version": jax.__version__,
    "numpy_version": np.__version__,
    "torch_version": torch_version() if has_torch else None,
    "torch_device": torch_device if has_torch else None,
    "matmul_peak_gflops": peak,
    "epoch_examples": EPOCH,
    "min_seconds": options.min_seconds,
    "repeats": options.repeats,
    "results": results,
    "goals": goals(results),
    "variants": rows,
  }


def _find(results, impl, sizes, batch_size) -> dict | None:
  for r in results:
    if r["impl"] == impl and tuple(r["sizes"]) == tuple(sizes) and r["batch_size"] == batch_size:
      return r
  return None


def goals(results) -> dict:
  """The issue's goals, where this run measured them: ratios of seconds per epoch, peak fraction."""
  out = {}
  jax_small = _find(results, "jax", (784, 30, 10), 10)
  for impl, target in (("numpy_matrix", 2.5), ("torch", 15.0)):
    other = _find(results, impl, (784, 30, 10), 10)
    if jax_small and other:
      ratio = other["epoch_s"] / jax_small["epoch_s"]
      out[f"batch10_speedup_vs_{impl}"] = {"value": ratio, "goal": target, "met": ratio >= target}
  jax_big = _find(results, "jax", (784, 100, 10), 1000)
  if jax_big:
    fraction = jax_big["peak_fraction"]
    out["batch1000_peak_fraction"] = {"value": fraction, "goal": 0.6, "met": fraction >= 0.6}
  return out


HEADER = (
  f"{'net':>18} {'batch':>5} {'compile s':>9} {'s/epoch':>8} {'examples/s':>11} {'GFLOP/s':>8} "
  f"{'% peak':>6} | {'numpy mat':>9} {'numpy loop':>10} {'torch':>7} | {'×numpy':>6} {'×torch':>6}"
)


def format_row(results, sizes, batch_size) -> str:
  """One line of the table: JAX's numbers, the baselines' seconds per epoch, and the ratios."""
  j = _find(results, "jax", sizes, batch_size)
  assert j is not None
  cells = [
    f"{'[' + ', '.join(map(str, sizes)) + ']':>18} {batch_size:>5} {j['compile_s']:>9.2f} "
    f"{j['epoch_s']:>8.3f} {j['examples_per_s']:>11,.0f} {j['gflops']:>8.1f} "
    f"{100 * j['peak_fraction']:>5.1f}% |"
  ]
  for impl, width in (("numpy_matrix", 9), ("numpy_loop", 10), ("torch", 7)):
    r = _find(results, impl, sizes, batch_size)
    cells.append(f"{r['epoch_s']:>{width}.3f}" if r else f"{'-':>{width}}")
  cells.append("|")
  for impl in ("numpy_matrix", "torch"):
    r = _find(results, impl, sizes, batch_size)
    cells.append(f"{r['epoch_s'] / j['epoch_s']:>5.1f}×" if r else f"{'-':>6}")
  return " ".join(cells)


def format_table(report: dict) -> str:
  """The whole table, with the machine, the peak and the goals."""
  lines = [
    f"device {report['device']} ({report['device_kind']}, {report['devices']} device(s)); "
    f"CPU {report['cpu']}, {report['cpu_count']} cores; jax {report['jax_version']}, "
    f"numpy {report['numpy_version']}, torch {report['torch_version'] or 'not installed'}",
    f"float32 matmul peak {report['matmul_peak_gflops']:.1f} GFLOP/s; seconds per epoch of "
    f"{report['epoch_examples']:,} examples (JAX: median of several epochs)",
    HEADER,
  ]
  seen = []
  for r in report["results"]:
    case = (tuple(r["sizes"]), r["batch_size"])
    if r["impl"] == "jax" and case not in seen:
      seen.append(case)
      lines.append(format_row(report["results"], *case))
  jax_timed = sorted({r["timed_examples"] for r in report["results"] if r["impl"] == "jax"})
  lines.append(
    f"JAX timed on {', '.join(f'{n:,}' for n in jax_timed)} examples per epoch, the baselines on "
    f"≥ {report['min_seconds']} s of steps each (their best of default threads and 1 thread); "
    "seconds extrapolated to 50,000 examples where fewer were timed"
  )
  for name, g in report["goals"].items():
    lines.append(
      f"goal {name}: {g['value']:.2f} (goal ≥ {g['goal']}) {'met' if g['met'] else 'NOT met'}"
    )
  if report.get("variants"):
    lines.append(
      "train_epoch's design choices, side by side (seconds per epoch, × the shipped one):"
    )
    lines += [format_variant(report["variants"], r) for r in report["variants"]]
  return "\n".join(lines)


def plot(report: dict, path: str) -> None:
  """Examples per second against the batch size, one panel per network, one line per impl."""
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  nets = []
  for r in report["results"]:
    if tuple(r["sizes"]) not in nets:
      nets.append(tuple(r["sizes"]))
  fig, axes = plt.subplots(1, len(nets), figsize=(5 * len(nets), 4), squeeze=False)
  for ax, sizes in zip(axes[0], nets):
    for impl in ("jax", "numpy_matrix", "numpy_loop", "torch"):
      rows = [r for r in report["results"] if r["impl"] == impl and tuple(r["sizes"]) == sizes]
      if rows:
        ax.plot(
          [r["batch_size"] for r in rows], [r["examples_per_s"] for r in rows], "o-", label=impl
        )
    ax.set(xscale="log", yscale="log", xlabel="mini-batch size", ylabel="examples / s")
    ax.set_title(f"{list(sizes)} on {report['device']} ({report['device_kind']})", fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
  fig.tight_layout()
  buffer = io.BytesIO()
  fig.savefig(buffer, format="png", dpi=100)
  plt.close(fig)
  write_atomic(path, buffer.getvalue())


def main(options: Options, out: str = "results/bench", log=print) -> dict:
  """Runs the benchmark, prints the table, writes `out/bench-<device>.json` and `.png`."""
  report = run(options, log=log)
  os.makedirs(out, exist_ok=True)
  stem = os.path.join(out, f"bench-{options.device}")
  write_atomic(stem + ".json", (json.dumps(report, indent=2) + "\n").encode())
  plot(report, stem + ".png")
  log(format_table(report))
  log(f"wrote {stem}.json and {stem}.png")
  return report
