"""Architecture: the shapes of every weight, bias and activation of a [7, 4, 3] network.

Layer l maps the n_l activations of one layer to the n_{l+1} of the next: w is (n_{l+1}, n_l),
so that w_jk connects neuron k to neuron j, and b is (n_{l+1},). One input gives one activation
vector per layer; a batch of B inputs gives (B, n_l) at each layer.
"""

import jax
import matplotlib.pyplot as plt
import numpy as np

import common
import jaxnets as jn

NAME = "e2_architecture"
SIZES = [7, 4, 3]
BATCH = 5


def activations(params, x_I):
  """Every layer's activations for one input, the input first: [a_0, a_1, ..., a_L]."""
  a = [x_I]
  for w_OxI, b_O in params:
    a.append(jn.sigmoid(w_OxI @ a[-1] + b_O))
  return a


def main(argv=None) -> dict:
  args = common.parse_args(NAME, __doc__, argv)
  key_params, key_x = jax.random.split(jax.random.key(args.seed))
  params = jn.init_params(key_params, SIZES)
  x_BxI = jax.random.uniform(key_x, (BATCH, SIZES[0]))
  acts = activations(params, x_BxI[0])
  acts_batch = jax.vmap(activations, in_axes=(None, 0))(params, x_BxI)
  output = jn.feedforward(params, x_BxI[0])
  output_batch = jn.feedforward_batch(params, x_BxI)

  expected_w = [(n_out, n_in) for n_in, n_out in zip(SIZES[:-1], SIZES[1:])]
  assert [tuple(l.w.shape) for l in params] == expected_w
  assert [tuple(l.b.shape) for l in params] == [(n,) for n in SIZES[1:]]
  assert [tuple(a.shape) for a in acts] == [(n,) for n in SIZES]
  assert [tuple(a.shape) for a in acts_batch] == [(BATCH, n) for n in SIZES]
  assert np.allclose(output, acts[-1]) and np.allclose(output_batch, acts_batch[-1], atol=1e-6)

  results = {
    "sizes": SIZES,
    "layer_sizes": jn.layer_sizes(params),
    "w_shapes": [l.w.shape for l in params],
    "b_shapes": [l.b.shape for l in params],
    "activation_shapes": [a.shape for a in acts],
    "batch": BATCH,
    "batch_activation_shapes": [a.shape for a in acts_batch],
    "n_parameters": sum(l.w.size + l.b.size for l in params),
    "feedforward_matches_layer_by_layer": bool(np.allclose(output, acts[-1])),
    "output": output,
  }

  fig, ax = plt.subplots(figsize=(7, 4))
  ys = [np.linspace(-1, 1, n) * n / max(SIZES) for n in SIZES]
  for l in range(len(SIZES) - 1):
    w = np.asarray(params[l].w)
    for j in range(SIZES[l + 1]):
      for k in range(SIZES[l]):
        color = "C3" if w[j, k] < 0 else "C0"
        ax.plot([l, l + 1], [ys[l][k], ys[l + 1][j]], color=color, lw=0.4 + abs(w[j, k]), alpha=0.5)
    ax.text(l + 0.5, 1.15, f"w {w.shape}\nb ({SIZES[l + 1]},)", ha="center", fontsize=9)
  for l, n in enumerate(SIZES):
    a = np.asarray(acts[l])
    ax.scatter([l] * n, ys[l], s=300, c=a, cmap="Greys", vmin=0, vmax=1, edgecolors="k", zorder=3)
    ax.text(l, -1.3, f"a_{l} ({n},)", ha="center", fontsize=9)
  ax.set(xlim=(-0.4, len(SIZES) - 0.6), ylim=(-1.45, 1.45), title=f"The {SIZES} network")
  ax.axis("off")

  rows = [
    [
      f"layer {l}",
      str(tuple(p.w.shape)),
      str(tuple(p.b.shape)),
      str(tuple(acts[l + 1].shape)),
      str(tuple(acts_batch[l + 1].shape)),
    ]
    for l, p in enumerate(params)
  ]
  rows.insert(0, ["input", "", "", str(tuple(acts[0].shape)), str(tuple(acts_batch[0].shape))])
  common.finish(
    args, results, {"architecture": fig}, ["", "w", "b", "activation", f"batch of {BATCH}"], rows
  )
  return results


if __name__ == "__main__":
  main()
