"""The benchmark's design-choices table: `train_epoch` as shipped against its alternatives.

Three choices of docs/design.md, each with the alternative it replaced: the shuffle
drawn on the host (`epoch_order`) or on the device (`jax.random.permutation`), and the examples
kept in the columns of the forward pass (`feedforward_batch`) or vmapped first
(`examples_first_quadratic_cost`): the four combinations are interleaved on each case of
`CASES`, each trial drawing its epoch's order inside the clock (the shuffle is one of the
choices). And SGD in blocks of steps (`blocks=True`, `jaxnets._engine.blocks`) or in plain
steps (`blocks=False`), on each case of `BLOCK_CASES`: the two networks that `blocks="auto"` runs
in blocks at mini-batch 10, and the book's, which it runs in plain steps. The table gives seconds
per epoch and × the first row of the case, of the trials of the same round.
"""

import jax
import jax.numpy as jnp

from jaxnets._engine.memory import epoch_flops
from jaxnets.bench import timing
from jaxnets.bench.timing import Stats, format_seconds, format_stats, ratio_stats
from jaxnets.bench.trainers import Data, JaxEpochs
from jaxnets.cost import quadratic_cost
from jaxnets.network import feedforward

CASES = (((784, 30, 10), 10), ((784, 100, 10), 1000))
"""The (network, mini-batch size) cases of the shuffle and layout choices: the speed goals' two."""

BLOCK_CASES = (((784, 30, 10), 10), ((784, 100, 10), 10), ((784, 1024, 1024, 10), 10))
"""The cases of blocks against plain steps at mini-batch 10: the book's network (plain steps under
`blocks="auto"`: its layers are below `MIN_LAYER_WEIGHTS`) and two above it (in blocks)."""


def examples_first_quadratic_cost(params, x_BxI, y_BxO):
  """`quadratic_cost` with the forward pass `jax.vmap(feedforward, (None, 0))`, which puts the
  examples first: equal up to float rounding, the layout `variants()` compares with the shipped
  one (the examples as columns, `feedforward_batch`)."""
  a_BxO = jax.vmap(feedforward, in_axes=(None, 0))(params, x_BxI)
  return 0.5 * jnp.sum(jnp.square(y_BxO - a_BxO)) / x_BxI.shape[0]


def variants() -> dict:
  """`train_epoch`'s design choices and their alternatives: name → (shuffle, cost, blocks)."""
  return {
    "as shipped: host shuffle, examples as columns": ("host", quadratic_cost, "auto"),
    "shuffle by jax.random.permutation": ("device", quadratic_cost, "auto"),
    "forward vmapped with the examples first": ("host", examples_first_quadratic_cost, "auto"),
    "both (the earlier design)": ("device", examples_first_quadratic_cost, "auto"),
  }


def block_variants() -> dict:
  """SGD in blocks and in plain steps: name → (shuffle, cost, blocks)."""
  return {
    "SGD in blocks of steps (blocks=True)": ("host", quadratic_cost, True),
    "plain steps (blocks=False)": ("host", quadratic_cost, False),
  }


def run(data: Data, options, peak: float, log) -> list[dict]:
  """Every variant on every case of `options.variant_cases`, and blocks against plain steps on
  every case of `options.block_cases`: one row each, JSON-ready."""
  rows = []
  cases = [(case, variants()) for case in options.variant_cases]
  cases += [(case, block_variants()) for case in options.block_cases]
  for (sizes, batch_size), choices in cases:
    log(f"design choices: {list(sizes)}, mini-batch {batch_size}")
    trainers = [
      JaxEpochs(data, sizes, batch_size, name=name, shuffle=s, timed_shuffle=True, cost=c, blocks=b)
      for name, (s, c, b) in choices.items()
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
          "vs_first": ratio_stats(s, seconds[0]).as_dict(),
        }
      )
  return rows


def format_table(rows: list[dict], rounds: int) -> str:
  """The design-choices table: seconds per epoch and × the case's first row, median (min–max)."""
  lines = [
    "train_epoch's design choices, interleaved: seconds per epoch (the shuffle timed too) and\n"
    f"× the first row's seconds of the same case, median (min–max) of {rounds} rounds:"
  ]
  for r in rows:
    net = "[" + ", ".join(map(str, r["sizes"])) + "]"
    mark = "" if r["whole_epochs"] else "*"
    lines.append(
      f"{net:>15} {r['batch_size']:>5}  {r['variant']:<46} "
      f"{format_stats(Stats(**r['epoch_s'])) + mark:<22} "
      f"{format_stats(Stats(**r['vs_first']), format_seconds)}"
    )
  return "\n".join(lines)
