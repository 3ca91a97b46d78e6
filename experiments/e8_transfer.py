"""Fine-tuning and transfer learning: digits 0–4 → digits 5–9, over 10 seeds.

Pre-train [784, 30, 5] on the training images of digits 0–4, save it, load it back, keep its
hidden layer and give it a fresh output layer, then fine-tune every layer on only 100 or 1,000
images of digits 5–9 (labels 5–9 mapped to 0–4). Against it: the same network with a random
hidden layer (and the same fresh output layer), trained from scratch on the same images. To see
what the pre-trained hidden layer carries by itself, both are also run with the hidden layer
frozen (only the output layer learns, on the hidden activations as fixed features: the hidden
layer's updates are set to zero).

Why 5 outputs, not 10: both tasks are 5-way, so one output layer shape serves both and the test
accuracy is over the 5 possible answers. The output layer is re-initialised because its neurons
meant "0"…"4": they carry no knowledge about 5–9, while the hidden layer's stroke detectors do.

What varies across seeds: seed s pre-trains its own network (keyed as `python -m jaxnets train
--seed s`, on every image of digits 0–4) and draws its own fresh output layer, random hidden
layer and fine-tuning shuffle (from `jax.random.key(1000 + s)`); the four variants of a seed
share that output layer and shuffle, so they differ in their hidden layer and what learns alone.
What does not: the 100 and 1,000 images of digits 5–9, one sample drawn from --seed (the 100 are
the first 100 of the 1,000), shared by every seed, since a population trains on one dataset. The
spread over seeds is therefore that of the networks, not of the sample; another --seed draws
another sample. Each (n, trained or frozen) is one population: every seed's fine-tuned and
from-scratch networks (or both frozen ones) as its members.
"""

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import optax

import common
import jaxnets as jn

NAME = "e8_transfer"
HIDDEN = 30
SIZES = (100, 1000)
ETA = 3.0
FROZEN_HIDDEN = optax.multi_transform(
  {"learns": optax.sgd(ETA), "frozen": optax.set_to_zero()},
  lambda params: [jn.Layer("frozen", "frozen"), jn.Layer("learns", "learns")],
)
"""SGD at η = 3 on the output layer; the hidden layer's updates are zero: it stays as it was."""


def digits(data: jn.Dataset, lo: int) -> jn.Dataset:
  """The examples of digits lo..lo+4, labels shifted to 0..4."""
  keep = (data.y >= lo) & (data.y < lo + 5)
  return jn.Dataset(data.x[keep], (data.y[keep] - lo).astype(np.int32))


def main(argv=None) -> dict:
  args = common.parse_args(NAME, __doc__, argv, seeds=(10, 3))
  pre_epochs, pre_n, epochs = (1, 5_000, 20) if args.quick else (10, None, 60)
  common.quick_note(
    args,
    f"pre-training 1 epoch on 5,000 examples, then 20 epochs; {args.n_seeds} seeds",
    "pre-training 10 epochs on all 50,000, then 60 epochs; 10 seeds",
  )
  mnist = jn.load_mnist()
  source = common.subset(digits(mnist.train, 0), pre_n)
  target_pool, target_test = digits(mnist.train, 5), digits(mnist.test, 5)

  init_keys, shuffle_keys = common.population_keys(args.seeds, args.shared_shuffle)
  pretrained, pre_history = jn.fit_population(
    jn.init_population(init_keys, [784, HIDDEN, 5]),
    source,
    eta=ETA,
    mesh=common.mesh(),
    epochs=pre_epochs,
    batch_size=10,
    key=shuffle_keys,
    test=digits(mnist.test, 0),
  )
  args.out.mkdir(parents=True, exist_ok=True)
  checkpoint = args.out / "pretrained_0-4.npz"
  jn.save_params(checkpoint, pretrained)  # the population, stacked
  loaded = jn.load_params(checkpoint)

  keys = jnp.stack([jax.random.split(jax.random.key(1000 + seed), 3) for seed in args.seeds])
  hidden = {"pre-trained": loaded[0], "random": jn.init_population(keys[:, 0], [784, HIDDEN])[0]}
  output = jn.init_population(keys[:, 1], [HIDDEN, 5])[0]
  shuffle = keys[0, 2] if args.shared_shuffle else jnp.concatenate([keys[:, 2]] * 2)
  pick = np.random.default_rng(args.seed).permutation(len(target_pool.x))[: max(SIZES)]
  both = common.stack(*[[layer, output] for layer in hidden.values()])  # pre-trained, random
  s = args.n_seeds
  runs = {}
  for n in SIZES:
    few = jn.Dataset(target_pool.x[pick[:n]], target_pool.y[pick[:n]])
    for names, optimizer in (
      (["fine-tuned", "from scratch"], None),
      (["pre-trained hidden frozen", "random hidden frozen"], FROZEN_HIDDEN),
    ):
      _, history = jn.fit_population(
        both,
        few,
        eta=None if optimizer else ETA,
        mesh=common.mesh(),
        optimizer=optimizer,
        epochs=epochs,
        batch_size=10,
        key=shuffle,
        test=target_test,
      )
      members = common.member_histories(history)
      for i, name in enumerate(names):
        runs[f"{name}, n={n}"] = [h.test_accuracy for h in members[i * s : (i + 1) * s]]
  summary = {
    name: {**common.spread("final_test_accuracy", [c[-1] for c in curves]), "test_accuracy": curves}
    for name, curves in runs.items()
  }
  comparisons = {}
  for n in SIZES:
    for variant, baseline in (
      ("fine-tuned", "from scratch"),
      ("pre-trained hidden frozen", "random hidden frozen"),
    ):
      pairs = zip(runs[f"{variant}, n={n}"], runs[f"{baseline}, n={n}"])  # seed by seed
      gain = [a[-1] - b[-1] for a, b in pairs]
      comparisons[f"{variant} vs {baseline}, n={n}"] = {
        **common.spread("final_test_accuracy_gain", gain),
        "seeds_ahead": sum(g > 0 for g in gain),
      }
  results = {
    "hidden": HIDDEN,
    "eta": ETA,
    "batch_size": 10,
    "pretraining": {
      "n_train": len(source.x),
      "epochs": pre_epochs,
      **common.spread("final_test_accuracy_0_4", pre_history.test_accuracy[-1]),
      "test_accuracy_0_4": [h.test_accuracy for h in common.member_histories(pre_history)],
    },
    "fine_tuning_epochs": epochs,
    "n_seeds": s,
    "seeds": args.seeds,
    "shuffle": args.shuffle,
    "sample_seed": args.seed,
    "n_test_5_9": len(target_test.x),
    "loaded_equals_saved": all(
      bool(np.array_equal(a, b))
      for a, b in zip(jax.tree.leaves(pretrained), jax.tree.leaves(loaded))
    ),
    "runs": summary,
    "comparisons": comparisons,
  }

  fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
  epochs_E = np.arange(1, epochs + 1)
  for ax, n in zip(axes, SIZES):
    styles = (
      ("fine-tuned", "C0", "-"),
      ("from scratch", "C1", "-"),
      ("pre-trained hidden frozen", "C0", ":"),
      ("random hidden frozen", "C1", ":"),
    )
    for name, color, ls in styles:
      common.band(ax, epochs_E, summary[f"{name}, n={n}"]["test_accuracy"], color, name, ls=ls)
    ax.set(xlabel="epoch", title=f"Digits 5–9 from {n} training images: mean, min–max")
    ax.legend(fontsize=8, loc="lower right")
  axes[0].set(ylabel=f"test accuracy on digits 5–9 (%), {s} seeds")

  rows = [
    [
      "pre-trained on 0–4 (test on 0–4)",
      common.pm(results["pretraining"], "final_test_accuracy_0_4"),
    ]
  ]
  rows += [[name, common.pm(r, "final_test_accuracy")] for name, r in summary.items()]
  rows += [
    [name, f"{common.pm(c, 'final_test_accuracy_gain')}, ahead in {c['seeds_ahead']} / {s}"]
    for name, c in comparisons.items()
  ]
  common.finish(args, results, {"transfer": fig}, ["", f"final test accuracy, {s} seeds"], rows)
  return results


if __name__ == "__main__":
  main()
