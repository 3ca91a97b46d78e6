"""The book's MNIST runs: [784, 30, 10] and [784, 100, 10], η = 3, mini-batch 10, 30 epochs.

The book reports the best test accuracy of one run each: 95.42% and 96.59%. Here: best and final
test accuracy as mean ± sd over 5 seeds, and the learning curves.
"""

import matplotlib.pyplot as plt
import numpy as np

import common
import jaxnets as jn

NAME = "e4_mnist"
BOOK = {"784-30-10": 0.9542, "784-100-10": 0.9659}
NETS = {"784-30-10": [784, 30, 10], "784-100-10": [784, 100, 10]}


def main(argv=None) -> dict:
  args = common.parse_args(NAME, __doc__, argv)
  epochs, n_seeds, n_train = (2, 1, 10_000) if args.quick else (30, 5, None)
  mnist = jn.load_mnist()
  train = common.subset(mnist.train, n_train)
  nets = {}
  for name, sizes in NETS.items():
    runs = []
    for seed in range(args.seed, args.seed + n_seeds):
      init_key, shuffle_key = common.seed_keys(seed)
      params, history = common.train(
        jn.init_params(init_key, sizes),
        train,
        eta=3.0,
        epochs=epochs,
        batch_size=10,
        key=shuffle_key,
        validation=mnist.validation,
        test=mnist.test,
      )
      predicted_N = np.asarray(jn.predict(params, mnist.test.x))
      recall = [float(np.mean(predicted_N[mnist.test.y == d] == d)) for d in range(10)]
      runs.append(
        {
          "seed": seed,
          **history.as_dict(),
          "final_test_recall_per_digit": recall,
          # a digit whose output neuron stayed saturated is (almost) never answered
          "dead_digits": [d for d in range(10) if recall[d] < 0.1],
        }
      )
      best = max(history.test_accuracy)
      print(f"  {name} seed {seed}: best {best:.2%}, final {history.test_accuracy[-1]:.2%}")
    best_mean, best_sd = common.mean_sd([max(r["test_accuracy"]) for r in runs])
    final_mean, final_sd = common.mean_sd([r["test_accuracy"][-1] for r in runs])
    nets[name] = {
      "sizes": sizes,
      "runs_with_a_dead_digit": sum(bool(r["dead_digits"]) for r in runs),
      "book_best_test_accuracy": BOOK[name],
      "best_test_accuracy_mean": best_mean,
      "best_test_accuracy_sd": best_sd,
      "final_test_accuracy_mean": final_mean,
      "final_test_accuracy_sd": final_sd,
      "seconds_per_epoch_median": float(np.median([s for r in runs for s in r["epoch_seconds"]])),
      "runs": runs,
    }
  results = {
    "eta": 3.0,
    "batch_size": 10,
    "epochs": epochs,
    "n_train": len(train.x),
    "n_seeds": n_seeds,
    "nets": nets,
  }

  fig, axes = plt.subplots(1, 3, figsize=(17, 4.5))
  epochs_E = np.arange(1, epochs + 1)
  for (name, net), color in zip(nets.items(), ["C0", "C1"]):
    for i, run in enumerate(net["runs"]):
      for ax in axes[:2]:
        ax.plot(
          epochs_E,
          np.array(run["test_accuracy"]) * 100,
          color=color,
          alpha=0.5,
          lw=1,
          label=f"[{name.replace('-', ', ')}]" if i == 0 else None,
        )
      axes[2].semilogy(epochs_E, run["train_cost"], color=color, alpha=0.5, lw=1)
    for ax in axes[:2]:
      ax.axhline(
        net["book_best_test_accuracy"] * 100,
        color=color,
        ls="--",
        lw=1,
        label=f"book's best, {net['book_best_test_accuracy']:.2%}",
      )
  axes[0].set(
    xlabel="epoch",
    ylabel="test accuracy (%)",
    ylim=(0, 100),
    title=f"Test accuracy, {n_seeds} seed(s) each",
  )
  axes[0].legend(fontsize=8, loc="lower right")
  axes[1].set(xlabel="epoch", ylim=(90, 97.5), title="The same, zoomed in")
  axes[2].set(xlabel="epoch", ylabel="mean mini-batch cost", title="Training cost")

  rows = [
    [
      f"[{name.replace('-', ', ')}]",
      f"{net['book_best_test_accuracy']:.2%}",
      f"{net['best_test_accuracy_mean']:.2%} ± {net['best_test_accuracy_sd']:.2%}",
      f"{net['final_test_accuracy_mean']:.2%} ± {net['final_test_accuracy_sd']:.2%}",
      f"{net['runs_with_a_dead_digit']} / {n_seeds}",
      f"{net['seconds_per_epoch_median']:.2f}",
    ]
    for name, net in nets.items()
  ]
  headers = ["network", "book (best)", f"best, {n_seeds} seeds", "final", "dead digit", "s/epoch"]
  common.finish(args, results, {"mnist": fig}, headers, rows)
  return results


if __name__ == "__main__":
  main()
