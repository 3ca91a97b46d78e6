"""The [784, 100, 10] question: how often does the book's wide network reach 95%, and is float32
rounding to blame when it doesn't?

The book trains [784, 100, 10] once (N(0, 1) weights and biases, η = 3, mini-batch 10, 30 epochs)
and reports 96.59%; experiment 4's float32 runs reach far less, and the book's algorithm in
float64 NumPy reached 96.45% in one of three seeds. Here every seed is trained twice: in float32,
and in float64 (JAX's x64 mode) from the same initial values (drawn in float32, cast to float64)
with the same shuffles, so that its two runs differ in the precision of their arithmetic alone.

Reported per precision: the fraction of runs whose best test accuracy reaches 95% (with a 95%
Wilson interval), the distribution of the best accuracies, and each run's dead digits (answered
for fewer than 10% of their test images, as in experiment 4). Seed by seed: both best accuracies,
which reach 95% (an exact McNemar test on the seeds where one precision does and the other not),
the first epoch whose test accuracy differs, and how far apart the final parameters are.

Rounding, measured directly: on a fixed probe of mini-batches (the first training images, in
order), before training and after each epoch, the fraction of the output layer's updates
η ∂C/∂θ (weights and biases) that are exactly 0 (σ'(z) = σ(z)(1 − σ(z)) is 0 once σ(z) rounds to
one, for z above about 16.6 in float32 and 36.7 in float64) and the fraction of the nonzero ones
that rounding loses: θ − η ∂C/∂θ == θ, an update below half an ulp of θ.

What varies across seeds: the initial weights and biases and the shuffle (seed s keyed as
`python -m jaxnets train --seed s`; with --shared-shuffle, every seed takes the first seed's
shuffle). Each precision's seeds are one population; with per-member shuffles, member k takes
exactly the steps of the single run of its seed (its rounding may differ: see `jn.fit_population`).

Not run by `make experiments`: 64 wide networks for 30 epochs, half of them in float64, took
35 minutes of this project's 2 cores (AMD EPYC; float32 12.5 min, float64 22 min); `make study`
runs it.
"""

import functools
import math
import time

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

import common
import jaxnets as jn

NAME = "study_wide_net"
SIZES = [784, 100, 10]
ETA = 3.0
BATCH_SIZE = 10
REACH = 0.95
BOOK = 0.9659
PRECISIONS = ("float32", "float64")


@jax.jit
def update_fates(params, x_PxBxI, y_PxBxO):
  """Per member: (the fraction of the output layer's updates η ∂C/∂θ that are exactly 0, the
  fraction of the nonzero ones lost to rounding: θ − η ∂C/∂θ == θ) over P probe mini-batches."""

  def fates(p):
    def batch(x_BxI, y_BxO):
      grad = jn.minibatch_gradient(p, x_BxI, y_BxO)[-1]
      updates = [ETA * g for g in grad]  # w and b of the output layer
      zero = sum(jnp.sum(u == 0) for u in updates)
      lost = sum(jnp.sum((u != 0) & (theta - u == theta)) for theta, u in zip(p[-1], updates))
      return zero, lost

    zero, lost = jax.vmap(batch)(x_PxBxI, y_PxBxO)
    n = x_PxBxI.shape[0] * sum(theta.size for theta in p[-1])
    return jnp.sum(zero) / n, jnp.sum(lost) / jnp.maximum(n - jnp.sum(zero), 1)

  return jax.vmap(fates)(params)


def train(params, data: dict[str, jn.Dataset], probe, shuffle_keys, epochs: int) -> dict:
  """One precision's population: its histories, digit recall, update fates and final params."""
  fates = [update_fates(params, *probe)]
  params, history = jn.fit_population(
    params,
    data["train"],
    eta=ETA,
    mesh=common.mesh(),
    epochs=epochs,
    batch_size=BATCH_SIZE,
    key=shuffle_keys,
    test=data["test"],
    on_epoch=lambda epoch, p, state, metrics: fates.append(update_fates(p, *probe)),
  )
  return {
    "histories": common.member_histories(history),
    "recall": common.digit_recall(params, data["test"]),
    "fates": np.asarray(fates, np.float64),  # (epochs + 1, 2, members)
    "params": [np.asarray(a) for a in jax.tree.leaves(params)],
  }


def wilson(k: int, n: int, z: float = 1.96) -> list[float]:
  """The 95% Wilson score interval of a fraction k / n."""
  p, z2 = k / n, z * z
  center = (p + z2 / (2 * n)) / (1 + z2 / n)
  half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
  return [max(0.0, center - half), min(1.0, center + half)]


def mcnemar_exact(b: int, c: int) -> float:
  """Two-sided exact McNemar p-value of b against c discordant pairs (binomial, p = 1/2)."""
  n = b + c
  tail = sum(math.comb(n, i) for i in range(min(b, c) + 1)) / 2**n
  return min(1.0, 2 * tail)


def summarize(seeds, run: dict) -> dict:
  """One precision over the seeds: its runs, best accuracies, reach of 95%, dead digits, probe."""
  runs = []
  for k, (seed, history) in enumerate(zip(seeds, run["histories"])):
    acc = history.test_accuracy
    runs.append(
      {
        "seed": seed,
        "best_test_accuracy": max(acc),
        "best_epoch": int(np.argmax(acc)),
        "test_accuracy": acc,
        "train_cost": history.train_cost,
        "final_test_recall_per_digit": run["recall"][k],
        "dead_digits": common.dead_digits(run["recall"][k]),
        "zero_update_fraction": run["fates"][:, 0, k],
        "lost_update_fraction": run["fates"][:, 1, k],
      }
    )
  best = [r["best_test_accuracy"] for r in runs]
  reach = sum(b >= REACH for b in best)
  dead = [len(r["dead_digits"]) for r in runs]
  return {
    **common.spread("best_test_accuracy", best),
    "best_test_accuracy_quartiles": np.quantile(best, [0.25, 0.5, 0.75]),
    "reach_95": reach,
    "reach_95_fraction": reach / len(runs),
    "reach_95_wilson_95": wilson(reach, len(runs)),
    "runs_with_a_dead_digit": sum(d > 0 for d in dead),
    "runs_by_dead_digits": {d: dead.count(d) for d in sorted(set(dead))},
    "runs_where_digit_is_dead": [sum(d in r["dead_digits"] for r in runs) for d in range(10)],
    "zero_update_fraction_mean": run["fates"][:, 0].mean(axis=1),  # per epoch, over the seeds
    "lost_update_fraction_mean": run["fates"][:, 1].mean(axis=1),
    "runs": runs,
  }


def compare(f32: dict, f64: dict, runs: dict) -> dict:
  """The two precisions seed by seed."""
  a, b = f32["runs"], f64["runs"]
  reach32 = [r["best_test_accuracy"] >= REACH for r in a]
  reach64 = [r["best_test_accuracy"] >= REACH for r in b]
  only32 = sum(x and not y for x, y in zip(reach32, reach64))
  only64 = sum(y and not x for x, y in zip(reach32, reach64))
  gain = [y["best_test_accuracy"] - x["best_test_accuracy"] for x, y in zip(a, b)]
  first_differing = [
    next(
      (e for e, (p, q) in enumerate(zip(x["test_accuracy"], y["test_accuracy"])) if p != q), None
    )
    for x, y in zip(a, b)
  ]
  distance = [
    max(
      float(np.max(np.abs(p[k] - q[k]))) for p, q in zip(*(runs[d]["params"] for d in PRECISIONS))
    )
    for k in range(len(a))
  ]
  return {
    "both_reach_95": sum(x and y for x, y in zip(reach32, reach64)),
    "only_float32_reaches_95": only32,
    "only_float64_reaches_95": only64,
    "neither_reaches_95": sum(not (x or y) for x, y in zip(reach32, reach64)),
    "mcnemar_exact_p": mcnemar_exact(only32, only64),
    **common.spread("best_gain_float64_minus_float32", gain),
    "float64_ahead": sum(g > 0 for g in gain),
    "float32_ahead": sum(g < 0 for g in gain),
    "same_dead_digits": sum(x["dead_digits"] == y["dead_digits"] for x, y in zip(a, b)),
    "first_differing_epoch": first_differing,
    "final_max_param_difference": distance,
  }


def main(argv=None) -> dict:
  args = common.parse_args(NAME, __doc__, argv, seeds=(32, 3))
  epochs, n_train, n_probe = (2, 2_000, 10) if args.quick else (30, None, 100)
  common.quick_note(
    args,
    f"2 epochs on 2,000 of the 50,000 training examples, {args.n_seeds} seeds",
    "30 epochs on all 50,000, 32 seeds",
  )
  mnist = jn.load_mnist()
  data = {"train": common.subset(mnist.train, n_train), "test": mnist.test}
  init_keys, shuffle_keys = common.population_keys(args.seeds, args.shared_shuffle)
  params32 = jn.init_population(init_keys, SIZES)
  probe = common.subset(data["train"], n_probe * BATCH_SIZE)  # the first images, in order
  x_PxBxI = probe.x.reshape(n_probe, BATCH_SIZE, -1)
  y_PxBxO = np.eye(SIZES[-1], dtype=np.float32)[probe.y].reshape(n_probe, BATCH_SIZE, -1)

  runs, seconds = {}, {}
  for dtype in PRECISIONS:
    start = time.perf_counter()
    with jax.enable_x64(dtype == "float64"):  # float64 arithmetic for that run only
      runs[dtype] = train(
        jax.tree.map(functools.partial(jnp.asarray, dtype=dtype), params32),  # exact casts
        {k: d._replace(x=d.x.astype(dtype)) for k, d in data.items()},
        (x_PxBxI.astype(dtype), y_PxBxO.astype(dtype)),
        shuffle_keys,
        epochs,
      )
    seconds[dtype] = time.perf_counter() - start
    print(f"  {dtype}: {seconds[dtype]:.1f} s")
  precisions = {dtype: summarize(args.seeds, runs[dtype]) for dtype in PRECISIONS}
  results = {
    "sizes": SIZES,
    "eta": ETA,
    "batch_size": BATCH_SIZE,
    "epochs": epochs,
    "n_train": len(data["train"].x),
    "n_seeds": args.n_seeds,
    "seeds": args.seeds,
    "shuffle": args.shuffle,
    "init": "normal, drawn in float32 (cast to float64 for the float64 runs)",
    "reach": REACH,
    "book_best_test_accuracy": BOOK,
    "probe_minibatches": n_probe,
    "dead_recall": common.DEAD_RECALL,
    "precisions": precisions,
    "paired": compare(*precisions.values(), runs),
    "seconds": seconds,
  }
  common.finish(args, results, {"wide_net": figure(results)}, *table(results))
  return results


def figure(results: dict):
  """Best accuracy seed by seed, the distribution of each precision, the curves and the probe."""
  f32, f64 = (results["precisions"][d] for d in PRECISIONS)
  fig, axes = plt.subplots(2, 2, figsize=(12, 9))
  ax = axes[0, 0]
  best = {
    d: np.array([r["best_test_accuracy"] for r in p["runs"]]) * 100
    for d, p in zip(PRECISIONS, (f32, f64))
  }
  ax.scatter(best["float32"], best["float64"], s=18)
  lims = [min(*best["float32"], *best["float64"]) - 1, 100]
  ax.plot(lims, lims, color="grey", lw=0.8)
  for line in (ax.axvline, ax.axhline):
    line(REACH * 100, color="C3", ls=":", lw=1)
  ax.set(
    xlabel="float32: best test accuracy (%)",
    ylabel="float64, same start and shuffles (%)",
    title="Seed by seed",
  )
  ax = axes[0, 1]
  for d, color in zip(PRECISIONS, ("C0", "C1")):
    values = np.sort(best[d])
    ax.plot((np.arange(len(values)) + 0.5) / len(values), values, "o-", ms=3, color=color, label=d)
  ax.axhline(REACH * 100, color="C3", ls=":", lw=1, label="95%")
  ax.axhline(BOOK * 100, color="k", ls="--", lw=1, label=f"the book's run, {BOOK:.2%}")
  ax.set(
    xlabel="fraction of seeds", ylabel="best test accuracy (%)", title="Sorted best accuracies"
  )
  ax.legend(fontsize=8)
  ax = axes[1, 0]
  epochs_E = np.arange(1, results["epochs"] + 1)
  for d, p, color in zip(PRECISIONS, (f32, f64), ("C0", "C1")):
    common.band(ax, epochs_E, [r["test_accuracy"] for r in p["runs"]], color, d, lines=True)
  ax.set(
    xlabel="epoch",
    ylabel="test accuracy (%)",
    ylim=(0, 100),
    title="Test accuracy: mean, min–max, each seed",
  )
  ax.legend(fontsize=8, loc="lower right")
  ax = axes[1, 1]
  epochs_E = np.arange(results["epochs"] + 1)
  for d, p, color in zip(PRECISIONS, (f32, f64), ("C0", "C1")):
    for field, ls, what in (("zero", "-", "exactly 0"), ("lost", ":", "nonzero, lost")):
      values = [r[f"{field}_update_fraction"] for r in p["runs"]]
      common.band(ax, epochs_E, values, color, f"{d}: {what}", ls=ls)
  ax.set(
    xlabel="epochs done",
    ylabel="% of the output layer's updates",
    title=f"Probe: {results['probe_minibatches']} mini-batches",
  )
  ax.legend(fontsize=8)
  return fig


def table(results: dict) -> tuple[list[str], list[list]]:
  """The table's headers and rows: one row per precision, then the paired comparison."""
  n = results["n_seeds"]
  rows = []
  for d in PRECISIONS:
    p = results["precisions"][d]
    lo, hi = p["reach_95_wilson_95"]
    rows.append(
      [
        d,
        f"{p['reach_95']} / {n} ({lo:.0%}–{hi:.0%})",
        common.pm(p, "best_test_accuracy"),
        " / ".join(f"{q:.1%}" for q in p["best_test_accuracy_quartiles"]),
        f"{p['runs_with_a_dead_digit']} / {n}",
        f"{p['zero_update_fraction_mean'][-1]:.2%}",
        f"{p['lost_update_fraction_mean'][-1]:.2%}",
      ]
    )
  c = results["paired"]
  rows.append(
    [
      "paired",
      f"only f32 {c['only_float32_reaches_95']}, only f64 {c['only_float64_reaches_95']}: "
      f"p = {c['mcnemar_exact_p']:.2f}",
      f"f64 − f32: {common.pm(c, 'best_gain_float64_minus_float32', minmax=False)}",
      "",
      f"same: {c['same_dead_digits']} / {n}",
      "",
      "",
    ]
  )
  headers = ["", "reach 95% (95% CI)", "best", "quartiles", "dead digit", "zero updates", "lost"]
  return headers, rows


if __name__ == "__main__":
  main()
