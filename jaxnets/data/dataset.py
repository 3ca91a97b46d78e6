"""A dataset's examples and its three splits, the form every data source gives."""

from typing import Any, NamedTuple

import jax
import numpy as np

from jaxnets._checks import InputError, short


class DataError(InputError):
  """Data that can't be had, or isn't what it claims to be."""


class Dataset(NamedTuple):
  """Examples: inputs x (N, n_in) of real numbers, and y: integer labels (N,) for classification
  or real targets (N, n_out) for regression."""

  x: np.ndarray | jax.Array
  y: np.ndarray | jax.Array


class Splits(NamedTuple):
  """A dataset's training, validation and test sets."""

  train: Dataset
  validation: Dataset
  test: Dataset


def as_dataset(data: Any, name: str) -> Dataset:
  """`data` as a `Dataset`: a `Dataset`, or a pair (x, y)."""
  if isinstance(data, Dataset):
    return data
  if isinstance(data, (tuple, list)) and len(data) == 2:
    return Dataset(*data)
  raise InputError(f"the {name} set is {short(data)}; expected a Dataset(x, y) or a pair (x, y)")
