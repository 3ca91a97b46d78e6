"""Your own data in a CSV file, in the book's three splits (`jaxnets.data.load_csv`).

One example per line, numbers separated by commas, with or without a header line (a first line
with any field that is not a number is a header). One column holds the class label (the first by
default: Kaggle's MNIST files), the others are the inputs; or, for regression, `targets` names the
columns of the desired outputs (real numbers) and the others are the inputs. Columns are named by
their header name, or numbered from 1 (the first) as an editor or a spreadsheet shows them,
negative numbers counting from the last (-1). Every problem is reported with its line and column:
a ragged line, a field that is not a number, a label that is not an integer ≥ 0 (or beyond the
network's outputs, where `n_out` is given), an empty file, too few lines.

The inputs are divided by `scale` where given (255 for pixels 0..255), else taken as given, as
float32. The file's last sixth (at most 10,000 examples) is the test set, and the last sixth of
the rest (at most 10,000) the validation set (`validation_size` to choose), as for every dataset:
a CSV of MNIST's 60,000 training images then its 10,000 test images gives the book's 50,000 /
10,000 / 10,000, bit for bit (k / 255 in float32, as the bundled copy's).
"""

import csv
import math
import os
import warnings
from collections.abc import Iterator, Sequence

import numpy as np

from jaxnets.data.dataset import DataError, Splits
from jaxnets.data.splits import carve, scaled

__all__ = ["load_csv"]

Column = int | str


def _number(field: str) -> float | None:
  try:
    return float(field)
  except ValueError:
    return None


def _numbered(path: str) -> Iterator[tuple[int, list[str]]]:
  with open(path, newline="", encoding="utf-8-sig") as f:
    reader = csv.reader(f)
    for row in reader:
      if row and any(field.strip() for field in row):
        yield reader.line_num, row


class _Columns:
  """A CSV's columns: header names (if any) and how to name column i in a message."""

  def __init__(self, path: str, header: list[str] | None, width: int):
    self.path, self.header, self.width = path, header, width

  def name(self, i: int) -> str:
    label = f" ({self.header[i].strip()!r})" if self.header and self.header[i].strip() else ""
    return f"column {i + 1}{label}"

  def index(self, column: Column, what: str) -> int:
    """The 0-based index of a column named by header name, or numbered from 1 (or from -1)."""
    if isinstance(column, str) and not column.lstrip("-").isdigit():
      names = [h.strip() for h in self.header or []]
      if column in names:
        return names.index(column)
      known = f"its header names {names[:8]}{' ...' if len(names) > 8 else ''}"
      raise DataError(
        f"{what} {column!r}: CSV file {self.path!r} has no such column; expected "
        + (known if names else "a column number (the file has no header line)")
      )
    number = int(column)
    if isinstance(column, bool) or not (1 <= number <= self.width or -self.width <= number <= -1):
      raise DataError(
        f"{what} {column!r}: CSV file {self.path!r} has {self.width} columns; expected a "
        f"column number from 1 (the first) to {self.width}, -1 (the last), or a header name"
      )
    return number - 1 if number > 0 else self.width + number


def _first_problem(path: str, columns: _Columns, start: int) -> str:
  """The first ragged line or field that is not a finite number, as a message (slow: only once
  NumPy has refused the file)."""
  for line, row in _numbered(path):
    if line <= start:
      continue
    if len(row) != columns.width:
      return (
        f"CSV file {path!r}, line {line}: {len(row)} fields; expected {columns.width}, as in "
        "its first line (a ragged line)"
      )
    for i, field in enumerate(row):
      value = _number(field)
      if value is None or not math.isfinite(value):
        kind = "is not a number" if value is None else "is not a finite number"
        return (
          f"CSV file {path!r}, line {line}, {columns.name(i)}: {field.strip()!r} {kind}; "
          "expected numbers only"
        )
  return ""


def _bad_label(path: str, columns: _Columns, start: int, i: int, n_out: int | None) -> str:
  """The first label that is not an integer in range, as a message."""
  for line, row in _numbered(path):
    if line <= start:
      continue
    value = float(row[i])
    if value != int(value) or value < 0 or (n_out is not None and value >= n_out):
      where = f"CSV file {path!r}, line {line}, {columns.name(i)}"
      if value != int(value) or value < 0:
        return (
          f"{where}: {row[i].strip()!r} is not a class label; expected an integer ≥ 0 (for "
          "regression, name the target columns: targets= in Python, --targets on the command "
          "line)"
        )
      assert n_out is not None
      return (
        f"{where}: label {int(value)} is beyond the network's {n_out} outputs; expected "
        f"labels 0..{n_out - 1}, or a network of at least {int(value) + 1} outputs"
      )
  return ""


def _parse(path: str, skip: int, columns: _Columns) -> np.ndarray:
  """The lines after the first `skip` as an array (n, width): integers where every field is one
  (NumPy parses them about 5× faster than floats: 1.5 s for MNIST's 70,000 lines), else floats."""
  for dtype in (np.int64, np.float64):
    try:
      with warnings.catch_warnings():  # no lines of data: said by the caller, in its words
        warnings.simplefilter("ignore", UserWarning)
        return np.loadtxt(
          path, delimiter=",", skiprows=skip, dtype=dtype, ndmin=2, comments=None,
          quotechar='"', encoding="utf-8-sig",
        )  # fmt: skip
    except (ValueError, OverflowError) as e:
      error = e
  raise DataError(_first_problem(path, columns, skip) or f"CSV file {path!r}: {error}")


def load_csv(
  path: str | os.PathLike,
  *,
  label_column: Column | None = None,
  targets: Sequence[Column] | None = None,
  scale: float | None = None,
  validation_size: int | None = None,
  n_out: int | None = None,
) -> Splits:
  """A CSV file in the book's three splits (see the module's docstring for its form).

  Args:
    path: the file.
    label_column: the column of the class labels: a header name, or a number from 1 (the
      first; -1 the last); default the first. Not with `targets`.
    targets: for regression, the columns of the desired outputs (names or numbers).
    scale: divide the inputs by this (255 for pixels 0..255); default: as given.
    validation_size: how many of the last training examples form the validation set.
    n_out: the network's outputs, where known: labels must be below it, targets as many.

  Returns:
    `Splits(train, validation, test)`: x float32 (n, n_in), labels int32 (n,) or targets
    float32 (n, k), read-only.

  Raises:
    DataError: one line naming the file, the line and the column of the first problem.
  """
  path = os.fspath(path)
  if not os.path.isfile(path):
    raise DataError(f"CSV file {path!r} does not exist or is not a file")
  if label_column is not None and targets is not None:
    raise DataError("label_column and targets name the desired outputs twice; expected one")
  try:
    first = next(_numbered(path), None)
  except (UnicodeDecodeError, csv.Error) as e:
    raise DataError(f"CSV file {path!r} is not text in UTF-8 ({e}); expected a CSV file") from e
  if first is None:
    raise DataError(f"CSV file {path!r} is empty; expected lines of numbers, the label first")
  start, fields = first
  header = fields if any(_number(f) is None for f in fields) else None
  columns = _Columns(path, header, len(fields))
  skip = start if header is not None else start - 1
  data = _parse(path, skip, columns)
  if data.size == 0:
    raise DataError(f"CSV file {path!r} has a header line but no lines of data; expected some")
  if data.shape[1] != columns.width or not np.isfinite(data).all():
    raise DataError(_first_problem(path, columns, skip) or f"CSV file {path!r} is malformed")
  if targets is not None:
    if isinstance(targets, (str, int)) or not len(targets):
      raise DataError(f"targets={targets!r}; expected a list of column names or numbers")
    out = [columns.index(c, "target column") for c in targets]
    if n_out is not None and len(out) != n_out:
      raise DataError(
        f"CSV file {path!r}: {len(out)} target column(s) {list(targets)} for a network of "
        f"{n_out} outputs; expected {n_out} target columns"
      )
    y = data[:, out].astype(np.float32)
  else:
    i = columns.index(1 if label_column is None else label_column, "label column")
    labels = data[:, i]
    if (
      (labels != np.round(labels)).any()
      or labels.min() < 0
      or (n_out is not None and labels.max() >= n_out)
    ):
      raise DataError(_bad_label(path, columns, skip, i, n_out))
    out = [i]
    y = labels.astype(np.int32)
  inputs = [c for c in range(columns.width) if c not in out]
  if not inputs:
    raise DataError(f"CSV file {path!r} has no input columns; expected some beside the outputs")
  x = scaled(data[:, inputs], scale, path)
  return carve(f"CSV file {path!r}", (x, y), None, None, validation_size)
