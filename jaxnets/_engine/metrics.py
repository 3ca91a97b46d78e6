"""An epoch's metrics, computed on the device and read by the host once per epoch."""

import jax
import jax.numpy as jnp


def epoch_metrics(params, total_cost: jax.Array, steps: int) -> dict[str, jax.Array]:
  """ "train_cost", the mean of an epoch's `steps` mini-batch costs (`total_cost` their sum), and
  "finite", whether that cost and every parameter are finite. For a population both are (M,)."""
  mean_cost = total_cost / steps
  finite = jnp.isfinite(mean_cost)
  for leaf in jax.tree.leaves(params):
    finite &= jnp.all(jnp.isfinite(leaf), axis=tuple(range(finite.ndim, leaf.ndim)))
  return {"train_cost": mean_cost, "finite": finite}
