"""Mini-batch size: test accuracy reached in a fixed number of seconds, for m = 1, 10, 100, 1000.

A larger mini-batch m estimates the gradient with less noise and computes faster per example
(one matrix product instead of m vector products), but takes m times fewer steps per example.
Each m gets the same wall-clock budget on [784, 30, 10] with η = 3; training runs in compiled
chunks of 5,000 images (one `train_epoch` call each), compile time excluded; the clock stops
while the test set is evaluated (after the chunks that end about 25% later than the last
evaluation, so that evaluating does not dominate).
"""

import time

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

import common
import jaxnets as jn

NAME = "e9_batch_size"
BATCH_SIZES = [1, 10, 100, 1000]
CHUNK = 5_000


def run(batch_size, chunks, test, seconds, seed):
  """Trains for `seconds` of compute; returns the (seconds, examples, accuracy) after each chunk."""
  init_key, shuffle_key = common.seed_keys(seed)
  shuffle_words = jn.train.key_words(shuffle_key)
  params = jn.init_params(init_key, [784, 30, 10])
  state = jn.with_learning_rate(jn.SGD.init(params), 3.0)

  def chunk_step(params, state, i):
    x_NxI, y_N = chunks[i % len(chunks)]
    order_N = jn.epoch_order(shuffle_words, i, len(y_N))
    params, state, metrics = jn.train_epoch(
      params, state, x_NxI, y_N, order_N, batch_size=batch_size, optimizer=jn.SGD
    )
    return jax.block_until_ready((params, state, metrics))

  jax.block_until_ready(chunk_step(params, state, 0))  # compile, outside the clock
  clock, i, points = 0.0, 0, [(0.0, 0, int(jn.evaluate(params, *test)) / len(test.y))]
  next_eval = 0.0
  while clock < seconds:
    start = time.perf_counter()
    params, state, metrics = chunk_step(params, state, i)
    clock += time.perf_counter() - start
    i += 1
    if not bool(metrics["finite"]):
      break
    if clock >= next_eval or clock >= seconds:
      points.append((clock, i * CHUNK, int(jn.evaluate(params, *test)) / len(test.y)))
      next_eval = 1.25 * clock

  def accuracy_at(t):
    return [p for p in points if p[0] <= t][-1][2]

  return {
    "batch_size": batch_size,
    "seconds": [p[0] for p in points],
    "examples": [p[1] for p in points],
    "test_accuracy": [p[2] for p in points],
    "accuracy_at_1s": accuracy_at(1.0),
    "accuracy_at_budget": accuracy_at(seconds),
    "examples_per_second": points[-1][1] / points[-1][0],
    "steps_per_second": points[-1][1] / batch_size / points[-1][0],
    "diverged": not bool(metrics["finite"]),
  }


def main(argv=None) -> dict:
  args = common.parse_args(NAME, __doc__, argv)
  seconds = 1.0 if args.quick else 10.0
  common.quick_note(args, "1 s of training per mini-batch size", "10 s each")
  mnist = jn.load_mnist()
  x, y = mnist.train
  chunks = [
    (jnp.asarray(x[i : i + CHUNK]), jnp.asarray(y[i : i + CHUNK])) for i in range(0, len(x), CHUNK)
  ]
  test = jn.Dataset(jnp.asarray(mnist.test.x), jnp.asarray(mnist.test.y))
  runs = []
  for m in BATCH_SIZES:
    runs.append(run(m, chunks, test, seconds, args.seed))
    print(f"  m = {m}: {runs[-1]['accuracy_at_budget']:.2%}", flush=True)
  results = {"eta": 3.0, "budget_seconds": seconds, "chunk": CHUNK, "runs": runs}

  fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
  for r in runs:
    axes[0].plot(
      r["seconds"], np.array(r["test_accuracy"]) * 100, "o-", ms=2, label=f"m = {r['batch_size']}"
    )
    axes[1].plot(
      np.array(r["examples"]) / len(x),
      np.array(r["test_accuracy"]) * 100,
      "o-",
      ms=2,
      label=f"m = {r['batch_size']}",
    )
  axes[0].set(
    xlabel="training seconds (compile and evaluation excluded)",
    ylabel="test accuracy (%)",
    ylim=(0, 100),
    title=f"Same {seconds:g} s budget",
  )
  axes[1].set(
    xlabel="epochs (examples seen / 50,000)", xscale="log", ylim=(0, 100), title="Per example seen"
  )
  for ax in axes:
    ax.legend(fontsize=8, loc="lower right")

  rows = [
    [
      r["batch_size"],
      f"{r['accuracy_at_1s']:.2%}",
      f"{r['accuracy_at_budget']:.2%}",
      f"{r['examples_per_second']:,.0f}",
      f"{r['steps_per_second']:,.0f}",
      f"{r['examples'][-1] / len(x):.2f}",
    ]
    for r in runs
  ]
  headers = [
    "m",
    "test accuracy after 1 s",
    f"after {seconds:g} s",
    "examples/s",
    "steps/s",
    "epochs",
  ]
  common.finish(args, results, {"batch_size": fig}, headers, rows)
  return results


if __name__ == "__main__":
  main()
