"""One frozen config describes a training run; it is saved with the run as JSON."""

import dataclasses
import json
import math
from typing import Any


class ConfigError(ValueError):
  """A config value that is out of range or of the wrong kind."""


@dataclasses.dataclass(frozen=True)
class TrainConfig:
  """A training run: the book's [784, 30, 10], η = 3.0, mini-batch 10, 30 epochs by default."""

  sizes: tuple[int, ...] = (784, 30, 10)
  epochs: int = 30
  batch_size: int = 10
  eta: float = 3.0
  seed: int = 0
  init: str = "normal"
  dataset: str = "mnist"
  data_dir: str | None = None
  data_parallel: bool = False

  def __post_init__(self):
    object.__setattr__(self, "sizes", tuple(self.sizes))
    if len(self.sizes) < 2:
      raise ConfigError(
        f"sizes {list(self.sizes)} has {len(self.sizes)} layer(s); expected at "
        "least 2, e.g. 784 30 10"
      )
    for i, n in enumerate(self.sizes):
      if not _is_int(n) or n <= 0:
        raise ConfigError(f"sizes[{i}] = {n!r}; expected a positive integer")
    if not _is_int(self.epochs) or self.epochs < 1:
      raise ConfigError(f"epochs = {self.epochs!r}; expected an integer ≥ 1")
    if not _is_int(self.batch_size) or self.batch_size < 1:
      raise ConfigError(f"batch_size = {self.batch_size!r}; expected an integer ≥ 1")
    if (
      isinstance(self.eta, bool)
      or not isinstance(self.eta, (int, float))
      or not math.isfinite(self.eta)
      or self.eta <= 0
    ):
      raise ConfigError(f"eta = {self.eta!r}; expected a finite number > 0")
    if not _is_int(self.seed):
      raise ConfigError(f"seed = {self.seed!r}; expected an integer")
    if self.init not in ("normal", "scaled"):
      raise ConfigError(f"init = {self.init!r}; expected 'normal' or 'scaled'")

  def to_dict(self) -> dict[str, Any]:
    d = dataclasses.asdict(self)
    d["sizes"] = list(self.sizes)
    return d

  @classmethod
  def from_dict(cls, d: dict[str, Any]) -> "TrainConfig":
    """A config from a dict (a JSON file's contents); unknown keys are an error."""
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(d) - known)
    if unknown:
      raise ConfigError(f"unknown config key(s) {unknown}; expected some of {sorted(known)}")
    return cls(**d)

  def to_json(self) -> str:
    return json.dumps(self.to_dict(), indent=2)


def _is_int(v: Any) -> bool:
  return isinstance(v, int) and not isinstance(v, bool)
