"""What a run says of itself: its first line and its curves' title."""

import jax

from jaxnets.data.dataset import Splits
from jaxnets.runs.config import TrainConfig


def span(values) -> str:
  """ "0–15" for a range of consecutive integers, else "0, 3, 7"."""
  values = list(values)
  consecutive = len(values) > 2 and values == list(range(values[0], values[0] + len(values)))
  return f"{values[0]}–{values[-1]}" if consecutive else ", ".join(map(str, values))


def what(config: TrainConfig) -> str:
  """The network(s) a run trains: "[784, 30, 10], eta 3.0, seed 0", or its population's."""
  if not config.is_population:
    return f"{list(config.sizes)}, eta {config.eta}, seed {config.seed}"
  seeds, etas = config.seeds or (config.seed,), config.etas or (config.eta,)
  shuffle = "one shared shuffle" if config.shared_shuffle else "a shuffle per member"
  return (
    f"a population of {len(config.members)} networks {list(config.sizes)} (seeds {span(seeds)} "
    f"× eta {span(etas)}; {shuffle})"
  )


def title(config: TrainConfig) -> str:
  """The curves' title."""
  if not config.is_population:
    return (
      f"{list(config.sizes)}, η = {config.eta}, mini-batch {config.batch_size}, seed {config.seed}"
    )
  seeds, etas = config.seeds or (config.seed,), config.etas or (config.eta,)
  return (
    f"{list(config.sizes)}, {len(config.members)} networks (seeds {span(seeds)}, "
    f"η {span(etas)}), mini-batch {config.batch_size}"
  )


def plural(n: int, word: str) -> str:
  """ "1 epoch", "30 epochs"."""
  return f"{n} {word}" + ("" if n == 1 else "s")


def header(config: TrainConfig, splits: Splits, mesh, done: int) -> str:
  """The run's first line: what is trained, on what, where."""
  sets = ", ".join(
    f"{len(d.x):,} {name}" for name, d in zip(("training", "validation", "test"), splits)
  )
  return (
    f"jaxnets: {what(config)}, mini-batch {config.batch_size}, {plural(config.epochs, 'epoch')}, "
    f"{config.optimizer}, {config.dtype}; {config.dataset}: {sets} examples; "
    f"on {jax.devices()[0].platform} ({plural(mesh.size if mesh else 1, 'device')})"
    + (f"; resuming after epoch {done - 1}" if done else "")
  )
