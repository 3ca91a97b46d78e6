"""A run's record: its metrics, one entry per epoch, JSON-ready.

`History` is one network's (a float per epoch); `PopulationHistory` a population's (a list of one
float per member, per epoch), whose `member(k)` is member k's `History`.
"""

import dataclasses
from typing import Any

import numpy as np

from jaxnets._checks import InputError, check_int

__all__ = ["History", "PopulationHistory"]


@dataclasses.dataclass
class History:
  """Per-epoch metrics of one network's run, one float per epoch: "train_cost" (the mean of the
  epoch's mini-batch costs), "train_accuracy" (on the whole training set after the epoch, where
  `fit(train_accuracy=True)` asks for it), "validation_cost", "validation_accuracy", "test_cost",
  "test_accuracy" (fractions) and "epoch_seconds". A set that was not given, a metric not asked
  for, and the accuracy of regression targets have no values (their lists stay empty)."""

  train_cost: list = dataclasses.field(default_factory=list)
  train_accuracy: list = dataclasses.field(default_factory=list)
  validation_cost: list = dataclasses.field(default_factory=list)
  validation_accuracy: list = dataclasses.field(default_factory=list)
  test_cost: list = dataclasses.field(default_factory=list)
  test_accuracy: list = dataclasses.field(default_factory=list)
  epoch_seconds: list = dataclasses.field(default_factory=list)

  @staticmethod
  def value(a: Any) -> Any:
    """One epoch's value of a metric, as this history holds it: a float."""
    return float(a)

  def append(self, metrics: dict[str, Any]) -> dict[str, Any]:
    """Records an epoch's metrics (those it has); returns them as recorded."""
    recorded = {k: float(v) if k == "epoch_seconds" else self.value(v) for k, v in metrics.items()}
    for name, v in recorded.items():
      getattr(self, name).append(v)
    return recorded

  def as_dict(self) -> dict[str, list]:
    """The metrics that have values, JSON-ready."""
    return {k: v for k, v in dataclasses.asdict(self).items() if v}

  @classmethod
  def from_dict(cls, d: dict[str, list]) -> "History":
    """A history from `as_dict`'s output (as saved in a checkpoint)."""
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: list(v) for k, v in d.items() if k in names})


@dataclasses.dataclass
class PopulationHistory(History):
  """Per-epoch metrics of a population's run: for each metric and epoch a list of one float per
  member ("epoch_seconds" stays one float per epoch: the members train at once)."""

  @staticmethod
  def value(a: Any) -> Any:
    """One epoch's value of a metric, as this history holds it: one float per member."""
    return [float(v) for v in np.asarray(a).ravel()]

  @property
  def members(self) -> int | None:
    """The population's size M (None before the first epoch)."""
    return len(self.train_cost[0]) if self.train_cost else None

  def member(self, k: int) -> History:
    """The history of member k, as one network's."""
    if self.members is None:
      raise InputError("member(): this population's history holds no epoch yet")
    check_int("k", k, 0, self.members - 1)
    return History(**{
      name: [v if name == "epoch_seconds" else v[k] for v in values]
      for name, values in dataclasses.asdict(self).items()
    })  # fmt: skip
