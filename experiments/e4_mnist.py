"""The book's MNIST runs: [784, 30, 10] and [784, 100, 10], η = 3, mini-batch 10, 30 epochs.

The book reports the best test accuracy of one run each: 95.42% and 96.59%. Here: the best and the
final test accuracy as mean ± sd (and min–max) over 10 seeds, the digits each run never learned
to answer (its dead digits), and the learning curves of every seed.

What varies across seeds: the initial weights and biases, and the shuffle (seed s is keyed as
`python -m jaxnets train --seed s`); with --shared-shuffle, the initial parameters only (every
seed takes the first seed's shuffle). The seeds of one network are one population, trained at once
by `jn.fit_population`; with per-member shuffles, each takes exactly its single run's steps (and
its rounding, in a small population: see `jn.fit_population`).
"""

import matplotlib.pyplot as plt
import numpy as np

import common
import jaxnets as jn

NAME = "e4_mnist"
BOOK = {"784-30-10": 0.9542, "784-100-10": 0.9659}
NETS = {"784-30-10": [784, 30, 10], "784-100-10": [784, 100, 10]}


def main(argv=None) -> dict:
  args = common.parse_args(NAME, __doc__, argv, seeds=(10, 3))
  epochs, n_train = (2, 10_000) if args.quick else (30, None)
  common.quick_note(
    args,
    f"2 epochs on 10,000 of the 50,000 training examples, {args.n_seeds} seeds",
    "30 epochs on all 50,000, 10 seeds",
  )
  mnist = jn.load_mnist()
  train = common.subset(mnist.train, n_train)
  init_keys, shuffle_keys = common.population_keys(args.seeds, args.shared_shuffle)
  nets = {}
  for name, sizes in NETS.items():
    params, history = jn.fit_population(
      jn.init_population(init_keys, sizes),
      train,
      eta=3.0,
      mesh=common.mesh(),
      epochs=epochs,
      batch_size=10,
      key=shuffle_keys,
      validation=mnist.validation,
      test=mnist.test,
    )
    recall_MxD = common.digit_recall(params, mnist.test)
    runs = []
    for seed, run, recall in zip(args.seeds, common.member_histories(history), recall_MxD):
      runs.append(
        {
          "seed": seed,
          **run.as_dict(),
          "final_test_recall_per_digit": recall,
          # a digit whose output neuron stayed saturated is (almost) never answered
          "dead_digits": common.dead_digits(recall),
        }
      )
      best = max(run.test_accuracy)
      print(f"  {name} seed {seed}: best {best:.2%}, final {run.test_accuracy[-1]:.2%}")
    seconds = float(np.median(history.epoch_seconds))
    nets[name] = {
      "sizes": sizes,
      "runs_with_a_dead_digit": sum(bool(r["dead_digits"]) for r in runs),
      "book_best_test_accuracy": BOOK[name],
      **common.spread("best_test_accuracy", [max(r["test_accuracy"]) for r in runs]),
      **common.spread("final_test_accuracy", [r["test_accuracy"][-1] for r in runs]),
      **common.spread("first_epoch_test_accuracy", [r["test_accuracy"][0] for r in runs]),
      "population_epoch_seconds_median": seconds,
      "seconds_per_network_epoch": seconds / len(runs),
      "runs": runs,
    }
  results = {
    "eta": 3.0,
    "batch_size": 10,
    "epochs": epochs,
    "n_train": len(train.x),
    "n_seeds": args.n_seeds,
    "seeds": args.seeds,
    "shuffle": args.shuffle,
    "nets": nets,
  }

  fig, axes = plt.subplots(1, 3, figsize=(17, 4.5))
  epochs_E = np.arange(1, epochs + 1)
  for (name, net), color in zip(nets.items(), ["C0", "C1"]):
    label = f"[{name.replace('-', ', ')}]: mean, min–max, each seed"
    for ax in axes[:2]:
      common.band(ax, epochs_E, [r["test_accuracy"] for r in net["runs"]], color, label, lines=True)
      ax.axhline(
        net["book_best_test_accuracy"] * 100,
        color=color,
        ls="--",
        lw=1,
        label=f"book's best, {net['book_best_test_accuracy']:.2%}",
      )
    common.band(axes[2], epochs_E, [r["train_cost"] for r in net["runs"]], color, scale=1)
  axes[0].set(
    xlabel="epoch",
    ylabel="test accuracy (%)",
    ylim=(0, 100),
    title=f"Test accuracy, {args.n_seeds} seeds each",
  )
  axes[0].legend(fontsize=8, loc="lower right")
  axes[1].set(xlabel="epoch", ylim=(90, 97.5), title="The same, zoomed in")
  axes[2].set(xlabel="epoch", ylabel="mean mini-batch cost", yscale="log", title="Training cost")

  rows = [
    [
      f"[{name.replace('-', ', ')}]",
      f"{net['book_best_test_accuracy']:.2%}",
      common.pm(net, "best_test_accuracy"),
      common.pm(net, "final_test_accuracy"),
      f"{net['runs_with_a_dead_digit']} / {args.n_seeds}",
      f"{net['seconds_per_network_epoch']:.3f}",
    ]
    for name, net in nets.items()
  ]
  headers = [
    "network",
    "book (best)",
    f"best, {args.n_seeds} seeds",
    "final",
    "dead digit",
    "s/network-epoch",
  ]
  common.finish(args, results, {"mnist": fig}, headers, rows)
  return results


if __name__ == "__main__":
  main()
