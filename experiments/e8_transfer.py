"""Fine-tuning and transfer learning: digits 0–4 → digits 5–9.

Pre-train [784, 30, 5] on the training images of digits 0–4, save it, load it back, keep its
hidden layer and give it a fresh output layer, then fine-tune every layer on only 100 or 1,000
images of digits 5–9 (labels 5–9 mapped to 0–4). Against it: the same network with a random
hidden layer (and the same fresh output layer), trained from scratch on the same images. To see
what the pre-trained hidden layer carries by itself, both are also run with the hidden layer
frozen (only the output layer learns, on the hidden activations as fixed features).

Why 5 outputs, not 10: both tasks are 5-way, so one output layer shape serves both and the test
accuracy is over the 5 possible answers. The output layer is re-initialised because its neurons
meant "0"…"4": they carry no knowledge about 5–9, while the hidden layer's stroke detectors do.
"""

import jax
import matplotlib.pyplot as plt
import numpy as np

import common
import jaxnets as jn

NAME = "e8_transfer"
HIDDEN = 30


def digits(data: jn.Dataset, lo: int) -> jn.Dataset:
  """The examples of digits lo..lo+4, labels shifted to 0..4."""
  keep = (data.y >= lo) & (data.y < lo + 5)
  return jn.Dataset(data.x[keep], (data.y[keep] - lo).astype(np.int32))


def features(hidden: jn.Layer, data: jn.Dataset) -> jn.Dataset:
  """The examples as seen by the output layer: the hidden activations σ(w x + b)."""
  return jn.Dataset(np.asarray(jn.feedforward_batch([hidden], data.x)), data.y)


def main(argv=None) -> dict:
  args = common.parse_args(NAME, __doc__, argv)
  pre_epochs, pre_n, epochs, n_seeds = (1, 5_000, 20, 1) if args.quick else (10, None, 60, 3)
  mnist = jn.load_mnist()
  source = common.subset(digits(mnist.train, 0), pre_n)
  target_pool, target_test = digits(mnist.train, 5), digits(mnist.test, 5)

  init_key, shuffle_key = common.seed_keys(args.seed)
  pretrained, pre_history = common.train(
    jn.init_params(init_key, [784, HIDDEN, 5]),
    source,
    eta=3.0,
    epochs=pre_epochs,
    batch_size=10,
    key=shuffle_key,
    test=digits(mnist.test, 0),
  )
  args.out.mkdir(parents=True, exist_ok=True)
  checkpoint = args.out / "pretrained_0-4.npz"
  jn.save_params(checkpoint, pretrained)
  loaded = jn.load_params(checkpoint)
  hidden = loaded[0]

  runs = {}
  for n in (100, 1000):
    for seed in range(args.seed, args.seed + n_seeds):
      pick = np.random.default_rng(seed).choice(len(target_pool.x), n, replace=False)
      few = jn.Dataset(target_pool.x[pick], target_pool.y[pick])
      key_hidden, key_out, key_shuffle = jax.random.split(jax.random.key(1000 + seed), 3)
      output = jn.init_params(key_out, [HIDDEN, 5])[0]
      hiddens = {"pre-trained": hidden, "random": jn.init_params(key_hidden, [784, HIDDEN])[0]}
      for start, layer in hiddens.items():
        _, history = common.train(
          [layer, output],
          few,
          eta=3.0,
          epochs=epochs,
          batch_size=10,
          key=key_shuffle,
          test=target_test,
        )
        name = "fine-tuned" if start == "pre-trained" else "from scratch"
        runs.setdefault(f"{name}, n={n}", []).append(history.test_accuracy)
        # Frozen: the hidden activations are fixed features; a [30, 5] output layer learns alone.
        _, history = common.train(
          [output],
          features(layer, few),
          eta=3.0,
          epochs=epochs,
          batch_size=10,
          key=key_shuffle,
          test=features(layer, target_test),
        )
        runs.setdefault(f"{start} hidden frozen, n={n}", []).append(history.test_accuracy)
  summary = {}
  for name, curves in runs.items():
    final_mean, final_sd = common.mean_sd([c[-1] for c in curves])
    summary[name] = {
      "final_test_accuracy_mean": final_mean,
      "final_test_accuracy_sd": final_sd,
      "test_accuracy": curves,
    }
  results = {
    "hidden": HIDDEN,
    "eta": 3.0,
    "batch_size": 10,
    "pretraining": {
      "n_train": len(source.x),
      "epochs": pre_epochs,
      "test_accuracy_0_4": pre_history.test_accuracy,
    },
    "fine_tuning_epochs": epochs,
    "n_seeds": n_seeds,
    "n_test_5_9": len(target_test.x),
    "loaded_equals_saved": all(
      bool(np.array_equal(a, b))
      for a, b in zip(jax.tree.leaves(pretrained), jax.tree.leaves(loaded))
    ),
    "runs": summary,
  }

  fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
  for ax, n in zip(axes, (100, 1000)):
    styles = (
      ("fine-tuned", "C0", "-"),
      ("from scratch", "C1", "-"),
      ("pre-trained hidden frozen", "C0", ":"),
      ("random hidden frozen", "C1", ":"),
    )
    for name, color, ls in styles:
      for i, curve in enumerate(summary[f"{name}, n={n}"]["test_accuracy"]):
        ax.plot(
          np.arange(1, epochs + 1),
          np.array(curve) * 100,
          color=color,
          ls=ls,
          alpha=0.7,
          label=name if i == 0 else None,
        )
    ax.set(xlabel="epoch", title=f"Digits 5–9 from {n} training images")
    ax.legend(fontsize=8, loc="lower right")
  axes[0].set(ylabel="test accuracy on digits 5–9 (%)")

  rows = [
    [name, f"{s['final_test_accuracy_mean']:.2%} ± {s['final_test_accuracy_sd']:.2%}"]
    for name, s in sorted(summary.items(), key=lambda kv: int(kv[0].split("n=")[1]))
  ]
  rows.insert(0, ["pre-trained on 0–4 (test on 0–4)", f"{pre_history.test_accuracy[-1]:.2%}"])
  common.finish(args, results, {"transfer": fig}, ["", f"test accuracy, {n_seeds} seed(s)"], rows)
  return results


if __name__ == "__main__":
  main()
