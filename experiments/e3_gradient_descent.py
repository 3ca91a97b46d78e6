"""Gradient descent on C(x, y) = x² + y² for several learning rates η.

∇C = 2v, so each step v ← v − η ∇C multiplies v by (1 − 2η): too small an η crawls, η = 0.5 lands
on the minimum in one step, 0.5 < η < 1 overshoots and oscillates inwards, η = 1 bounces between
v0 and −v0 forever, and every η > 1 diverges.
"""

import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

import common
import jaxnets as jn

NAME = "e3_gradient_descent"
ETAS = [0.01, 0.1, 0.5, 0.9, 1.0, 1.05]
SWEEP = [round(0.05 * i, 2) for i in range(1, 31)]  # 0.05, 0.1, ..., 1.5
V0 = (1.0, 0.8)


def status(dist_T):
  """How the distance to the minimum evolved: converges, slow, bounces or diverges."""
  if dist_T[-1] > dist_T[0]:
    return "diverges"
  if dist_T[-1] < 1e-3 * dist_T[0]:
    return "converges"
  return "slow" if dist_T[-1] < dist_T[0] else "bounces"


def cost(v):
  """C(v) = v1² + v2²."""
  return jnp.sum(v**2)


def main(argv=None) -> dict:
  args = common.parse_args(NAME, __doc__, argv)
  steps = 50  # cheap: the same in --quick mode
  runs = []
  radius = float(np.hypot(*V0))
  for i, eta in enumerate(ETAS):
    # ∇C points away from the minimum, so every path is a ray through 0: start each η from its
    # own angle (same distance as V0) to tell them apart on the contour plot.
    angle = np.pi * (0.1 + 0.8 * i / (len(ETAS) - 1))
    start = jnp.array([radius * np.cos(angle), radius * np.sin(angle)])
    path_Tx2 = np.asarray(jn.gradient_descent(cost, start, eta, steps), np.float64)
    dist_T = np.linalg.norm(path_Tx2, axis=1)
    runs.append(
      {
        "eta": eta,
        "trajectory": path_Tx2,
        "distance": dist_T,
        "cost": dist_T**2,
        "ratio_per_step": float(np.median(dist_T[1:] / dist_T[:-1])) if dist_T[-1] else 0.0,
        "predicted_ratio": abs(1 - 2 * eta),
        "status": status(dist_T),
      }
    )
  sweep = []
  for eta in SWEEP:
    dist_T = np.linalg.norm(
      np.asarray(jn.gradient_descent(cost, jnp.array(V0), eta, steps)), axis=1
    )
    sweep.append({"eta": eta, "final_distance": float(dist_T[-1]), "status": status(dist_T)})
  results = {"v0": V0, "steps": steps, "runs": runs, "sweep": sweep}

  fig, axes = plt.subplots(1, 3, figsize=(17, 5))
  g = np.linspace(-2, 2, 201)
  gx, gy = np.meshgrid(g, g)
  axes[0].contour(
    gx, gy, gx**2 + gy**2, levels=np.linspace(0.1, 4, 12), cmap="Greys", linewidths=0.7
  )
  for run, color in zip(runs, [f"C{i}" for i in range(len(runs))]):
    path = run["trajectory"][:12]
    axes[0].plot(path[:, 0], path[:, 1], "o-", ms=3, color=color, lw=1, label=f"η = {run['eta']}")
    axes[0].plot(*path[0], "o", ms=7, color=color)
  axes[0].set(
    xlim=(-2, 2),
    ylim=(-2, 2),
    aspect="equal",
    title=f"First 11 steps, starting at |v| = {radius:.2f}",
  )
  axes[0].legend(fontsize=8, loc="lower left")
  for run, color in zip(runs, [f"C{i}" for i in range(len(runs))]):
    axes[1].semilogy(np.maximum(run["cost"], 1e-30), color=color, label=f"η = {run['eta']}")
  axes[1].set(xlabel="step", ylabel="C(v)", ylim=(1e-30, 1e6), title="Cost per step")
  axes[1].legend(fontsize=8)
  axes[2].semilogy(
    [r["eta"] for r in sweep], [max(r["final_distance"], 1e-30) for r in sweep], "o-"
  )
  axes[2].axvline(1.0, color="k", ls="--", lw=0.8)
  axes[2].axhline(np.linalg.norm(V0), color="grey", ls=":", lw=0.8)
  axes[2].set(xlabel="η", ylabel=f"|v| after {steps} steps", title="Divergence once η > 1")

  rows = [
    [
      f"{r['eta']:g}",
      f"{r['predicted_ratio']:.2f}",
      f"{r['ratio_per_step']:.2f}",
      f"{r['distance'][-1]:.3g}",
      r["status"],
    ]
    for r in runs
  ]
  headers = ["η", "|1 − 2η|", "measured |v'|/|v|", f"|v| after {steps}", ""]
  common.finish(args, results, {"gradient_descent": fig}, headers, rows)
  return results


if __name__ == "__main__":
  main()
