"""Neurons: a NAND perceptron, a perceptron adder, and step vs sigmoid as the weights grow.

The book's NAND gate is a perceptron with weights (−2, −2) and bias 3. NAND is universal, so a
network of NAND perceptrons adds two bits (sum = x1 ⊕ x2, carry = x1 x2). Multiplying every weight
and bias by c > 0 leaves a perceptron network unchanged, and a sigmoid network with the same
weights approaches it as c → ∞. But only the sigmoid neuron's output changes a little when a
weight changes a little: the perceptron's output is either unchanged or flips from 0 to 1.
"""

import itertools

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

import common
import jaxnets as jn

NAME = "e1_neurons"
W_NAND, B_NAND = jnp.array([-2.0, -2.0]), jnp.array(3.0)
SCALES = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0]
BITS_4x2 = jnp.array(list(itertools.product([0.0, 1.0], repeat=2)))


def nand(neuron, x, c=1.0):
  """The book's NAND gate as `neuron` (perceptron or sigmoid_neuron), weights scaled by c."""
  return neuron(c * W_NAND, c * B_NAND, x)


def adder(neuron, x_Bx2, c=1.0):
  """The book's two-bit adder: five NAND gates. Returns (sum, carry), each (B,)."""

  def g(a, b):
    return nand(neuron, jnp.stack([a, b], axis=-1), c)

  x1, x2 = x_Bx2[:, 0], x_Bx2[:, 1]
  n1 = g(x1, x2)
  return g(g(x1, n1), g(x2, n1)), g(n1, n1)


def weight_sweep(c, dw, x):
  """Outputs of the NAND neuron at input x as its first weight w1 runs over [−3, 1], scaled by c.

  Returns (w1_W, perceptron_W, sigmoid_W); consecutive w1 differ by dw.
  """
  w1_W = jnp.arange(-3.0, 1.0 + dw / 2, dw)
  w_Wx2 = jnp.stack([w1_W, jnp.full_like(w1_W, W_NAND[1])], axis=1)
  step_W = jax.vmap(lambda w: jn.perceptron(c * w, c * B_NAND, x))(w_Wx2)
  sig_W = jax.vmap(lambda w: jn.sigmoid_neuron(c * w, c * B_NAND, x))(w_Wx2)
  return np.asarray(w1_W), np.asarray(step_W), np.asarray(sig_W)


def main(argv=None) -> dict:
  args = common.parse_args(NAME, __doc__, argv)
  dw = 0.01 if args.quick else 0.001
  x = jnp.array([1.0, 1.0])  # the input where NAND's weighted input is z = −1

  nand_table = np.asarray(nand(jn.perceptron, BITS_4x2))
  add_sum, add_carry = (np.asarray(a) for a in adder(jn.perceptron, BITS_4x2))
  scaled = []
  for c in SCALES:
    p_sum, p_carry = adder(jn.perceptron, BITS_4x2, c)
    s_sum, s_carry = adder(jn.sigmoid_neuron, BITS_4x2, c)
    _, step_W, sig_W = weight_sweep(c, dw, x)
    scaled.append(
      {
        "c": c,
        "perceptron_adder_unchanged": bool(
          np.array_equal(p_sum, add_sum) and np.array_equal(p_carry, add_carry)
        ),
        "sigmoid_adder_max_error": float(
          max(np.max(np.abs(s_sum - add_sum)), np.max(np.abs(s_carry - add_carry)))
        ),
        "perceptron_max_output_change": float(np.max(np.abs(np.diff(step_W)))),
        "sigmoid_max_output_change": float(np.max(np.abs(np.diff(sig_W)))),
        "sigmoid_change_bound": c * dw * float(x[0]) / 4,  # max σ' = 1/4, ∂z/∂w1 = c x1
      }
    )

  results = {
    "inputs": BITS_4x2,
    "nand": nand_table,
    "adder_sum": add_sum,
    "adder_carry": add_carry,
    "weight_step": dw,
    "scales": scaled,
  }

  fig, axes = plt.subplots(1, 2, figsize=(11, 4))
  for c, color in zip([1.0, 4.0, 16.0], ["C0", "C1", "C2"]):
    w1_W, step_W, sig_W = weight_sweep(c, dw, x)
    axes[0].plot(w1_W, sig_W, color=color, label=f"sigmoid, weights × {c:g}")
  axes[0].plot(w1_W, step_W, "k--", label="perceptron (any c > 0)")
  axes[0].set(
    xlabel="first weight w1 (w2 = −2, b = 3, input (1, 1))",
    ylabel="output",
    title="Output as one weight changes",
  )
  axes[0].legend(fontsize=8)
  cs = [s["c"] for s in scaled]
  axes[1].loglog(cs, [s["sigmoid_max_output_change"] for s in scaled], "o-", label="sigmoid")
  axes[1].loglog(
    cs, [s["perceptron_max_output_change"] for s in scaled], "ks--", label="perceptron"
  )
  axes[1].loglog(
    cs, [s["sigmoid_adder_max_error"] for s in scaled], "^-", label="sigmoid adder error"
  )
  axes[1].set(
    xlabel="scale c of all weights and biases",
    ylabel="|Δ output| (adder: max |sigmoid − perceptron|)",
    title=f"Largest output change for Δw1 = {dw:g}",
  )
  axes[1].legend(fontsize=8)

  rows = [
    [f"{int(a)}{int(b)}", int(n), int(s), int(k)]
    for (a, b), n, s, k in zip(np.asarray(BITS_4x2), nand_table, add_sum, add_carry)
  ]
  common.finish(args, results, {"neurons": fig}, ["x1x2", "NAND", "sum", "carry"], rows)
  print(
    common.table(
      ["c", "sigmoid adder max error", f"max Δoutput perceptron (Δw1={dw:g})", "sigmoid"],
      [
        [
          f"{s['c']:g}",
          f"{s['sigmoid_adder_max_error']:.2e}",
          f"{s['perceptron_max_output_change']:g}",
          f"{s['sigmoid_max_output_change']:.2e}",
        ]
        for s in scaled
      ],
    )
  )
  return results


if __name__ == "__main__":
  main()
