"""The benchmark's design-choices table: `train_epoch` as shipped against its alternatives.

Two choices of the README's "Speed" section, each with the alternative it replaced: the shuffle
drawn on the host (`epoch_order`) or on the device (`jax.random.permutation`), and the examples
kept in the columns of the forward pass (`feedforward_batch`) or vmapped first
(`examples_first_quadratic_cost`). The four combinations are interleaved on each case of
`CASES`, each trial drawing its epoch's order inside the clock (the shuffle is one of the
choices); the table gives seconds per epoch and × the shipped one's, of the trials of the same
round.
"""

import jax
import jax.numpy as jnp

from jaxnets._device import epoch_flops
from jaxnets.bench import timing
from jaxnets.bench.timing import Stats, format_seconds, format_stats, ratio_stats
from jaxnets.bench.trainers import Data, JaxEpochs
from jaxnets.cost import quadratic_cost
from jaxnets.network import feedforward

CASES = (((784, 30, 10), 10), ((784, 100, 10), 1000))
"""The (network, mini-batch size) cases timed: the speed goals' two."""


def examples_first_quadratic_cost(params, x_BxI, y_BxO):
  """`quadratic_cost` with the forward pass `jax.vmap(feedforward, (None, 0))`, which puts the
  examples first: equal up to float rounding, the layout `variants()` compares with the shipped
  one (the examples as columns, `feedforward_batch`)."""
  a_BxO = jax.vmap(feedforward, in_axes=(None, 0))(params, x_BxI)
  return 0.5 * jnp.sum(jnp.square(y_BxO - a_BxO)) / x_BxI.shape[0]


def variants() -> dict:
  """`train_epoch`'s design choices and their alternatives: name → (shuffle, cost)."""
  return {
    "as shipped: host shuffle, examples as columns": ("host", quadratic_cost),
    "shuffle by jax.random.permutation": ("device", quadratic_cost),
    "forward vmapped with the examples first": ("host", examples_first_quadratic_cost),
    "both (the earlier design)": ("device", examples_first_quadratic_cost),
  }


def run(data: Data, options, peak: float, log) -> list[dict]:
  """Every variant on every case of `options.variant_cases`: one row each, JSON-ready."""
  rows = []
  for sizes, batch_size in options.variant_cases:
    log(f"design choices: {list(sizes)}, mini-batch {batch_size}")
    trainers = [
      JaxEpochs(data, sizes, batch_size, name=name, shuffle=s, timed_shuffle=True, cost=c)
      for name, (s, c) in variants().items()
    ]
    guess = timing.guess_seconds(epoch_flops(tuple(sizes), data.n, batch_size), peak)
    plans = [timing.plan(t, guess, options.cap_s, options.part_s) for t in trainers]
    seconds = timing.interleave(trainers, options.repeats, options.settle_s)
    for t, p, s in zip(trainers, plans, seconds):
      rows.append(
        {
          "variant": t.name,
          "sizes": list(sizes),
          "batch_size": batch_size,
          "timed_examples": p.examples,
          "whole_epochs": p.whole,
          "epoch_s": Stats.of(s).as_dict(),
          "vs_shipped": ratio_stats(s, seconds[0]).as_dict(),
        }
      )
  return rows


def format_table(rows: list[dict], rounds: int) -> str:
  """The design-choices table: seconds per epoch and × the shipped one's, median (min–max)."""
  lines = [
    "train_epoch's design choices, interleaved: seconds per epoch (the shuffle timed too) and\n"
    f"× the shipped one's seconds, median (min–max) of {rounds} rounds:"
  ]
  for r in rows:
    net = "[" + ", ".join(map(str, r["sizes"])) + "]"
    mark = "" if r["whole_epochs"] else "*"
    lines.append(
      f"{net:>15} {r['batch_size']:>5}  {r['variant']:<46} "
      f"{format_stats(Stats(**r['epoch_s'])) + mark:<22} "
      f"{format_stats(Stats(**r['vs_shipped']), format_seconds)}"
    )
  return "\n".join(lines)
