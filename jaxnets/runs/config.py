"""One frozen config describes a training run; it is saved with the run as JSON.

A config comes from defaults (the book's run), then a JSON or TOML file, then command-line flags,
each overriding the one before. Every field is validated on construction, so a bad value fails
before any work starts, with a message naming the field, the value and what was expected.
"""

import dataclasses
import json
import os
import tomllib
from typing import Any, Literal

import optax

from jaxnets._checks import InputError, check_eta, check_int, check_sizes
from jaxnets.sgd import SGD

OPTIMIZERS = {
  "sgd": SGD,
  "momentum": optax.inject_hyperparams(optax.sgd, static_args=("momentum", "nesterov"))(
    learning_rate=3.0, momentum=0.9
  ),
  "adam": optax.inject_hyperparams(optax.adam, static_args=("b1", "b2", "eps", "eps_root"))(
    learning_rate=3.0
  ),
}
"""The optimizers a config can name, each with its learning rate η in its state."""


class ConfigError(InputError):
  """A config value that is out of range or of the wrong kind."""


@dataclasses.dataclass(frozen=True)
class TrainConfig:
  """A training run: the book's [784, 30, 10], η = 3.0, mini-batch 10, 30 epochs by default.

  Attributes:
    sizes: neurons per layer, input first.
    epochs: how many epochs in all (a resumed run continues up to this number).
    batch_size: the mini-batch size m.
    eta: the learning rate η.
    seed: seeds the initial weights and every epoch's shuffle.
    init: "normal" (N(0, 1), the book's) or "scaled" (N(0, 1)/√n_in) initial weights.
    optimizer: "sgd" (the book's), "momentum" (SGD with momentum 0.9) or "adam".
    dataset: which data to train on: "mnist" (bundled), a .csv or .npz file, "idx:PATH", or a
      TFDS name.
    data_dir: where TFDS datasets are looked for (None: $TFDS_DATA_DIR, else
      ~/tensorflow_datasets).
    train_size: use only the first `train_size` training examples (None: all of them).
    checkpoint_every: save a checkpoint every this many epochs (and at the end).
    init_from: start from the network saved at this path instead of random weights.
    reinit_output: with `init_from`, draw a new random output layer (transfer learning).
    data_parallel: shard every mini-batch over all visible devices.
    seeds: train a population, one member per seed (and per η of `etas`), all at once.
    etas: train a population, one member per η (and per seed of `seeds`).
    shared_shuffle: every member of a population takes the same mini-batches (the first
      seed's shuffle), which batches their products: faster, rounding differs from single runs.
    dtype: "float32" (default) or "float64" (the book's NumPy arithmetic; JAX's x64 mode).
    label_column: a .csv dataset's label column: a header name, or a number from 1 (the first,
      the default; -1 the last).
    targets: a .csv dataset's regression target columns (names or numbers), instead of labels.
    scale: a .csv or .npz dataset's inputs are divided by this (255 for pixels 0..255).
    train_accuracy: also evaluate the training set's accuracy after every epoch.
  """

  sizes: tuple[int, ...] = (784, 30, 10)
  epochs: int = 30
  batch_size: int = 10
  eta: float = 3.0
  seed: int = 0
  init: Literal["normal", "scaled"] = "normal"
  optimizer: str = "sgd"
  dataset: str = "mnist"
  data_dir: str | None = None
  train_size: int | None = None
  checkpoint_every: int = 1
  init_from: str | None = None
  reinit_output: bool = False
  data_parallel: bool = False
  seeds: tuple[int, ...] | None = None
  etas: tuple[float, ...] | None = None
  shared_shuffle: bool = False
  dtype: Literal["float32", "float64"] = "float32"
  label_column: int | str | None = None
  targets: tuple[int | str, ...] | None = None
  scale: float | None = None
  train_accuracy: bool = False

  def __post_init__(self):
    try:
      object.__setattr__(self, "sizes", check_sizes(self.sizes))
      for name, minimum in (("epochs", 1), ("batch_size", 1), ("checkpoint_every", 1)):
        check_int(name, getattr(self, name), minimum)
      check_int("seed", self.seed)
      if self.train_size is not None:
        check_int("train_size", self.train_size, 1)
      object.__setattr__(self, "eta", check_eta(self.eta))
      for name, check in (("seeds", lambda v: check_int("seed", v)), ("etas", check_eta)):
        values = getattr(self, name)
        if values is not None:
          if not isinstance(values, (list, tuple)) or not values:
            raise InputError(f"{name}={values!r}; expected a non-empty list")
          object.__setattr__(self, name, tuple(check(v) for v in values))
    except InputError as e:
      raise ConfigError(str(e)) from None
    for name, choices in (("init", ("normal", "scaled")), ("optimizer", tuple(OPTIMIZERS))):
      if getattr(self, name) not in choices:
        raise ConfigError(f"{name}={getattr(self, name)!r}; expected one of {list(choices)}")
    if not isinstance(self.dataset, str) or not self.dataset:
      raise ConfigError(f"dataset={self.dataset!r}; expected a non-empty string")
    for name in ("init_from", "data_dir"):
      if getattr(self, name) is not None and not isinstance(getattr(self, name), str):
        raise ConfigError(f"{name}={getattr(self, name)!r}; expected a path")
    if self.dtype not in ("float32", "float64"):
      raise ConfigError(f"dtype={self.dtype!r}; expected one of ['float32', 'float64']")
    self._check_file_options()
    for name in ("reinit_output", "data_parallel", "shared_shuffle", "train_accuracy"):
      if not isinstance(getattr(self, name), bool):
        raise ConfigError(f"{name}={getattr(self, name)!r}; expected true or false")
    if self.shared_shuffle and not self.is_population:
      raise ConfigError(
        "shared_shuffle=true needs a population: several seeds (--seeds) or learning rates (--eta)"
      )
    if self.data_parallel and self.is_population:
      raise ConfigError(
        "data_parallel=true shards one network's mini-batches over devices; expected a single "
        "network, not a population (seeds or several etas)"
      )
    if self.reinit_output and self.init_from is None:
      raise ConfigError(
        "reinit_output=true needs init_from (the network whose hidden layers are kept)"
      )

  @property
  def is_file(self) -> bool:
    """Whether the dataset is a .csv or .npz file of the user's."""
    return os.path.splitext(self.dataset)[1].lower() in (".csv", ".npz")

  def _check_file_options(self) -> None:
    def column(v):
      if isinstance(v, bool) or not isinstance(v, (int, str)) or v in ("", 0):
        raise ConfigError(
          f"column {v!r}; expected a header name or a column number from 1 (the first), or "
          "negative from -1 (the last)"
        )
      return v

    if self.label_column is not None:
      column(self.label_column)
    if self.targets is not None:
      if not isinstance(self.targets, (list, tuple)) or not self.targets:
        raise ConfigError(f"targets={self.targets!r}; expected a non-empty list of columns")
      object.__setattr__(self, "targets", tuple(column(v) for v in self.targets))
      if self.label_column is not None:
        raise ConfigError("label_column and targets name the outputs twice; expected one")
    if self.scale is not None:
      if (
        isinstance(self.scale, bool)
        or not isinstance(self.scale, (int, float))
        or not (0 < self.scale < float("inf"))
      ):
        raise ConfigError(f"scale={self.scale!r}; expected a finite number > 0 (255 for pixels)")
      object.__setattr__(self, "scale", float(self.scale))
    given = [n for n in ("label_column", "targets", "scale") if getattr(self, n) is not None]
    if given and isinstance(self.dataset, str) and not self.is_file:
      raise ConfigError(
        f"{', '.join(given)} {'applies' if len(given) == 1 else 'apply'} to a .csv or .npz "
        f"dataset; dataset={self.dataset!r} is not one"
      )
    if self.targets is not None and os.path.splitext(self.dataset)[1].lower() == ".npz":
      raise ConfigError("targets choose a .csv file's columns; an npz's y holds its targets")

  @property
  def members(self) -> list[tuple[int, float]]:
    """(seed, η) of each member: every seed with every η, seeds outer."""
    return [(s, e) for s in (self.seeds or (self.seed,)) for e in (self.etas or (self.eta,))]

  @property
  def is_population(self) -> bool:
    """Whether the run trains several networks at once (`seeds` or `etas` given)."""
    return self.seeds is not None or self.etas is not None

  def make_optimizer(self) -> optax.GradientTransformation:
    """The optax optimizer this config names, η in its state (`jaxnets.with_learning_rate`):
    the same object for every η, so one compiled epoch serves them all."""
    return OPTIMIZERS[self.optimizer]

  def replace(self, **changes: Any) -> "TrainConfig":
    return dataclasses.replace(self, **changes)

  def to_dict(self) -> dict[str, Any]:
    d = dataclasses.asdict(self)
    d["sizes"] = list(self.sizes)
    for name in ("seeds", "etas", "targets"):
      if d[name] is not None:
        d[name] = list(d[name])
    return d

  @classmethod
  def from_dict(cls, d: dict[str, Any], base: "TrainConfig | None" = None) -> "TrainConfig":
    """A config from a dict (a file's contents) over `base`; unknown keys are an error."""
    if not isinstance(d, dict):
      raise ConfigError(f"a config must be a table of keys and values; got {type(d).__name__}")
    known = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(d) - set(known))
    if unknown:
      raise ConfigError(f"unknown config key(s) {unknown}; expected some of {known}")
    return dataclasses.replace(base or cls(), **d)

  def to_json(self) -> str:
    return json.dumps(self.to_dict(), indent=2) + "\n"


def load_config_file(path: str, base: TrainConfig | None = None) -> TrainConfig:
  """A config from a .json or .toml file, over `base` (default: the book's run)."""
  if not os.path.isfile(path):
    raise ConfigError(f"config file {path!r} does not exist")
  try:
    if path.endswith(".toml"):
      with open(path, "rb") as f:
        d = tomllib.load(f)
    elif path.endswith(".json"):
      with open(path) as f:
        d = json.load(f)
    else:
      raise ConfigError(f"config file {path!r} must end in .json or .toml")
  except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as e:
    raise ConfigError(f"config file {path!r} can't be parsed: {e}") from e
  return TrainConfig.from_dict(d, base)
