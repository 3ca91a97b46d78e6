"""Learning rate: [784, 30, 10], mini-batch 10, 30 epochs, η from 0.001 to 100.

The book: η = 0.001 on [784, 100, 10] learns slowly (21.42% after 30 epochs, still rising), and
η = 100 on [784, 30, 10] never learns (about 10%, chance). Both of the book's runs are repeated
exactly, besides a sweep of η on [784, 30, 10].
"""

import matplotlib.pyplot as plt
import numpy as np

import common
import jaxnets as jn

NAME = "e5_learning_rate"
ETAS = [0.001, 0.01, 0.1, 1.0, 3.0, 10.0, 100.0]
BOOK = {"784-100-10 η=0.001": 0.2142, "784-30-10 η=100": 0.0982}


def run(sizes, eta, train, test, epochs, seed):
  """One training run: a dict of its per-epoch metrics, or of the epoch where it diverged."""
  init_key, shuffle_key = common.seed_keys(seed)
  histories = []
  try:
    common.train(
      jn.init_params(init_key, sizes),
      train,
      eta=eta,
      epochs=epochs,
      batch_size=10,
      key=shuffle_key,
      test=test,
      on_epoch=lambda epoch, p, s, metrics: histories.append(metrics),
    )
    diverged = None
  except jn.TrainingDiverged as e:
    diverged = str(e)
  acc = [m["test_accuracy"] for m in histories]
  return {
    "sizes": sizes,
    "eta": eta,
    "test_accuracy": acc,
    "train_cost": [m["train_cost"] for m in histories],
    "final_test_accuracy": acc[-1] if acc and not diverged else float("nan"),
    "best_test_accuracy": max(acc) if acc else float("nan"),
    "diverged": diverged,
  }


def main(argv=None) -> dict:
  args = common.parse_args(NAME, __doc__, argv)
  epochs, n_train = (2, 10_000) if args.quick else (30, None)
  mnist = jn.load_mnist()
  train = common.subset(mnist.train, n_train)
  sweep = []
  for eta in ETAS:
    sweep.append(run([784, 30, 10], eta, train, mnist.test, epochs, args.seed))
    print(f"  η = {eta:g}: final {sweep[-1]['final_test_accuracy']:.2%}")
  book_slow = run([784, 100, 10], 0.001, train, mnist.test, epochs, args.seed)
  results = {
    "batch_size": 10,
    "epochs": epochs,
    "n_train": len(train.x),
    "book": BOOK,
    "sweep": sweep,
    "book_784_100_10_eta_0.001": book_slow,
  }

  fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
  for i, r in enumerate(sweep):
    axes[0].plot(
      np.arange(1, len(r["test_accuracy"]) + 1),
      np.array(r["test_accuracy"]) * 100,
      color=f"C{i}",
      label=f"η = {r['eta']:g}",
    )
  axes[0].plot(
    np.arange(1, len(book_slow["test_accuracy"]) + 1),
    np.array(book_slow["test_accuracy"]) * 100,
    "k--",
    label="[784, 100, 10], η = 0.001",
  )
  axes[0].set(
    xlabel="epoch", ylabel="test accuracy (%)", ylim=(0, 100), title="[784, 30, 10], mini-batch 10"
  )
  axes[0].legend(fontsize=8)
  axes[1].semilogx(ETAS, [r["final_test_accuracy"] * 100 for r in sweep], "o-", label="final")
  axes[1].semilogx(ETAS, [r["best_test_accuracy"] * 100 for r in sweep], "s:", label="best")
  axes[1].semilogx(
    [0.001], [BOOK["784-100-10 η=0.001"] * 100], "k*", ms=10, label="book: 0.001 on [784, 100, 10]"
  )
  axes[1].semilogx([100], [BOOK["784-30-10 η=100"] * 100], "r*", ms=10, label="book: 100")
  axes[1].axhline(10, color="grey", ls=":", lw=0.8)
  axes[1].set(xlabel="η", ylabel="test accuracy (%)", ylim=(0, 100), title=f"After {epochs} epochs")
  axes[1].legend(fontsize=8)

  rows = [
    [
      "[784, 30, 10]",
      f"{r['eta']:g}",
      f"{r['final_test_accuracy']:.2%}",
      f"{r['best_test_accuracy']:.2%}",
      "diverged" if r["diverged"] else "",
    ]
    for r in sweep
  ]
  rows.append(
    [
      "[784, 100, 10]",
      "0.001",
      f"{book_slow['final_test_accuracy']:.2%}",
      f"{book_slow['best_test_accuracy']:.2%}",
      "book: 21.42%",
    ]
  )
  rows[-2][-1] = "book: 9.82%"
  common.finish(args, results, {"learning_rate": fig}, ["network", "η", "final", "best", ""], rows)
  return results


if __name__ == "__main__":
  main()
