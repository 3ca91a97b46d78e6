"""Learning rate: [784, 30, 10], mini-batch 10, 30 epochs, η from 0.001 to 100, over 10 seeds.

The book: η = 0.001 on [784, 100, 10] learns slowly (21.42% after 30 epochs, still rising), and
η = 100 on [784, 30, 10] never learns (about 10%, chance). Both of the book's runs are repeated
over 10 seeds, besides a sweep of η on [784, 30, 10]: the final and best test accuracy as
mean ± sd (and min–max) over the seeds.

What varies across seeds: the initial weights and biases (seed s is keyed as `python -m jaxnets
train --seed s`). Every seed takes the first seed's shuffle, which lets the 70 members' first
layers run as one product, faster than one shuffle each; --no-shared-shuffle
gives each seed its own, as its single run. Every η runs the same seeds, so the η differ in η
alone. The sweep is one population,
every (η, seed) pair a member with its own η (`jn.fit_population(eta=[...])`); the [784, 100, 10]
runs are another. No η makes training diverge (NaN): the quadratic cost's gradients through
sigmoids are bounded, so a large η saturates the neurons instead.
"""

import matplotlib.pyplot as plt
import numpy as np

import common
import jaxnets as jn

NAME = "e5_learning_rate"
ETAS = [0.001, 0.01, 0.1, 1.0, 3.0, 10.0, 100.0]
BOOK = {"784-100-10 η=0.001": 0.2142, "784-30-10 η=100": 0.0982}


def sweep(sizes, etas, args, train, test, epochs) -> list[dict]:
  """Every η of `etas` over every seed of `args.seeds`, as one population: one summary per η."""
  init_keys, shuffle_keys = common.population_keys(args.seeds, args.shared_shuffle)
  seed_of = np.tile(np.arange(args.n_seeds), len(etas))  # member i·S + k: η i, seed k
  _, history = jn.fit_population(
    jn.init_population(init_keys[seed_of], sizes),
    train,
    eta=np.repeat(etas, args.n_seeds).tolist(),
    mesh=common.mesh(),
    epochs=epochs,
    batch_size=10,
    key=shuffle_keys if args.shared_shuffle else shuffle_keys[seed_of],
    test=test,
  )
  members = common.member_histories(history)
  summaries = []
  for i, eta in enumerate(etas):
    runs = [
      {"seed": seed, "test_accuracy": h.test_accuracy, "train_cost": h.train_cost}
      for seed, h in zip(args.seeds, members[i * args.n_seeds : (i + 1) * args.n_seeds])
    ]
    summaries.append(
      {
        "sizes": sizes,
        "eta": eta,
        **common.spread("final_test_accuracy", [r["test_accuracy"][-1] for r in runs]),
        **common.spread("best_test_accuracy", [max(r["test_accuracy"]) for r in runs]),
        "runs": runs,
      }
    )
    print(f"  {sizes} η = {eta:g}: final {common.pm(summaries[-1], 'final_test_accuracy')}")
  return summaries


def main(argv=None) -> dict:
  args = common.parse_args(NAME, __doc__, argv, seeds=(10, 2), shared_shuffle=True)
  epochs, n_train = (2, 10_000) if args.quick else (30, None)
  common.quick_note(
    args,
    f"2 epochs on 10,000 of the 50,000 training examples, {args.n_seeds} seeds",
    "30 epochs on all 50,000, 10 seeds",
  )
  mnist = jn.load_mnist()
  train = common.subset(mnist.train, n_train)
  results = {
    "batch_size": 10,
    "epochs": epochs,
    "n_train": len(train.x),
    "n_seeds": args.n_seeds,
    "seeds": args.seeds,
    "shuffle": args.shuffle,
    "book": BOOK,
    "sweep": sweep([784, 30, 10], ETAS, args, train, mnist.test, epochs),
    "book_784_100_10_eta_0.001": sweep([784, 100, 10], [0.001], args, train, mnist.test, epochs)[0],
  }
  swept, book_slow = results["sweep"], results["book_784_100_10_eta_0.001"]

  fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
  epochs_E = np.arange(1, epochs + 1)
  for r, color, label in [
    *[(r, f"C{i}", f"η = {r['eta']:g}") for i, r in enumerate(swept)],
    (book_slow, "k", "[784, 100, 10], η = 0.001"),
  ]:
    acc_SxE = [run["test_accuracy"] for run in r["runs"]]
    common.band(axes[0], epochs_E, acc_SxE, color, label, ls="--" if color == "k" else "-")
  axes[0].set(
    xlabel="epoch",
    ylabel="test accuracy (%)",
    ylim=(0, 100),
    title=f"[784, 30, 10], mini-batch 10: mean and min–max of {args.n_seeds} seeds",
  )
  axes[0].legend(fontsize=8)

  def spread_bars(summaries, name, **kwargs):
    """Mean and min–max over the seeds of each η."""
    mean, lo, hi = (
      np.array([r[f"{name}_test_accuracy_{stat}"] for r in summaries]) * 100
      for stat in ("mean", "min", "max")
    )
    etas = [r["eta"] for r in summaries]
    axes[1].errorbar(etas, mean, yerr=[mean - lo, hi - mean], capsize=3, **kwargs)

  spread_bars(swept, "final", fmt="o-", label="final: mean, min–max")
  spread_bars(swept, "best", fmt="s:", label="best")
  spread_bars([book_slow], "final", fmt="kd", label="[784, 100, 10], final")
  axes[1].plot(
    [0.001], [BOOK["784-100-10 η=0.001"] * 100], "k*", ms=10, label="book: [784, 100, 10]"
  )
  axes[1].plot([100], [BOOK["784-30-10 η=100"] * 100], "r*", ms=10, label="book: 100")
  axes[1].axhline(10, color="grey", ls=":", lw=0.8)
  axes[1].set(
    xlabel="η",
    xscale="log",
    ylabel="test accuracy (%)",
    ylim=(0, 100),
    title=f"After {epochs} epochs",
  )
  axes[1].legend(fontsize=8)

  def row(r, network, book=""):
    return [
      network,
      f"{r['eta']:g}",
      common.pm(r, "final_test_accuracy"),
      common.pm(r, "best_test_accuracy", minmax=False),
      book,
    ]

  rows = [row(r, "[784, 30, 10]") for r in swept]
  rows[-1] = row(swept[-1], "[784, 30, 10]", "book: 9.82%")
  rows.append(row(book_slow, "[784, 100, 10]", "book: 21.42%"))
  headers = ["network", "η", f"final, {args.n_seeds} seeds", "best", ""]
  common.finish(args, results, {"learning_rate": fig}, headers, rows)
  return results


if __name__ == "__main__":
  main()
