"""Classification and regression with the same sigmoid network and the same quadratic cost.

Regression: a [1, 20, 1] network fits a curve through noisy 1-D data, its targets floats in
(0, 1) (the range of a sigmoid output). Classification: a [2, 20, 2] network on 2-D "two moons"
answers with its most activated output, which splits the plane into decision regions.
"""

import matplotlib.pyplot as plt
import numpy as np

import common
import jaxnets as jn

NAME = "e7_classification_regression"


def curve(x):
  """The regression target: 0.5 + 0.3 sin(2π x), inside (0, 1)."""
  return 0.5 + 0.3 * np.sin(2 * np.pi * x)


def regression_data(rng, n, noise=0.03):
  x_Nx1 = rng.uniform(0, 1, (n, 1)).astype(np.float32)
  return jn.Dataset(x_Nx1, (curve(x_Nx1) + noise * rng.normal(size=(n, 1))).astype(np.float32))


def moons(rng, n, noise=0.1):
  """Two interleaved half circles, scaled into [0, 1]²; labels 0 and 1."""
  y_N = rng.integers(0, 2, n)
  t_N = rng.uniform(0, np.pi, n)
  x_N2 = np.where(
    y_N[:, None] == 0,
    np.stack([np.cos(t_N), np.sin(t_N)], 1),
    np.stack([1 - np.cos(t_N), 0.5 - np.sin(t_N)], 1),
  )
  x_N2 = x_N2 + noise * rng.normal(size=(n, 2))
  return jn.Dataset(((x_N2 + [1.5, 1.0]) / [4.5, 2.5]).astype(np.float32), y_N.astype(np.int32))


def main(argv=None) -> dict:
  args = common.parse_args(NAME, __doc__, argv)
  epochs = 100 if args.quick else 1000
  common.quick_note(args, "100 epochs", "1000 epochs")
  rng = np.random.default_rng(args.seed)
  init_key, shuffle_key = common.seed_keys(args.seed)

  reg_train, reg_test = regression_data(rng, 1000), regression_data(rng, 1000)
  reg_params, reg_history = common.train(
    jn.init_params(init_key, [1, 20, 1]),
    reg_train,
    eta=3.0,
    epochs=epochs,
    batch_size=10,
    key=shuffle_key,
    test=reg_test,
  )
  constant_cost = 0.5 * float(np.var(reg_test.y))  # predicting the mean everywhere
  noise_cost = 0.5 * float(np.mean((reg_test.y - curve(reg_test.x)) ** 2))  # the true curve

  cls_train, cls_test = moons(rng, 1000), moons(rng, 1000)
  cls_params, cls_history = common.train(
    jn.init_params(init_key, [2, 20, 2]),
    cls_train,
    eta=3.0,
    epochs=epochs,
    batch_size=10,
    key=shuffle_key,
    test=cls_test,
  )
  cls_train_acc = float(jn.accuracy(cls_params, cls_train.x, cls_train.y))

  results = {
    "epochs": epochs,
    "eta": 3.0,
    "batch_size": 10,
    "regression": {
      "sizes": [1, 20, 1],
      "test_cost": reg_history.test_cost,
      "final_test_cost": reg_history.test_cost[-1],
      "constant_predictor_cost": constant_cost,
      "true_curve_cost": noise_cost,
      "r2": 1 - reg_history.test_cost[-1] / constant_cost,
    },
    "classification": {
      "sizes": [2, 20, 2],
      "test_accuracy": cls_history.test_accuracy,
      "final_train_accuracy": cls_train_acc,
      "final_test_accuracy": cls_history.test_accuracy[-1],
    },
  }

  fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
  x_G = np.linspace(0, 1, 400, dtype=np.float32)[:, None]
  axes[0].scatter(
    reg_train.x[:300, 0], reg_train.y[:300, 0], s=6, c="grey", label="data (300 shown)"
  )
  axes[0].plot(x_G, curve(x_G), "k--", lw=1, label="0.5 + 0.3 sin 2πx")
  axes[0].plot(
    x_G, np.asarray(jn.feedforward_batch(reg_params, x_G)), "C3", lw=2, label="[1, 20, 1] network"
  )
  axes[0].set(xlabel="x", ylabel="y", title=f"Regression: R² = {results['regression']['r2']:.3f}")
  axes[0].legend(fontsize=8)
  g = np.linspace(0, 1, 200, dtype=np.float32)
  gx, gy = np.meshgrid(g, g)
  grid_Gx2 = np.stack([gx.ravel(), gy.ravel()], 1)
  pred_G = np.asarray(jn.predict(cls_params, grid_Gx2)).reshape(gx.shape)
  axes[1].contourf(gx, gy, pred_G, levels=[-0.5, 0.5, 1.5], colors=["C0", "C1"], alpha=0.25)
  for label in (0, 1):
    pts = cls_test.x[cls_test.y == label][:250]
    axes[1].scatter(pts[:, 0], pts[:, 1], s=6, c=f"C{label}", label=f"class {label}")
  axes[1].set(
    xlabel="x1",
    ylabel="x2",
    aspect="equal",
    title=f"Classification: test accuracy {cls_history.test_accuracy[-1]:.1%}",
  )
  axes[1].legend(fontsize=8)

  rows = [
    [
      "regression [1, 20, 1]",
      "test cost",
      f"{reg_history.test_cost[-1]:.5f}",
      f"mean predictor {constant_cost:.5f}, true curve {noise_cost:.5f}",
    ],
    [
      "classification [2, 20, 2]",
      "test accuracy",
      f"{cls_history.test_accuracy[-1]:.2%}",
      f"training {cls_train_acc:.2%}",
    ],
  ]
  common.finish(
    args, results, {"classification_regression": fig}, ["task", "metric", "value", "compare"], rows
  )
  return results


if __name__ == "__main__":
  main()
