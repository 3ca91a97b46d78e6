"""Training vs validation: [784, 30, 10] on only 1,000 training images, for many epochs.

With so few examples the network learns them all (training accuracy → 100%, training cost → 0)
while validation accuracy stalls and the validation cost stops falling: overfitting. Early
stopping keeps the parameters of the epoch with the best validation accuracy; its test accuracy
is what that network scores on data never used to choose anything.
"""

import jax
import matplotlib.pyplot as plt
import numpy as np

import common
import jaxnets as jn

NAME = "e6_overfitting"
PATIENCE = 10  # "no improvement in 10 epochs": the book's chapter 3 rule of thumb


@jax.jit
def cost_and_correct(params, x_NxI, y_N):
  """The quadratic cost and the number of correct answers on a labelled set."""
  return jn.quadratic_cost(params, x_NxI, y_N), jn.evaluate(params, x_NxI, y_N)


def early_stopping(val_acc_E, patience):
  """The epoch where "stop after `patience` epochs without a new best" stops, and the best epoch
  it keeps (the last epoch and the overall best if it never stops)."""
  best = 0
  for epoch, acc in enumerate(val_acc_E):
    if acc > val_acc_E[best]:
      best = epoch
    if epoch - best >= patience:
      return epoch, best
  return len(val_acc_E) - 1, best


def main(argv=None) -> dict:
  args = common.parse_args(NAME, __doc__, argv)
  epochs = 30 if args.quick else 400
  common.quick_note(args, "30 epochs", "400 epochs")
  mnist = jn.load_mnist()
  train = common.subset(mnist.train, 1000)
  init_key, shuffle_key = common.seed_keys(args.seed)
  train_metrics = []

  def on_epoch(epoch, params, opt_state, metrics):
    cost, correct = cost_and_correct(params, train.x, train.y)
    train_metrics.append((float(cost), int(correct) / len(train.x)))

  _, history = common.train(
    jn.init_params(init_key, [784, 30, 10]),
    train,
    eta=3.0,
    epochs=epochs,
    batch_size=10,
    key=shuffle_key,
    validation=mnist.validation,
    test=mnist.test,
    on_epoch=on_epoch,
  )
  train_cost_E, train_acc_E = (list(v) for v in zip(*train_metrics))
  val_acc_E, test_acc_E = history.validation_accuracy, history.test_accuracy
  stop_epoch, kept_epoch = early_stopping(val_acc_E, PATIENCE)
  best_epoch = int(np.argmax(val_acc_E))
  results = {
    "n_train": len(train.x),
    "eta": 3.0,
    "batch_size": 10,
    "epochs": epochs,
    "train_cost": train_cost_E,
    "train_accuracy": train_acc_E,
    "validation_cost": history.validation_cost,
    "validation_accuracy": val_acc_E,
    "test_accuracy": test_acc_E,
    "final": {
      "train_accuracy": train_acc_E[-1],
      "validation_accuracy": val_acc_E[-1],
      "test_accuracy": test_acc_E[-1],
    },
    "first_epoch_train_accuracy_100": next(
      (e for e, a in enumerate(train_acc_E) if a == 1.0), None
    ),
    "best_validation_epoch": best_epoch,
    "best_validation_accuracy": val_acc_E[best_epoch],
    "test_accuracy_at_best_validation": test_acc_E[best_epoch],
    "early_stopping": {
      "patience": PATIENCE,
      "stop_epoch": stop_epoch,
      "kept_epoch": kept_epoch,
      "validation_accuracy": val_acc_E[kept_epoch],
      "test_accuracy": test_acc_E[kept_epoch],
    },
  }

  fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
  epochs_E = np.arange(epochs)
  axes[0].plot(epochs_E, np.array(train_acc_E) * 100, label="training (1,000 images)")
  axes[0].plot(epochs_E, np.array(val_acc_E) * 100, label="validation (10,000)")
  axes[0].plot(epochs_E, np.array(test_acc_E) * 100, lw=0.8, alpha=0.7, label="test (10,000)")
  axes[0].axvline(
    stop_epoch, color="k", ls="--", lw=0.8, label=f"early stopping stops (epoch {stop_epoch})"
  )
  axes[0].axvline(best_epoch, color="grey", ls=":", lw=0.8, label=f"best validation ({best_epoch})")
  axes[0].set(xlabel="epoch", ylabel="accuracy (%)", ylim=(50, 101), title="Accuracy")
  axes[0].legend(fontsize=8, loc="lower right")
  axes[1].semilogy(epochs_E, train_cost_E, label="training")
  axes[1].semilogy(epochs_E, history.validation_cost, label="validation")
  axes[1].axvline(stop_epoch, color="k", ls="--", lw=0.8)
  axes[1].set(xlabel="epoch", ylabel="quadratic cost (end of epoch)", title="Cost")
  axes[1].legend(fontsize=8)

  rows = [
    [
      f"final (epoch {epochs - 1})",
      f"{train_acc_E[-1]:.2%}",
      f"{val_acc_E[-1]:.2%}",
      f"{test_acc_E[-1]:.2%}",
    ],
    [
      f"best validation (epoch {best_epoch})",
      f"{train_acc_E[best_epoch]:.2%}",
      f"{val_acc_E[best_epoch]:.2%}",
      f"{test_acc_E[best_epoch]:.2%}",
    ],
    [
      f"early stopping, patience {PATIENCE} (stops {stop_epoch}, keeps {kept_epoch})",
      f"{train_acc_E[kept_epoch]:.2%}",
      f"{val_acc_E[kept_epoch]:.2%}",
      f"{test_acc_E[kept_epoch]:.2%}",
    ],
  ]
  common.finish(args, results, {"overfitting": fig}, ["", "training", "validation", "test"], rows)
  return results


if __name__ == "__main__":
  main()
